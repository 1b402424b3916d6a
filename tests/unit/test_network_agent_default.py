"""Whether `kumo up` runs the network agent ("auto" by default), and saying why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.agents.network import capability
from kumo.app import build_app
from kumo.cli.state import StateDir
from kumo.cli.status import _network_agent
from kumo.common.config import Settings


def test_the_default_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUMO_NETWORK_AGENT")  # tests/conftest.py opts every test cloud out
    assert Settings().network_agent == "auto"
    for raw, value in (("false", False), ("true", True), ("auto", "auto"), ("0", False)):
        monkeypatch.setenv("KUMO_NETWORK_AGENT", raw)
        assert Settings().network_agent == value
    monkeypatch.setenv("KUMO_NETWORK_AGENT", "sometimes")
    with pytest.raises(ValueError):
        Settings()


def test_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    auto, on, off = (Settings(network_agent=v) for v in ("auto", True, False))
    monkeypatch.setattr(capability, "unavailable_reason", lambda: "missing dnsmasq")
    assert capability.decide(auto, role_all=True) == capability.Decision(
        False, "not started: missing dnsmasq"
    )
    forced = capability.decide(on, role_all=True)
    assert forced.run and "although missing dnsmasq" in forced.reason
    assert not capability.decide(off, role_all=True).run
    assert not capability.decide(on, role_all=False).run  # role api never runs it
    monkeypatch.setattr(capability, "unavailable_reason", lambda: None)
    assert capability.decide(auto, role_all=True).run
    workers = capability.decide(Settings(network_agent="auto", api_workers=4), role_all=True)
    assert not workers.run and "api_workers is 4" in workers.reason


def test_unavailable_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capability.os, "geteuid", lambda: 1000)
    assert "not running as root" in str(capability.unavailable_reason())
    monkeypatch.setattr(capability.os, "geteuid", lambda: 0)
    monkeypatch.setattr(
        capability.shutil, "which", lambda tool: None if tool == "dnsmasq" else "/bin/" + tool
    )
    assert capability.unavailable_reason() == "missing dnsmasq (apt install dnsmasq-base)"


def test_status_shows_the_decision(tmp_path: Path) -> None:
    state = StateDir(Settings(state_dir=tmp_path))
    assert "unknown" in _network_agent(state)
    capability.write_status(tmp_path, capability.Decision(False, "not started: not root"))
    assert "not started: not root" in _network_agent(state)
    capability.write_status(tmp_path, capability.Decision(True, "root, ip, nft and dnsmasq"))
    assert _network_agent(state) == "[green]running (root, ip, nft and dnsmasq)[/]"


def test_opted_out_cloud_records_why_and_runs_no_agent(ident: Any) -> None:
    settings = ident.settings
    assert settings.network_agent is False  # the explicit opt-out of test clouds
    with TestClient(build_app(settings, ident.db), base_url="http://127.0.0.1:8780"):
        status = capability.read_status(settings.state_dir)
    assert status is not None and status["run"] is False
    assert "KUMO_NETWORK_AGENT=false" in str(status["reason"])
    assert not (settings.state_dir / "network" / "owned.json").exists()
