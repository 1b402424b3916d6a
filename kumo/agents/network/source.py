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
}


class ApiStateSource:
    """Builds :class:`DesiredState` from the Networking API."""

    def __init__(self, session: ServiceSession, host: str) -> None:
        self.session = session
        self.host = host

    async def _list(self, key: str) -> list[dict[str, Any]]:
        response = await self.session.request("GET", "network", _COLLECTIONS[key])
        items: list[dict[str, Any]] = response.json()[key]
        return items

    async def fetch(self) -> DesiredState:
        """Every resource the data plane reflects (all projects)."""
        keys = list(_COLLECTIONS)
        results = await asyncio.gather(*(self._list(k) for k in keys))
        state = DesiredState(**dict(zip(keys, results, strict=True)))
        await self._ensure_dhcp_ports(state)
        return state

    async def _ensure_dhcp_ports(self, state: DesiredState) -> None:
        """Create the DHCP port of networks that need one (Neutron's DHCP agent does too)."""
        for network in state.networks:
            nid = str(network["id"])
            subnets = dhcp_subnets(state, nid)
            if not subnets or dhcp_port(state, nid) is not None:
                continue
            body = {
                "network_id": nid,
                "device_owner": DHCP_OWNER,
                "device_id": f"dhcp-{self.host}-{nid}",
                "fixed_ips": [{"subnet_id": s["id"]} for s in subnets],
                "project_id": network.get("project_id") or network.get("tenant_id"),
            }
            try:
                response = await self.session.request(
                    "POST", "network", "/v2.0/ports", json={"port": body}, what="dhcp port"
                )
            except Exception:
                log.warning("could not create the DHCP port of %s", nid, exc_info=True)
                continue
            state.ports.append(response.json()["port"])
