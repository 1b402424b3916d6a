"""/v2.0/routers (with add/remove_router_interface)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import core, networks, notify, ports, routers
from kumo.network.service import validate as v

router = APIRouter()


def _gateway(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"'{value}' is not a dictionary")
    extra = sorted(set(value) - {"network_id", "enable_snat", "external_fixed_ips"})
    if extra:
        raise ValueError(f"Unrecognized keys {extra} in '{value}'")
    out: dict[str, Any] = {}
    if value.get("network_id") is not None:
        out["network_id"] = v.uuid_str(value["network_id"])
    if "enable_snat" in value:
        out["enable_snat"] = v.to_bool(value["enable_snat"])
    if "external_fixed_ips" in value:
        out["external_fixed_ips"] = v.dict_list(
            {"subnet_id": v.uuid_str, "ip_address": v.ip_address}
        )(value["external_fixed_ips"])
    return out


ATTRS: dict[str, Attr] = {
    "name": Attr(convert=v.string(255), default=""),
    "description": Attr(convert=v.string(255), default=""),
    "admin_state_up": Attr(convert=v.to_bool, default=True),
    "external_gateway_info": Attr(convert=_gateway, default=None),
    "routes": Attr(post=False, convert=v.none_as_empty(v.host_routes)),
    "distributed": Attr(convert=v.to_bool, default=False),
    "ha": Attr(convert=v.to_bool, default=False),
    "availability_zone_hints": Attr(put=False, convert=v.tags, default=[]),
    "tags": Attr(put=False, convert=v.tags),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{
        name: Attr(post=False, put=False)
        for name in (
            "id",
            "status",
            "availability_zones",
            "revision_number",
            "created_at",
            "updated_at",
        )
    },
}
FIELDS = list(ATTRS)


def _gateway_policies(
    authz: Authz, action: str, data: dict[str, Any], target: dict[str, Any]
) -> None:
    """Neutron's ``external_gateway_info:*`` sub-attribute rules."""
    info = data.get("external_gateway_info") or {}
    for key in ("network_id", "enable_snat", "external_fixed_ips"):
        if key not in info:
            continue
        if action == "create" and key == "enable_snat" and info[key] is True:
            continue  # the default is not an explicit choice
        common.enforce(authz, f"{action}_router:external_gateway_info:{key}", target)


def _check_gateway_network(request: Request, authz: Authz, data: dict[str, Any]) -> None:
    info = data.get("external_gateway_info") or {}
    if info.get("network_id"):
        net = networks.get_network(common.database(request), info["network_id"])
        common.ensure_visible(authz, "get_network", net, core.network_not_found(net["id"]))


def _load(request: Request, authz: Authz, router_id: str) -> dict[str, Any]:
    item = routers.get_router(common.database(request), router_id)
    common.ensure_visible(authz, "get_router", item, core.router_not_found(router_id))
    return item


@route(router, "POST", "/v2.0/routers", policy="create_router", status_code=201)
def create_router(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a router, with its external gateway when asked."""
    data = common.parse_body(body, "router", ATTRS, create=True)
    common.owner_of(authz, data)
    common.enforce(authz, "create_router", data)
    common.check_attr_policies(authz, "create", "router", ATTRS, data, data)
    _gateway_policies(authz, "create", data, data)
    _check_gateway_network(request, authz, data)
    item = routers.create_router(common.database(request), data["project_id"], data)
    notify.publish_from_thread(request.app.state, "router", "create", item["id"], item)
    return {"router": common.present(authz, "router", item)}


@route(router, "GET", "/v2.0/routers", policy="get_router")
def list_routers(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's routers (admins: all)."""
    return common.collection(
        request,
        authz,
        "router",
        "routers",
        routers.list_routers(common.database(request)),
        known=FIELDS,
        missing_marker=core.router_not_found,
    )


@route(router, "GET", "/v2.0/routers/{router_id}", policy="get_router")
def show_router(router_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One router."""
    return common.show(request, authz, "router", _load(request, authz, router_id))


@route(router, "PUT", "/v2.0/routers/{router_id}", policy="update_router")
def update_router(
    router_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Change a router (gateway, static routes, flags)."""
    data = common.parse_body(body, "router", ATTRS, create=False)
    item = routers.get_router(common.database(request), router_id)
    common.enforce_action(
        authz, "get_router", "update_router", item, core.router_not_found(router_id)
    )
    common.check_attr_policies(authz, "update", "router", ATTRS, data, item)
    _gateway_policies(authz, "update", data, item)
    _check_gateway_network(request, authz, data)
    item = routers.update_router(common.database(request), router_id, data)
    notify.publish_from_thread(request.app.state, "router", "update", router_id, item)
    return {"router": common.present(authz, "router", item)}


@route(router, "DELETE", "/v2.0/routers/{router_id}", policy="delete_router", status_code=204)
def delete_router(router_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a router without interfaces."""
    item = routers.get_router(common.database(request), router_id)
    common.enforce_action(
        authz, "get_router", "delete_router", item, core.router_not_found(router_id)
    )
    routers.delete_router(common.database(request), router_id)
    notify.publish_from_thread(request.app.state, "router", "delete", router_id)
    return common.no_content()


def _interface_body(body: Any) -> tuple[str | None, str | None]:
    common.storable(body)
    if not isinstance(body, dict):
        raise common.bad_request("Body contains invalid data")
    extra = sorted(set(body) - {"subnet_id", "port_id"})
    if extra:
        raise common.bad_request(f"Unrecognized attribute(s) '{', '.join(extra)}'")
    try:
        subnet_id = v.uuid_or_none(body.get("subnet_id"))
        port_id = v.uuid_or_none(body.get("port_id"))
    except ValueError as exc:
        raise common.bad_request(f"Invalid input. Reason: {exc}.") from exc
    return subnet_id, port_id


@route(
    router, "PUT", "/v2.0/routers/{router_id}/add_router_interface", policy="add_router_interface"
)
def add_router_interface(
    router_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Connect a subnet (on its gateway address) or a port to the router."""
    subnet_id, port_id = _interface_body(body)
    if subnet_id and port_id:
        raise core.bad(
            "neutron:BadRequest", "Bad router request: Cannot specify both subnet-id and port-id."
        )
    if not subnet_id and not port_id:
        raise core.bad(
            "neutron:BadRequest",
            "Bad router request: Either subnet_id or port_id must be specified.",
        )
    db = common.database(request)
    item = routers.get_router(db, router_id)
    common.enforce_action(
        authz, "get_router", "add_router_interface", item, core.router_not_found(router_id)
    )
    if subnet_id:
        facts = routers.subnet_facts(db, subnet_id)
        if not authz.allows(facts, rule="get_subnet"):
            raise core.subnet_not_found(subnet_id)
    if port_id:
        port = ports.get_port(db, port_id)
        common.ensure_visible(authz, "get_port", port, core.port_not_found(port_id))
    host = request.app.state.settings.compute_host
    info = routers.add_interface(db, router_id, subnet_id, port_id, host)
    notify.publish_from_thread(request.app.state, "router", "update", router_id, info)
    return info


@route(
    router,
    "PUT",
    "/v2.0/routers/{router_id}/remove_router_interface",
    policy="remove_router_interface",
)
def remove_router_interface(
    router_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Disconnect a subnet or a port from the router."""
    subnet_id, port_id = _interface_body(body)
    if not subnet_id and not port_id:
        raise core.bad(
            "neutron:BadRequest",
            "Bad router request: Either subnet_id or port_id must be specified.",
        )
    db = common.database(request)
    item = routers.get_router(db, router_id)
    common.enforce_action(
        authz, "get_router", "remove_router_interface", item, core.router_not_found(router_id)
    )
    info = routers.remove_interface(db, router_id, subnet_id, port_id)
    notify.publish_from_thread(request.app.state, "router", "update", router_id, info)
    return info
