"""/v2.0/ports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import core, notify, ports
from kumo.network.service import validate as v

router = APIRouter()


def _fixed_ips(value: Any) -> list[dict[str, Any]]:
    items = v.dict_list({"subnet_id": v.uuid_str, "ip_address": v.ip_address})(value)
    for item in items:
        if not item:
            raise ValueError("fixed_ips entries need a subnet_id or an ip_address")
    return items


def _profile(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'{value}' is not a dictionary")
    return value


ATTRS: dict[str, Attr] = {
    "name": Attr(convert=v.string(255), default=""),
    "description": Attr(convert=v.string(255), default=""),
    "network_id": Attr(put=False, required=True, convert=v.uuid_str),
    "admin_state_up": Attr(convert=v.to_bool, default=True),
    "mac_address": Attr(convert=v.mac_address),
    "fixed_ips": Attr(convert=_fixed_ips),
    "device_id": Attr(convert=v.string(255), default=""),
    "device_owner": Attr(convert=v.string(255), default=""),
    "security_groups": Attr(convert=v.uuid_list),
    "port_security_enabled": Attr(convert=v.to_bool),
    "allowed_address_pairs": Attr(convert=v.address_pairs, default=[]),
    "extra_dhcp_opts": Attr(convert=v.extra_dhcp_opts, default=[]),
    "binding:host_id": Attr(convert=v.optional(v.string(255)), default=""),
    "binding:vnic_type": Attr(
        convert=v.one_of(
            "normal",
            "direct",
            "macvtap",
            "baremetal",
            "direct-physical",
            "virtio-forwarder",
            "smart-nic",
            "vdpa",
            "remote-managed",
        ),
        default="normal",
    ),
    "binding:profile": Attr(convert=_profile, default={}),
    "dns_name": Attr(convert=v.string(255), default=""),
    "tags": Attr(put=False, convert=v.tags),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{
        name: Attr(post=False, put=False)
        for name in (
            "id",
            "status",
            "binding:vif_type",
            "binding:vif_details",
            "revision_number",
            "created_at",
            "updated_at",
        )
    },
}
FIELDS = list(ATTRS)


def _sub_policies(authz: Authz, action: str, data: dict[str, Any], target: dict[str, Any]) -> None:
    """Neutron's ``fixed_ips:ip_address`` / ``fixed_ips:subnet_id`` sub-attribute rules."""
    for item in data.get("fixed_ips") or []:
        for key in ("ip_address", "subnet_id"):
            rule = f"{action}_port:fixed_ips:{key}"
            if key in item and rule in authz.enforcer.check_strs:
                common.enforce(authz, rule, target)


def _create_one(request: Request, authz: Authz, body: Any) -> dict[str, Any]:
    data = common.parse_body(body, "port", ATTRS, create=True)
    common.owner_of(authz, data)
    db = common.database(request)
    net = ports.network_facts(db, data["network_id"])
    net_view = {
        "project_id": net["project_id"],
        "shared": net["shared"],
        "router:external": net["router:external"],
    }
    if not authz.allows(net_view, rule="get_network"):
        raise core.network_not_found(data["network_id"])
    target = {
        **data,
        "network:project_id": net["project_id"],
        "shared": net["shared"],
        "device_owner": data.get("device_owner", ""),
    }
    common.enforce(authz, "create_port", target)
    common.check_attr_policies(authz, "create", "port", ATTRS, data, target)
    _sub_policies(authz, "create", data, target)
    item = ports.create_port(db, data["project_id"], data, is_admin=common.is_admin(authz))
    notify.publish_from_thread(request.app.state, "port", "create", item["id"], item)
    return common.present(authz, "port", item)


@route(router, "POST", "/v2.0/ports", policy="create_port", status_code=201)
def create_port(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a port (or several)."""
    bulk = common.bulk_bodies(body, "port", "ports")
    if bulk is not None:
        return {"ports": [_create_one(request, authz, b) for b in bulk]}
    return {"port": _create_one(request, authz, body)}


@route(router, "GET", "/v2.0/ports", policy="get_port")
def list_ports(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The ports the caller may see (own, and on networks they own)."""
    return common.collection(
        request,
        authz,
        "port",
        "ports",
        ports.list_ports(common.database(request)),
        known=FIELDS,
        missing_marker=core.port_not_found,
    )


@route(router, "GET", "/v2.0/ports/{port_id}", policy="get_port")
def show_port(port_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One port."""
    item = ports.get_port(common.database(request), port_id)
    common.ensure_visible(authz, "get_port", item, core.port_not_found(port_id))
    return common.show(request, authz, "port", item)


@route(router, "PUT", "/v2.0/ports/{port_id}", policy="update_port")
def update_port(
    port_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Change a port."""
    data = common.parse_body(body, "port", ATTRS, create=False)
    db = common.database(request)
    item = ports.get_port(db, port_id)
    common.enforce_action(authz, "get_port", "update_port", item, core.port_not_found(port_id))
    target = common.policy_target(item)
    common.check_attr_policies(authz, "update", "port", ATTRS, data, target)
    _sub_policies(authz, "update", data, target)
    item = ports.update_port(db, port_id, data, is_admin=common.is_admin(authz))
    notify.publish_from_thread(request.app.state, "port", "update", port_id, item)
    return {"port": common.present(authz, "port", item)}


@route(router, "DELETE", "/v2.0/ports/{port_id}", policy="delete_port", status_code=204)
def delete_port(port_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a port (router ports only through the router API)."""
    db = common.database(request)
    item = ports.get_port(db, port_id)
    common.enforce_action(authz, "get_port", "delete_port", item, core.port_not_found(port_id))
    before = ports.delete_port(db, port_id)
    notify.publish_from_thread(request.app.state, "port", "delete", port_id, before)
    return common.no_content()
