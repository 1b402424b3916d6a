"""/os-floating-ips, /os-floating-ip-pools and the addFloatingIp/removeFloatingIp actions.

Nova's nova-network proxy (routes to microversion 2.35, actions to 2.43, then 404):
a pool is an external network, a floating IP is Neutron's, allocated and associated
through the networking API with the caller's token and shown in nova-network's
shape (``ip``, ``pool`` name, ``fixed_ip``, ``instance_id`` of the port's server).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.context import RequestContext
from kumo.common.errors import BadRequest, Conflict, Forbidden, KumoError, NotFound, OverQuota
from kumo.common.microversion import Version
from kumo.compute.api.network_proxy_common import (
    admit,
    json_body,
    open_proxy,
    proxy,
    proxy_version,
)
from kumo.compute.api.server_action_base import Call
from kumo.compute.api.server_common import load_server, target
from kumo.compute.db.instances import Instance
from kumo.compute.service.network_proxy import NeutronProxy

router = APIRouter()
BASE = "/v2.1/os-floating-ips"
FIP = "os_compute_api:os-floating-ips:%s"
#: The pool used when a request names none (devstack's external network).
DEFAULT_POOL = "public"


async def _pools(p: NeutronProxy, ctx: RequestContext) -> dict[str, str]:
    return {str(n["id"]): str(n.get("name") or n["id"]) for n in await p.external_networks(ctx)}


async def _get(p: NeutronProxy, ctx: RequestContext, fip_id: str) -> dict[str, Any]:
    try:
        return await p.floating_ip(ctx, fip_id)
    except NotFound:
        raise NotFound(f"Floating IP not found for ID {fip_id}") from None


@route(router, "GET", BASE, policy=FIP % "list")
async def list_floating_ips(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's project's floating IPs."""
    p, ctx = open_proxy(request, authz), authz.ctx
    pools = await _pools(p, ctx)
    fips = await p.floating_ips(ctx, {"project_id": ctx.project_id})
    return {"floating_ips": [await p.fip_view(ctx, f, pools) for f in fips]}


@route(router, "GET", BASE + "/{fip_id}", policy=FIP % "show")
async def show_floating_ip(
    fip_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One floating IP."""
    p = open_proxy(request, authz)
    fip = await _get(p, authz.ctx, fip_id)
    return {"floating_ip": await p.fip_view(authz.ctx, fip)}


@route(router, "POST", BASE, policy=FIP % "create")
async def create_floating_ip(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Allocate a floating IP from ``pool`` (an external network's name or id)."""
    admit(request, authz)
    data = await json_body(request, optional=True)
    pool = data.get("pool")
    if pool is not None and not isinstance(pool, str):
        raise BadRequest(f"Invalid input for field/attribute pool. Value: {pool}.")
    p, ctx = proxy(request), authz.ctx
    nets = await p.external_networks(ctx)
    if pool:
        chosen = [n for n in nets if pool in (n.get("id"), n.get("name"))]
    else:
        named = [n for n in nets if n.get("name") == DEFAULT_POOL]
        chosen = named or nets[:1]
    if not chosen:
        raise NotFound(f"Floating IP pool not found: {pool or DEFAULT_POOL}.")
    if len(chosen) > 1:
        raise Conflict(f"Multiple floating IP pools matches found for name '{pool}'")
    body = {"floatingip": {"floating_network_id": chosen[0]["id"]}}
    try:
        created = (await p.call(ctx, "POST", "/floatingips", json=body))["floatingip"]
    except OverQuota:
        raise Forbidden(f"IP allocation over quota in pool {pool or DEFAULT_POOL}.") from None
    except Conflict as exc:
        if exc.code == "OverQuota":
            raise Forbidden(f"IP allocation over quota in pool {pool or DEFAULT_POOL}.") from None
        raise NotFound(f"No more floating IPs in pool {pool or DEFAULT_POOL}.") from None
    except BadRequest as exc:
        raise BadRequest(exc.message.split(": ", 1)[-1]) from None
    return {"floating_ip": await p.fip_view(ctx, created, await _pools(p, ctx))}


@route(router, "DELETE", BASE + "/{fip_id}", policy=FIP % "delete", status_code=202)
async def delete_floating_ip(fip_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Release a floating IP (disassociating it first, which Neutron does in one go)."""
    p = open_proxy(request, authz)
    fip = await _get(p, authz.ctx, fip_id)
    try:
        await p.call(authz.ctx, "DELETE", f"/floatingips/{fip['id']}")
    except NotFound:
        raise NotFound(f"Floating IP not found for ID {fip_id}") from None
    return Response(status_code=202)


@route(router, "GET", "/v2.1/os-floating-ip-pools", policy="os_compute_api:os-floating-ip-pools")
async def list_floating_ip_pools(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The external networks' names."""
    admit(request, authz)
    nets = await proxy(request).external_networks(authz.ctx)
    return {"floating_ip_pools": [{"name": str(n.get("name") or n["id"])} for n in nets]}


# --- server actions (to microversion 2.43) ------------------------------------


def _address(call: Call, action: str) -> str:
    arg = call.obj(action)
    address = arg.get("address")
    if not isinstance(address, str) or not address:
        raise BadRequest(
            f"Invalid input for field/attribute address. Value: {address}. "
            f"{address!r} is not a 'ip-address'"
        )
    return address


async def _instance(call: Call, rule: str) -> Instance:
    def find() -> Instance:
        with call.request.app.state.db.reader() as s:
            instance = load_server(s, call.authz, call.server_id)
            call.authz.enforce(target(instance), rule=rule)
            return instance

    return await run_in_threadpool(find)


def _fixed_ips(instance: Instance) -> list[str]:
    return [
        str(a.get("addr"))
        for addrs in (instance.network_info or {}).values()
        for a in addrs
        if a.get("OS-EXT-IPS:type", "fixed") == "fixed"
    ]


async def add_floating_ip(call: Call) -> Response:
    """Associate the caller's floating IP ``address`` with a fixed IP of the server."""
    proxy_version(call.request, Version(2, 43))
    address = _address(call, "addFloatingIp")
    instance = await _instance(call, FIP % "add")
    fixed = _fixed_ips(instance)
    if not instance.network_info:
        raise BadRequest("Instance network is not ready yet")
    if not fixed:
        raise BadRequest("No fixed IPs associated to instance")
    wanted = call.arg.get("fixed_address")
    if wanted is not None:
        if wanted not in fixed:
            raise BadRequest("Specified fixed address not assigned to instance")
    else:
        wanted = next((f for f in fixed if ":" not in f), None)
        if wanted is None:
            raise BadRequest(
                f"Unable to associate floating IP {address} to any fixed IPs for instance "
                f"{call.server_id}. Instance has no fixed IPv4 addresses to associate."
            )
    p, ctx = proxy(call.request), call.authz.ctx
    try:
        fip = await p.floating_ip_by_address(ctx, address)
    except NotFound:
        raise NotFound("floating IP not found") from None
    port = next(
        (
            port
            for port in await p.server_ports(ctx, call.server_id)
            if any(f.get("ip_address") == wanted for f in port.get("fixed_ips") or [])
        ),
        None,
    )
    if port is None:
        raise BadRequest(f"Fixed IP {wanted} has no port of instance {call.server_id}.")
    change = {"floatingip": {"port_id": port["id"], "fixed_ip_address": wanted}}
    try:
        await p.call(ctx, "PUT", f"/floatingips/{fip['id']}", json=change)
    except Forbidden:
        raise
    except KumoError as exc:
        # Nova answers 400 for any failure of Neutron here (in use, unreachable, …).
        raise BadRequest(
            f"Unable to associate floating IP {address} to fixed IP {wanted} for instance "
            f"{call.server_id}. Error: {exc.message.split(': ', 1)[-1]}"
        ) from None
    return Response(status_code=202)


async def remove_floating_ip(call: Call) -> Response:
    """Disassociate ``address`` from the server (409 when it is not this server's)."""
    proxy_version(call.request, Version(2, 43))
    address = _address(call, "removeFloatingIp")
    instance = await _instance(call, FIP % "remove")
    p, ctx = proxy(call.request), call.authz.ctx
    try:
        fip = await p.floating_ip_by_address(ctx, address)
    except NotFound:
        raise NotFound("floating IP not found") from None
    view = await p.fip_view(ctx, fip, {})
    if not fip.get("port_id") or view["instance_id"] != instance.uuid:
        raise Conflict(f"Floating IP {address} is not associated with instance {call.server_id}.")
    await p.call(ctx, "PUT", f"/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}})
    return Response(status_code=202)


#: The server actions this module adds to ``POST /servers/{id}/action``.
ACTIONS: dict[str, Callable[[Call], Awaitable[Response]]] = {
    "addFloatingIp": add_floating_ip,
    "removeFloatingIp": remove_floating_ip,
}
