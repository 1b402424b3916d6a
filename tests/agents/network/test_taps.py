"""A guest tap made after the port events is plugged at once, not at the next resync."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

from kumo.agents.network.agent import NetworkAgent
from kumo.agents.network.linux import ip, names
from kumo.agents.network.plane import DataPlane
from kumo.agents.network.state import DesiredState
from tests.agents.network import netlab


async def _until(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


async def test_new_tap_wakes_the_agent(state_dir: Path) -> None:
    net = {"id": netlab.uid(), "name": "private", "mtu": 1500}
    sub = {"id": netlab.uid(), "network_id": net["id"], "cidr": "10.95.0.0/24"}
    sub["enable_dhcp"] = False
    port = netlab.port(net, sub, "10.95.0.5", 5, "compute:nova")
    desired = DesiredState(networks=[net], subnets=[sub], ports=[port])

    async def fetch() -> DesiredState:
        return desired

    # No periodic resync during the test: only the tap's own link event can plug it.
    agent = NetworkAgent(DataPlane(state_dir), fetch, resync_interval=3600)
    tap = names.tap(port["id"])
    bridge = names.bridge(net["id"])
    agent.start()
    try:
        assert await _until(lambda: ip.link_exists(bridge) and agent.passes >= 1)
        passes = agent.passes
        # What QEMU does when the guest starts: a tap, down, on no bridge.
        subprocess.run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"], check=True)
        started = time.monotonic()

        def plugged() -> bool:
            link = ip.get_link(tap)
            return link is not None and link.master == bridge and link.up

        assert await _until(plugged, timeout=10), ip.get_link(tap)
        print(f"\ntap created -> plugged into its bridge: {time.monotonic() - started:.2f} s")
        assert await _until(lambda: agent.passes > passes)  # a pass of its own did it
    finally:
        await agent.stop()
        ip.delete_link(tap)


async def test_a_failed_pass_is_retried_soon(state_dir: Path) -> None:
    net = {"id": netlab.uid(), "name": "private", "mtu": 1500}
    calls = 0

    async def fetch() -> DesiredState:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the API is not up yet")
        return DesiredState(networks=[net])

    agent = NetworkAgent(DataPlane(state_dir), fetch, resync_interval=3600, watch_guest_taps=False)
    agent.start()
    try:
        # Not an hour later at the resync: about a second after the failure.
        assert await _until(lambda: agent.passes == 1, timeout=10)
        assert calls == 2 and ip.link_exists(names.bridge(net["id"]))
    finally:
        await agent.stop()
