"""`kumo up`'s default (network_agent "auto"): the agent runs when the host allows it,
reports itself at /v2.0/agents, and its data plane is recorded as this cloud's."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kumo.agents.network import capability
from kumo.agents.network.linux import ip, names
from kumo.agents.network.ownership import Ownership
from kumo.app import build_app
from tests.api.network.conftest import Caller
from tests.conftest import issue

TYPES = {"DHCP agent", "L3 agent", "Metadata agent", "Linux bridge agent"}


def _until(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    return predicate()


def test_auto_starts_the_agent_which_reports_itself(state_dir: Path, ident: Any) -> None:
    assert capability.unavailable_reason() is None  # the netroot fixture checked the same
    settings = ident.settings.model_copy(
        update={"network_agent": "auto", "network_agent_report_interval": 0.5}
    )
    with TestClient(build_app(settings, ident.db), base_url="http://127.0.0.1:8780") as cloud:
        status = capability.read_status(state_dir)
        assert status is not None and status["run"] is True, status
        admin = Caller(cloud, issue(cloud))

        def alive() -> list[dict[str, Any]]:
            agents = admin.get("/agents").json()["agents"]
            ok = {a["agent_type"] for a in agents if a["alive"]} == TYPES
            return agents if ok else []

        agents = _until(alive)
        assert agents, admin.get("/agents").text
        assert {a["host"] for a in agents} == {settings.compute_host}
        aliases = {e["alias"] for e in admin.get("/extensions").json()["extensions"]}
        assert "agent" in aliases
        # The heartbeat goes on (its timestamp has a one-second resolution).
        first = {a["id"]: a["heartbeat_timestamp"] for a in agents}
        assert _until(
            lambda: any(
                a["heartbeat_timestamp"] != first[a["id"]]
                for a in admin.get("/agents").json()["agents"]
            ),
            timeout=30,
        )
        # The data plane runs: a network with a subnet gets its DHCP namespace, recorded
        # as this cloud's.
        net = admin.create("networks", "network", name="auto-net")
        admin.create("subnets", "subnet", network_id=net["id"], cidr="10.93.0.0/24", ip_version=4)
        ns = names.dhcp_namespace(net["id"])
        assert _until(lambda: ip.namespace_exists(ns)), "no DHCP namespace"
        assert ns in Ownership(state_dir).load().namespaces

        def dhcp_networks() -> int:
            agents = admin.get("/agents").json()["agents"]
            dhcp = next(a for a in agents if a["agent_type"] == "DHCP agent")
            return int(dhcp["configurations"]["networks"])

        # A later heartbeat counts the network the agent now serves.
        assert _until(lambda: dhcp_networks() == 1, timeout=30)
