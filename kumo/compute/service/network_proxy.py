"""Nova's nova-network proxy APIs, answered by asking the networking API (Neutron).

Nova (with Neutron) keeps no security groups, floating IPs or networks of its own:
``os-security-groups``, ``os-floating-ips``, ``os-networks`` and friends call Neutron
with the caller's token and translate the answer into the nova-network shapes.
:class:`NeutronProxy` is that client; the API modules turn its domain errors into
Nova's messages. It is kept on the compute app's state (``network_proxy``) so tests
can point it at an in-process networking API.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import quote

import httpx

from kumo.common import errors
from kumo.common.clients.base import ServiceSession
from kumo.common.config import Settings
from kumo.common.context import RequestContext

#: Neutron's own protocol names that nova-network rules may name.
RULE_PROTOCOLS = ("TCP", "UDP", "ICMP")


def _seg(value: object) -> str:
    """One path segment, percent-encoded: an id from the caller's URL may hold ``/``,
    ``?``, control characters or non-ASCII, which must not reshape (or break) the
    networking API URL (`make fuzz` found 500s on ``/os-floating-ips/%03``)."""
    return quote(str(value), safe="")


class NeutronProxy:
    """The networking API calls of Nova's proxy routes, made with the caller's token."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.transport = transport
        self._session: ServiceSession | None = None

    @property
    def session(self) -> ServiceSession:
        """The service session (made on first use)."""
        if self._session is None:
            self._session = ServiceSession(self.settings, transport=self.transport)
        return self._session

    async def call(
        self,
        ctx: RequestContext,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        as_service: bool = False,
    ) -> dict[str, Any]:
        """One networking API call (``/v2.0`` + ``path``); its JSON body ({} when none).

        ``as_service`` uses the service token (reading another project's port, as
        Nova's admin client does for a floating IP's server).
        """
        response = await self.session.request(
            method,
            "network",
            "/v2.0" + path,
            json=json,
            params=params,
            user_token=None if as_service else ctx.token_id,
            what="network",
        )
        if response.status_code == 204 or not response.content:
            return {}
        body: dict[str, Any] = response.json()
        return body

    # --- security groups ---------------------------------------------------

    async def security_group(self, ctx: RequestContext, group_id: str) -> dict[str, Any]:
        """One security group (NotFound when missing or hidden)."""
        group: dict[str, Any] = (await self.call(ctx, "GET", f"/security-groups/{_seg(group_id)}"))[
            "security_group"
        ]
        return group

    async def security_groups(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Security groups matching ``params``."""
        found: list[dict[str, Any]] = (
            await self.call(ctx, "GET", "/security-groups", params=params)
        )["security_groups"]
        return found

    async def find_security_group(self, ctx: RequestContext, name_or_id: str) -> str:
        """The id of the caller's project's group named (or with id) ``name_or_id``.

        NotFound when none; Conflict when the name is not unique (Nova's NoUniqueMatch).
        """
        by_name = await self.security_groups(
            ctx, {"name": name_or_id, "project_id": ctx.project_id}
        )
        if len(by_name) > 1:
            raise errors.Conflict(
                f"Multiple security_group matches found for name '{name_or_id}', "
                "use an ID to be more specific."
            )
        if by_name:
            return str(by_name[0]["id"])
        try:
            return str((await self.security_group(ctx, name_or_id))["id"])
        except errors.NotFound:
            raise errors.NotFound(
                f"Security group {name_or_id} is not found for project {ctx.project_id}"
            ) from None

    async def server_ports(self, ctx: RequestContext, server_id: str) -> list[dict[str, Any]]:
        """The ports whose device is ``server_id``."""
        ports: list[dict[str, Any]] = (
            await self.call(ctx, "GET", "/ports", params={"device_id": server_id})
        )["ports"]
        return ports

    async def server_security_groups(
        self, ctx: RequestContext, server_id: str
    ) -> list[dict[str, Any]]:
        """The security groups of the server's ports (each once), as Neutron shows them."""
        ids: list[str] = []
        for port in await self.server_ports(ctx, server_id):
            ids += [g for g in port.get("security_groups") or [] if g not in ids]
        if not ids:
            return []
        return await self.security_groups(ctx, {"id": ids})

    async def change_server_security_group(
        self, ctx: RequestContext, server_id: str, name: str, *, add: bool
    ) -> None:
        """Add the group to (or remove it from) every port of the server, as Nova does.

        NotFound when the group does not exist, or (removing) is on none of the ports;
        BadRequest when a port without port security cannot take a group.
        """
        group_id = await self.find_security_group(ctx, name)
        changed = False
        for port in await self.server_ports(ctx, server_id):
            groups = list(port.get("security_groups") or [])
            if add:
                if not port.get("port_security_enabled", True):
                    raise errors.BadRequest(
                        f"Security group {name} cannot be applied to port {port['id']}: "
                        "port security is disabled."
                    )
                if group_id in groups:
                    continue
                groups.append(group_id)
            else:
                if group_id not in groups:
                    continue
                groups.remove(group_id)
            await self.call(
                ctx, "PUT", f"/ports/{_seg(port['id'])}", json={"port": {"security_groups": groups}}
            )
            changed = True
        if not add and not changed:
            raise errors.NotFound(
                f"Security group {name} not associated with the instance {server_id}"
            )

    # --- floating IPs -------------------------------------------------------

    async def floating_ip(self, ctx: RequestContext, fip_id: str) -> dict[str, Any]:
        """One floating IP (NotFound when missing)."""
        fip: dict[str, Any] = (await self.call(ctx, "GET", f"/floatingips/{_seg(fip_id)}"))[
            "floatingip"
        ]
        return fip

    async def floating_ips(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Floating IPs matching ``params``."""
        found: list[dict[str, Any]] = (await self.call(ctx, "GET", "/floatingips", params=params))[
            "floatingips"
        ]
        return found

    async def floating_ip_by_address(self, ctx: RequestContext, address: str) -> dict[str, Any]:
        """The caller's floating IP with ``address`` (NotFound; Conflict when several)."""
        found = await self.floating_ips(ctx, {"floating_ip_address": address})
        if not found:
            raise errors.NotFound(f"Floating IP not found for address {address}.")
        if len(found) > 1:
            raise errors.Conflict(f"Multiple floating IPs are found for address {address}.")
        return found[0]

    async def external_networks(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """The external networks (Nova's floating IP pools)."""
        nets: list[dict[str, Any]] = (
            await self.call(ctx, "GET", "/networks", params={"router:external": "true"})
        )["networks"]
        return nets

    async def fip_view(
        self, ctx: RequestContext, fip: dict[str, Any], pools: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A floating IP in nova-network's shape (pool name, server of its port)."""
        if pools is None:
            pools = {
                str(n["id"]): str(n.get("name") or n["id"])
                for n in await self.external_networks(ctx)
            }
        net_id = str(fip.get("floating_network_id"))
        instance_id = None
        if fip.get("port_id"):
            try:
                port = (
                    await self.call(ctx, "GET", f"/ports/{_seg(fip['port_id'])}", as_service=True)
                )["port"]
                instance_id = port.get("device_id") or None
            except errors.NotFound:
                instance_id = None
        return {
            "id": fip["id"],
            "ip": fip.get("floating_ip_address"),
            "pool": pools.get(net_id, net_id),
            "fixed_ip": fip.get("fixed_ip_address"),
            "instance_id": instance_id,
        }

    # --- networks -----------------------------------------------------------

    async def networks(self, ctx: RequestContext, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Networks visible to the caller matching ``params``."""
        nets: list[dict[str, Any]] = (await self.call(ctx, "GET", "/networks", params=params))[
            "networks"
        ]
        return nets

    async def network(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        """One network (NotFound when missing or hidden)."""
        net: dict[str, Any] = (await self.call(ctx, "GET", f"/networks/{_seg(network_id)}"))[
            "network"
        ]
        return net

    async def first_subnet_cidr(self, ctx: RequestContext, network: dict[str, Any]) -> str | None:
        """The CIDR of the network's first subnet, or None."""
        for subnet_id in network.get("subnets") or []:
            try:
                subnet = (await self.call(ctx, "GET", f"/subnets/{_seg(subnet_id)}"))["subnet"]
            except errors.NotFound:
                continue
            return str(subnet.get("cidr"))
        return None


def is_uuid(value: str) -> bool:
    """Whether ``value`` looks like a UUID (Nova's ``uuidutils.is_uuid_like``)."""
    import uuid

    try:
        return str(uuid.UUID(value)).replace("-", "") == value.replace("-", "").lower()
    except (ValueError, AttributeError, TypeError):
        return False


def valid_cidr(value: str) -> bool:
    """Whether ``value`` is an IPv4/IPv6 network in CIDR form."""
    if "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True
