"""Security group changes never wait for a full pass, and an older fetch never undoes them.

No namespaces, devices or nftables here: the plane below records what it would
apply instead of running ``ip`` and ``nft``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kumo.agents.network import ownership
from kumo.agents.network.agent import TOPIC, NetworkAgent
from kumo.agents.network.plane import DataPlane
from kumo.agents.network.source import ApiStateSource
from kumo.agents.network.state import DesiredState
from kumo.common.bus import InProcessBus

GROUP = "5e1ec7ed-0000-4000-8000-000000000001"
SSH_RULE = {
    "id": "5e1ec7ed-0000-4000-8000-0000000000aa",
    "security_group_id": GROUP,
    "direction": "ingress",
    "ethertype": "IPv4",
    "protocol": "tcp",
    "port_range_min": 22,
    "port_range_max": 22,
}


class RecordingPlane(DataPlane):
    """A data plane that records its steps and the rules it would apply."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        self.steps: list[str] = []
        #: The ids of the rules of every security group state applied, in order.
        self.applied: list[set[str]] = []

    def _sync_security_groups(self, state: DesiredState) -> bool:
        self.steps.append("security groups")
        self.applied.append(
            {str(r["id"]) for g in state.security_groups for r in g["security_group_rules"]}
        )
        return True

    def _bridges(self, state: DesiredState, changes: list[str]) -> None:
        self.steps.append("bridges")

    def _dhcp(self, state: DesiredState, changes: list[str]) -> None:
        self.steps.append("dhcp")

    def _routers(self, state: DesiredState, changes: list[str]) -> None:
        self.steps.append("routers")


@pytest.fixture
def plane(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RecordingPlane:
    """A recording plane whose ownership record stays under ``tmp_path``."""
    monkeypatch.setattr(ownership, "REGISTRY", tmp_path / "run" / "clouds")
    return RecordingPlane(tmp_path / "state")


def _state(rules: list[dict[str, Any]]) -> DesiredState:
    return DesiredState(
        security_groups=[{"id": GROUP, "security_group_rules": [dict(r) for r in rules]}]
    )


async def _until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def test_security_groups_go_first_in_a_full_apply(plane: RecordingPlane) -> None:
    # A guest tap the bridges step plugs is filtered from its first frame.
    assert plane.apply(_state([SSH_RULE])) == ["security groups"]
    assert plane.steps == ["security groups", "bridges", "dhcp", "routers"]


def test_an_older_fetch_never_replaces_a_newer_one(plane: RecordingPlane) -> None:
    assert plane.apply_security_groups(_state([]), fetch=2)
    # Fetch 1 started first and may predate the change fetch 2 shows: skipped.
    assert not plane.apply_security_groups(_state([SSH_RULE]), fetch=1)
    assert plane.apply(_state([SSH_RULE]), fetch=1) == []
    assert plane.applied == [set()]
    assert plane.apply_security_groups(_state([SSH_RULE]), fetch=3)
    assert plane.applied == [set(), {SSH_RULE["id"]}]


async def test_a_rule_delete_does_not_wait_for_a_full_pass(plane: RecordingPlane) -> None:
    api = {"rules": [SSH_RULE]}  # what the API holds now
    full_fetch_started = asyncio.Event()
    release_full_fetch = asyncio.Event()
    full_fetches = 0

    async def fetch() -> DesiredState:
        # Reads the API when it starts, then (after the first pass) takes as long as
        # the test wants: a slow pass (DHCP, routers) on a busy host.
        nonlocal full_fetches
        full_fetches += 1
        seen = _state(api["rules"])
        if full_fetches > 1:
            full_fetch_started.set()
            await release_full_fetch.wait()
        return seen

    async def fetch_security_groups() -> DesiredState:
        return _state(api["rules"])

    agent = NetworkAgent(
        plane,
        fetch,
        fetch_security_groups=fetch_security_groups,
        resync_interval=3600,
        watch_guest_taps=False,
    )
    bus = InProcessBus()
    await bus.start()
    try:
        await bus.serve(TOPIC, agent)
        agent.start()
        assert await _until(lambda: agent.passes == 1)
        assert plane.applied == [{SSH_RULE["id"]}]
        # A router change starts a full pass; it reads the API before the rule goes.
        await bus.cast(TOPIC, "router_update", {"id": "r", "body": {}})
        assert await _until(full_fetch_started.is_set)
        api["rules"] = []
        await bus.cast(TOPIC, "security_group_rule_delete", {"id": SSH_RULE["id"], "body": {}})
        # Applied while that full pass is still under way.
        assert await _until(lambda: agent.security_group_passes == 1)
        assert plane.applied[-1] == set()
        assert agent.passes == 1
        # The full pass ends with the rule it read: the newer state stays.
        release_full_fetch.set()
        assert await _until(lambda: agent.passes == 2)
        assert plane.applied == [{SSH_RULE["id"]}, set()]
        assert agent.last_changes == []
        # A rule change alone starts no full pass (nothing but the tables depends on it).
        api["rules"] = [SSH_RULE]
        await bus.cast(TOPIC, "security_group_rule_create", {"id": SSH_RULE["id"], "body": {}})
        assert await _until(lambda: agent.security_group_passes == 2)
        assert plane.applied[-1] == {SSH_RULE["id"]}
        assert full_fetches == 2
    finally:
        await agent.stop()
        await bus.close()


class _Session:
    """Answers the Networking API's collection GETs; records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    async def request(self, method: str, service: str, path: str, **_: Any) -> httpx.Response:
        self.requests.append((method, path))
        key = path.rsplit("/", 1)[-1].replace("-", "_")
        body = {"security_groups": [{"id": GROUP, "security_group_rules": [SSH_RULE]}]}
        return httpx.Response(200, json={key: body.get(key, [])})


async def test_the_security_group_fetch_reads_only_ports_and_groups() -> None:
    session = _Session()
    source = ApiStateSource(session, "host-1")  # type: ignore[arg-type]
    state = await source.fetch_security_groups()
    assert sorted(session.requests) == [
        ("GET", "/v2.0/ports"),
        ("GET", "/v2.0/security-groups"),
    ]
    assert state.security_groups[0]["security_group_rules"] == [SSH_RULE]
