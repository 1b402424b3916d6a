"""The agent: bus events wake a reconcile; the periodic resync repairs drift."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from kumo.agents.network.agent import TOPIC, NetworkAgent
from kumo.agents.network.linux import ip, names
from kumo.agents.network.plane import DataPlane
from kumo.agents.network.state import DesiredState
from kumo.common.bus import InProcessBus
from tests.agents.network import netlab


async def _until(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


async def test_events_and_resync_drive_the_plane(state_dir: Path, topo: netlab.Topology) -> None:
    desired = DesiredState(networks=[topo.net], subnets=[topo.subnet])

    async def fetch() -> DesiredState:
        return desired

    agent = NetworkAgent(DataPlane(state_dir), fetch, resync_interval=0.5)
    bus = InProcessBus()
    await bus.start()
    try:
        await bus.serve(TOPIC, agent)
        agent.start()
        bridge = names.bridge(topo.net["id"])
        assert await _until(lambda: ip.link_exists(bridge))
        # An API change arrives as a cast; the router appears within a second or two.
        desired.networks.append(topo.ext)
        desired.subnets = topo.state.subnets
        desired.ports = topo.state.ports
        desired.routers = topo.state.routers
        started = time.monotonic()
        await bus.cast(TOPIC, "router_create", {"id": topo.router["id"], "body": {}})
        rns = names.router_namespace(topo.router["id"])
        assert await _until(lambda: ip.namespace_exists(rns))
        assert time.monotonic() - started < 15  # seconds on a loaded 2-core host
        assert "router_create" in agent.events
        # Drift: a namespace deleted by hand comes back at the next periodic resync.
        passes = agent.passes
        ip.delete_namespace(rns)
        assert await _until(lambda: ip.namespace_exists(rns) and agent.passes > passes)
        # Steady state: a resync with nothing to do changes nothing.
        passes = agent.passes
        assert await _until(lambda: agent.passes > passes + 1)
        assert agent.last_changes == []
        # Deleting the router in the API removes its namespace.
        desired.routers = []
        await bus.cast(TOPIC, "router_delete", {"id": topo.router["id"], "body": {}})
        assert await _until(lambda: not ip.namespace_exists(rns))
    finally:
        await agent.stop()
        await bus.close()


async def test_unknown_bus_methods_are_refused(state_dir: Path) -> None:
    async def fetch() -> DesiredState:
        return DesiredState()

    agent = NetworkAgent(DataPlane(state_dir), fetch)
    assert callable(agent.port_update)
    for bad in ("shutdown", "__class__", "port_explode"):
        try:
            getattr(agent, bad)()
        except (AttributeError, TypeError):
            continue
        raise AssertionError(f"{bad} was accepted")
