"""The network API, as the compute agent uses it: ports for a server (steps 22–24).

Calls carry the user's token when given (Neutron validates it), like Nova's
``nova.network.neutron``; binding a port to a host needs the service token.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kumo.common import errors
from kumo.common.clients.base import ServiceSession


class NetworkClient:
    """Neutron v2.0 ports and networks through a service session."""

    def __init__(self, session: ServiceSession) -> None:
        self.session = session

    async def available(self) -> bool:
        """Whether the catalog has a network service."""
        try:
            await self.session.endpoint("network")
        except errors.ServiceUnavailable:
            return False
        return True

    async def get_network(
        self, network_id: str, *, user_token: str | None = None
    ) -> dict[str, Any]:
        """One network (``GET /v2.0/networks/{id}``)."""
        response = await self.session.request(
            "GET", "network", f"/v2.0/networks/{network_id}", user_token=user_token, what="network"
        )
        network: dict[str, Any] = response.json()["network"]
        return network

    async def list_networks(
        self, *, user_token: str | None = None, **filters: str
    ) -> list[dict[str, Any]]:
        """Networks visible to the token's project, filtered."""
        response = await self.session.request(
            "GET", "network", "/v2.0/networks", params=filters, user_token=user_token
        )
        networks: list[dict[str, Any]] = response.json()["networks"]
        return networks

    async def create_port(
        self, port: dict[str, Any], *, user_token: str | None = None
    ) -> dict[str, Any]:
        """Create a port (``POST /v2.0/ports``)."""
        response = await self.session.request(
            "POST",
            "network",
            "/v2.0/ports",
            json={"port": port},
            user_token=user_token,
            what="port create",
        )
        created: dict[str, Any] = response.json()["port"]
        return created

    async def update_port(self, port_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Update a port as the service (binding it to a server and host)."""
        response = await self.session.request(
            "PUT", "network", f"/v2.0/ports/{port_id}", json={"port": changes}, what="port update"
        )
        updated: dict[str, Any] = response.json()["port"]
        return updated

    async def get_port(self, port_id: str, *, user_token: str | None = None) -> dict[str, Any]:
        """One port."""
        response = await self.session.request(
            "GET", "network", f"/v2.0/ports/{port_id}", user_token=user_token, what="port"
        )
        port: dict[str, Any] = response.json()["port"]
        return port

    async def list_ports(self, **filters: str) -> list[dict[str, Any]]:
        """Ports matching ``filters`` (as the service: every project)."""
        response = await self.session.request("GET", "network", "/v2.0/ports", params=filters)
        ports: list[dict[str, Any]] = response.json()["ports"]
        return ports

    async def delete_port(self, port_id: str) -> None:
        """Delete a port (a port already gone is not an error)."""
        with contextlib.suppress(errors.NotFound):
            await self.session.request("DELETE", "network", f"/v2.0/ports/{port_id}")
