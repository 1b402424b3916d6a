"""/os-networks and /os-tenant-networks: networks as nova-network showed them.

Nova's proxy (to microversion 2.35, then 404) lists Neutron's networks with the
caller's token. ``os-networks`` shows nova-network's fields, only ``id`` and ``label``
filled (admins see the admin fields too, all null); ``os-tenant-networks`` shows
``id``, ``label`` and the first subnet's ``cidr``. The nova-network-only operations
(create, delete, associate, disassociate) are gone: 410, as in Nova since Ussuri.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import Gone, NotFound
from kumo.compute.api.network_proxy_common import admit, open_proxy, proxy
from kumo.compute.api.server_common import is_admin

router = APIRouter()
NETS = "/v2.1/os-networks"
TENANT = "/v2.1/os-tenant-networks"

FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6",
          "gateway_v6", "label", "netmask_v6")  # fmt: skip
ADMIN_FIELDS = ("created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge",
                "vlan", "vpn_public_address", "vpn_public_port", "vpn_private_address",
                "dhcp_start", "project_id", "host", "bridge_interface", "multi_host",
                "priority", "rxtx_base", "mtu", "dhcp_server", "enable_dhcp",
                "share_address")  # fmt: skip
GONE = "This API only works with nova-network, which was removed in the 21.0.0 (Ussuri) release."


def _network_view(net: dict[str, Any], admin: bool) -> dict[str, Any]:
    fields = FIELDS + ADMIN_FIELDS if admin else FIELDS
    view: dict[str, Any] = dict.fromkeys(fields)
    view["id"] = net["id"]
    view["label"] = net.get("name") or ""
    return view


@route(router, "GET", NETS, policy="os_compute_api:os-networks:list")
async def list_networks(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every network the caller can see."""
    admit(request, authz)
    nets = await proxy(request).networks(authz.ctx, {})
    admin = is_admin(authz)
    return {"networks": [_network_view(n, admin) for n in nets]}


async def _get_network(request: Request, authz: Authz, network_id: str) -> dict[str, Any]:
    """The network after the proxy checks; Nova's 404 text when the caller cannot see it."""
    p = open_proxy(request, authz)
    try:
        return await p.network(authz.ctx, network_id)
    except NotFound:
        raise NotFound("Network not found") from None


@route(router, "GET", NETS + "/{network_id}", policy="os_compute_api:os-networks:view")
async def show_network(
    network_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One network."""
    net = await _get_network(request, authz, network_id)
    return {"network": _network_view(net, is_admin(authz))}


def _gone(request: Request, authz: Authz) -> None:
    admit(request, authz)
    raise Gone(GONE)


@route(router, "POST", NETS, policy="os_compute_api:os-networks:list")
def create_network(request: Request, authz: Authz = AuthzDep) -> None:
    """Removed with nova-network: 410."""
    _gone(request, authz)


@route(router, "POST", NETS + "/add", policy="os_compute_api:os-networks:list")
def add_network(request: Request, authz: Authz = AuthzDep) -> None:
    """Removed with nova-network: 410."""
    _gone(request, authz)


@route(router, "DELETE", NETS + "/{network_id}", policy="os_compute_api:os-networks:view")
def delete_network(network_id: str, request: Request, authz: Authz = AuthzDep) -> None:
    """Removed with nova-network: 410."""
    _gone(request, authz)


@route(router, "POST", NETS + "/{network_id}/action", policy="os_compute_api:os-networks:view")
def network_action(network_id: str, request: Request, authz: Authz = AuthzDep) -> None:
    """``disassociate`` and friends were removed with nova-network: 410."""
    _gone(request, authz)


async def _tenant_view(request: Request, authz: Authz, net: dict[str, Any]) -> dict[str, Any]:
    cidr = await proxy(request).first_subnet_cidr(authz.ctx, net)
    return {"id": net["id"], "cidr": cidr, "label": net.get("name") or ""}


@route(router, "GET", TENANT, policy="os_compute_api:os-tenant-networks:list")
async def list_tenant_networks(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's project's networks and the shared ones."""
    p, ctx = open_proxy(request, authz), authz.ctx
    own = await p.networks(ctx, {"project_id": ctx.project_id})
    shared = await p.networks(ctx, {"shared": "true"})
    seen: set[str] = set()
    nets = []
    for net in own + shared:
        if str(net["id"]) not in seen:
            seen.add(str(net["id"]))
            nets.append(net)
    return {"networks": [await _tenant_view(request, authz, n) for n in nets]}


@route(router, "GET", TENANT + "/{network_id}", policy="os_compute_api:os-tenant-networks:show")
async def show_tenant_network(
    network_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One network the caller can see."""
    net = await _get_network(request, authz, network_id)
    return {"network": await _tenant_view(request, authz, net)}


@route(router, "POST", TENANT, policy="os_compute_api:os-tenant-networks:list")
def create_tenant_network(request: Request, authz: Authz = AuthzDep) -> None:
    """Removed with nova-network: 410."""
    _gone(request, authz)


@route(router, "DELETE", TENANT + "/{network_id}", policy="os_compute_api:os-tenant-networks:show")
def delete_tenant_network(network_id: str, request: Request, authz: Authz = AuthzDep) -> None:
    """Removed with nova-network: 410."""
    _gone(request, authz)
