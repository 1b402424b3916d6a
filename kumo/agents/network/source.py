"""Where the agent gets the desired state: the Networking API, as the service user.

Agents never open the database. Reading the API with the service session
(admin + service roles: every project's resources) keeps one source of
truth for ownership and field rendering, needs no extra endpoint, and works
the same from a second host as from the API's own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kumo.agents.network.dhcp import dhcp_port, dhcp_subnets
from kumo.agents.network.state import DHCP_OWNER, DesiredState
from kumo.common.clients.base import ServiceSession

log = logging.getLogger(__name__)

_COLLECTIONS = {
    "networks": "/v2.0/networks",
    "subnets": "/v2.0/subnets",
    "ports": "/v2.0/ports",
    "routers": "/v2.0/routers",
    "floatingips": "/v2.0/floatingips",
    "security_groups": "/v2.0/security-groups",
    # Every host's agent and its tunnel endpoint (VXLAN peers).
    "agents": "/v2.0/agents",
}


class ApiStateSource:
    """Builds :class:`DesiredState` from the Networking API."""

    def __init__(self, session: ServiceSession, host: str, *, network_node: bool = True) -> None:
        self.session = session
        self.host = host
        #: Only the network node serves DHCP, so only it makes and binds DHCP ports.
        self.network_node = network_node

    async def _list(self, key: str) -> list[dict[str, Any]]:
        response = await self.session.request("GET", "network", _COLLECTIONS[key])
        items: list[dict[str, Any]] = response.json()[key]
        return items

    async def fetch(self) -> DesiredState:
        """Every resource the data plane reflects (all projects)."""
        keys = list(_COLLECTIONS)
        results = await asyncio.gather(*(self._list(k) for k in keys))
        state = DesiredState(**dict(zip(keys, results, strict=True)))
        if self.network_node:
            await self._ensure_dhcp_ports(state)
        return state

    async def fetch_security_groups(self) -> DesiredState:
        """Only what the security group tables are made of: ports and security groups."""
        ports, groups = await asyncio.gather(self._list("ports"), self._list("security_groups"))
        return DesiredState(ports=ports, security_groups=groups)

    async def _ensure_dhcp_ports(self, state: DesiredState) -> None:
        """Create the DHCP port of networks that need one (Neutron's DHCP agent does too).

        The port is bound to this host, as Neutron's DHCP agent binds it: other
        hosts then know the network is here (and tunnel to it).
        """
        for network in state.networks:
            nid = str(network["id"])
            subnets = dhcp_subnets(state, nid)
            if not subnets:
                continue
            existing = dhcp_port(state, nid)
            if existing is not None:
                if not existing.get("binding:host_id"):
                    await self._bind(state, existing)
                continue
            body = {
                "network_id": nid,
                "device_owner": DHCP_OWNER,
                "device_id": f"dhcp-{self.host}-{nid}",
                "fixed_ips": [{"subnet_id": s["id"]} for s in subnets],
                "project_id": network.get("project_id") or network.get("tenant_id"),
                "binding:host_id": self.host,
            }
            try:
                response = await self.session.request(
                    "POST", "network", "/v2.0/ports", json={"port": body}, what="dhcp port"
                )
            except Exception:
                log.warning("could not create the DHCP port of %s", nid, exc_info=True)
                continue
            state.ports.append(response.json()["port"])

    async def _bind(self, state: DesiredState, port: dict[str, Any]) -> None:
        """Bind an unbound DHCP port (made before ports were bound) to this host."""
        try:
            response = await self.session.request(
                "PUT",
                "network",
                f"/v2.0/ports/{port['id']}",
                json={"port": {"binding:host_id": self.host}},
                what="dhcp port binding",
            )
        except Exception:
            log.warning("could not bind the DHCP port %s", port["id"], exc_info=True)
            return
        state.ports[state.ports.index(port)] = response.json()["port"]
