"""The network agent's heartbeat: a periodic report through the Networking API.

Kumo's one agent process does the work of Neutron's DHCP, L3, metadata and
Linux bridge agents on its host, so each heartbeat reports those four agent
types (``POST /v2.0/agents`` as the service user), each with Neutron-like
``configurations`` counted from the state the agent last applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from kumo.agents.network import dhcp, router
from kumo.agents.network.state import DesiredState, is_guest_port
from kumo.common.clients.base import ServiceSession

log = logging.getLogger(__name__)


def configurations(
    state: DesiredState | None,
    *,
    metadata_url: str = "",
    network_node: bool = True,
    tunneling_ip: str | None = None,
    host: str = "",
) -> dict[str, dict[str, Any]]:
    """Per agent type, what Neutron's agent of that type reports about its work.

    A compute-only host (not ``network_node``) runs only the Linux bridge agent.
    ``tunneling_ip`` is the host's VXLAN endpoint, which the other hosts tunnel to.
    A compute host counts the guest ports bound to it (``host``), the network node
    every guest port (it serves their networks).
    """
    state = state or DesiredState()
    guests = [p for p in state.ports if is_guest_port(p)]
    if not network_node:
        guests = [p for p in guests if p.get("binding:host_id") == host]
    bridge_agent: dict[str, Any] = {
        "devices": len(guests),
        "bridge_mappings": {},
        "interface_mappings": {},
        "tunnel_types": ["vxlan"],
        "log_agent_heartbeats": False,
    }
    if tunneling_ip:
        bridge_agent["tunneling_ip"] = tunneling_ip
    if not network_node:
        return {"Linux bridge agent": bridge_agent}
    served = dhcp.wanted_networks(state)
    plans = [router.plan(state, r) for r in state.routers]
    return {
        "DHCP agent": {
            "dhcp_driver": "dnsmasq",
            "dhcp_lease_duration": dhcp.LEASE_SECONDS,
            "networks": len(served),
            "subnets": sum(len(dhcp.dhcp_subnets(state, n)) for n in served),
            "ports": sum(len(state.ports_of(n)) for n in served),
            "log_agent_heartbeats": False,
        },
        "L3 agent": {
            "agent_mode": "legacy",
            "routers": len(plans),
            "ex_gw_ports": sum(1 for p in plans if p.gateway is not None),
            "interfaces": sum(len(p.interfaces) for p in plans),
            "floating_ips": sum(len(p.floating) for p in plans),
            "handle_internal_only_routers": True,
            "log_agent_heartbeats": False,
        },
        "Metadata agent": {
            "metadata_proxy_socket": "in the router namespaces (169.254.169.254:80)",
            "nova_metadata_host": metadata_url,
            "log_agent_heartbeats": False,
        },
        "Linux bridge agent": bridge_agent,
    }


class Heartbeat:
    """Reports this host's agents every ``interval`` seconds until stopped."""

    def __init__(
        self,
        session: ServiceSession,
        host: str,
        state: Callable[[], DesiredState | None],
        *,
        interval: float = 30.0,
        metadata_url: str = "",
        network_node: bool = True,
        tunneling_ip: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.host = host
        self.state = state
        self.interval = interval
        self.metadata_url = metadata_url
        self.network_node = network_node
        self.tunneling_ip = tunneling_ip
        self.started_at = clock()
        self.beats = 0
        self._task: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        """One report of every agent type of this host."""
        configs = configurations(
            self.state(),
            metadata_url=self.metadata_url,
            network_node=self.network_node,
            tunneling_ip=self.tunneling_ip,
            host=self.host,
        )
        for agent_type, config in configs.items():
            body = {
                "agent_type": agent_type,
                "host": self.host,
                "configurations": config,
                "started_at": self.started_at,
            }
            await self.session.request(
                "POST", "network", "/v2.0/agents", json={"agent": body}, what="agent heartbeat"
            )
        self.beats += 1

    async def _loop(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:  # the API may be restarting: the next beat tries again
                log.warning("network agent heartbeat failed", exc_info=True)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        """Start beating; the first report goes out at once."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="kumo network agent heartbeat")

    async def stop(self) -> None:
        """Stop beating (the agents then show as dead after the down time)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
