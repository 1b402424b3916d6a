"""/v2.0/floatingips and /v2.0/floatingips/{id}/port_forwardings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import core, floatingips, networks, notify, ports
from kumo.network.service import validate as v

router = APIRouter()

FIP_ATTRS: dict[str, Attr] = {
    "floating_network_id": Attr(put=False, required=True, convert=v.uuid_str),
    "floating_ip_address": Attr(put=False, convert=v.ip_or_none),
    "subnet_id": Attr(put=False, convert=v.uuid_or_none),
    "port_id": Attr(convert=v.uuid_or_none, default=None),
    "fixed_ip_address": Attr(convert=v.ip_or_none, default=None),
    "description": Attr(convert=v.string(255), default=""),
    "tags": Attr(put=False, convert=v.tags),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{
        name: Attr(post=False, put=False)
        for name in ("id", "status", "router_id", "revision_number", "created_at", "updated_at")
    },
}
FIP_FIELDS = list(FIP_ATTRS)


def _fip_missing(fip_id: str) -> Any:
    return core.not_found("FloatingIPNotFound", f"Floating IP {fip_id} could not be found")


@route(router, "POST", "/v2.0/floatingips", policy="create_floatingip", status_code=201)
def create_floatingip(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Allocate a floating IP on an external network, associated when ``port_id`` is given."""
    data = common.parse_body(body, "floatingip", FIP_ATTRS, create=True)
    common.owner_of(authz, data)
    common.enforce(authz, "create_floatingip", data)
    common.check_attr_policies(authz, "create", "floatingip", FIP_ATTRS, data, data)
    db = common.database(request)
    net = networks.get_network(db, data["floating_network_id"])
    common.ensure_visible(authz, "get_network", net, core.network_not_found(net["id"]))
    item = floatingips.create_fip(db, data["project_id"], data, is_admin=common.is_admin(authz))
    notify.publish_from_thread(request.app.state, "floatingip", "create", item["id"], item)
    return {"floatingip": common.present(authz, "floatingip", item)}


@route(router, "GET", "/v2.0/floatingips", policy="get_floatingip")
def list_floatingips(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's floating IPs (admins: all)."""
    return common.collection(
        request,
        authz,
        "floatingip",
        "floatingips",
        floatingips.list_fips(common.database(request)),
        known=FIP_FIELDS,
        missing_marker=_fip_missing,
    )


@route(router, "GET", "/v2.0/floatingips/{fip_id}", policy="get_floatingip")
def show_floatingip(fip_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One floating IP."""
    item = floatingips.get_fip(common.database(request), fip_id)
    common.ensure_visible(authz, "get_floatingip", item, _fip_missing(fip_id))
    return common.show(request, authz, "floatingip", item)


@route(router, "PUT", "/v2.0/floatingips/{fip_id}", policy="update_floatingip")
def update_floatingip(
    fip_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Associate (``port_id``) or disassociate (``port_id: null``) a floating IP."""
    data = common.parse_body(body, "floatingip", FIP_ATTRS, create=False)
    db = common.database(request)
    item = floatingips.get_fip(db, fip_id)
    common.enforce_action(authz, "get_floatingip", "update_floatingip", item, _fip_missing(fip_id))
    item = floatingips.update_fip(db, fip_id, data, is_admin=common.is_admin(authz))
    notify.publish_from_thread(request.app.state, "floatingip", "update", fip_id, item)
    return {"floatingip": common.present(authz, "floatingip", item)}


@route(router, "DELETE", "/v2.0/floatingips/{fip_id}", policy="delete_floatingip", status_code=204)
def delete_floatingip(fip_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Release a floating IP."""
    db = common.database(request)
    item = floatingips.get_fip(db, fip_id)
    common.enforce_action(authz, "get_floatingip", "delete_floatingip", item, _fip_missing(fip_id))
    floatingips.delete_fip(db, fip_id)
    notify.publish_from_thread(request.app.state, "floatingip", "delete", fip_id)
    return common.no_content()


# --- port forwardings ------------------------------------------------------------------

PF_PROTOCOLS = ("tcp", "udp", "udplite", "sctp")
PF_ATTRS: dict[str, Attr] = {
    "protocol": Attr(required=True, convert=v.one_of(*PF_PROTOCOLS)),
    "internal_ip_address": Attr(convert=v.ip_address),
    "internal_port": Attr(required=True, convert=v.integer(1, 65535)),
    "internal_port_id": Attr(required=True, convert=v.uuid_str),
    "external_port": Attr(required=True, convert=v.integer(1, 65535)),
    "description": Attr(convert=v.string(255), default=""),
    "id": Attr(post=False, put=False),
}
PF_FIELDS = list(PF_ATTRS)
PF_BASE = "/v2.0/floatingips/{fip_id}/port_forwardings"


def _pf_parent(request: Request, authz: Authz, fip_id: str) -> dict[str, Any]:
    """The floating IP (404 unless the caller sees it), as the ``ext_parent`` target."""
    fip = floatingips.get_fip(common.database(request), fip_id)
    common.ensure_visible(authz, "get_floatingip", fip, _fip_missing(fip_id))
    return {"ext_parent:project_id": fip["project_id"], "project_id": fip["project_id"]}


def _check_internal_port(request: Request, authz: Authz, port_id: str) -> None:
    port = ports.get_port(common.database(request), port_id)
    common.ensure_visible(authz, "get_port", port, core.port_not_found(port_id))


@route(router, "POST", PF_BASE, policy="create_floatingip_port_forwarding", status_code=201)
def create_port_forwarding(
    fip_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Forward an external port of the floating IP to an internal address and port."""
    data = common.parse_body(body, "port_forwarding", PF_ATTRS, create=True)
    target = _pf_parent(request, authz, fip_id)
    common.enforce(authz, "create_floatingip_port_forwarding", target)
    _check_internal_port(request, authz, data["internal_port_id"])
    item = floatingips.create_pf(common.database(request), fip_id, data)
    notify.publish_from_thread(request.app.state, "floatingip", "update", fip_id, item)
    return {"port_forwarding": common.present(authz, "floatingip_port_forwarding", item)}


@route(router, "GET", PF_BASE, policy="get_floatingip_port_forwarding")
def list_port_forwardings(fip_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The floating IP's port forwardings."""
    _pf_parent(request, authz, fip_id)
    return common.collection(
        request,
        authz,
        "floatingip_port_forwarding",
        "port_forwardings",
        floatingips.list_pfs(common.database(request), fip_id),
        known=PF_FIELDS,
        missing_marker=floatingips.pf_not_found,
    )


@route(router, "GET", PF_BASE + "/{pf_id}", policy="get_floatingip_port_forwarding")
def show_port_forwarding(
    fip_id: str, pf_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One port forwarding."""
    _pf_parent(request, authz, fip_id)
    item = floatingips.get_pf(common.database(request), fip_id, pf_id)
    common.ensure_visible(
        authz, "get_floatingip_port_forwarding", item, floatingips.pf_not_found(pf_id)
    )
    return {
        "port_forwarding": common.select_fields(
            request, common.present(authz, "floatingip_port_forwarding", item)
        )
    }


@route(router, "PUT", PF_BASE + "/{pf_id}", policy="update_floatingip_port_forwarding")
def update_port_forwarding(
    fip_id: str, pf_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Change a port forwarding."""
    data = common.parse_body(body, "port_forwarding", PF_ATTRS, create=False)
    _pf_parent(request, authz, fip_id)
    item = floatingips.get_pf(common.database(request), fip_id, pf_id)
    common.enforce_action(
        authz,
        "get_floatingip_port_forwarding",
        "update_floatingip_port_forwarding",
        item,
        floatingips.pf_not_found(pf_id),
    )
    if "internal_port_id" in data:
        _check_internal_port(request, authz, data["internal_port_id"])
    item = floatingips.update_pf(common.database(request), fip_id, pf_id, data)
    notify.publish_from_thread(request.app.state, "floatingip", "update", fip_id, item)
    return {"port_forwarding": common.present(authz, "floatingip_port_forwarding", item)}


@route(
    router,
    "DELETE",
    PF_BASE + "/{pf_id}",
    policy="delete_floatingip_port_forwarding",
    status_code=204,
)
def delete_port_forwarding(
    fip_id: str, pf_id: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Remove a port forwarding."""
    _pf_parent(request, authz, fip_id)
    item = floatingips.get_pf(common.database(request), fip_id, pf_id)
    common.enforce_action(
        authz,
        "get_floatingip_port_forwarding",
        "delete_floatingip_port_forwarding",
        item,
        floatingips.pf_not_found(pf_id),
    )
    floatingips.delete_pf(common.database(request), fip_id, pf_id)
    notify.publish_from_thread(request.app.state, "floatingip", "update", fip_id)
    return common.no_content()
