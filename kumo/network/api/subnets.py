"""/v2.0/subnets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import core, networks, notify, subnets
from kumo.network.service import validate as v

router = APIRouter()

_POOL = v.dict_list({"start": v.ip_address, "end": v.ip_address}, ("start", "end"))
_V6_MODES = v.optional(v.one_of("slaac", "dhcpv6-stateful", "dhcpv6-stateless"))
ATTRS: dict[str, Attr] = {
    "name": Attr(convert=v.string(255), default=""),
    "description": Attr(convert=v.string(255), default=""),
    "network_id": Attr(put=False, required=True, convert=v.uuid_str),
    "ip_version": Attr(put=False, required=True, convert=v.ip_version),
    "cidr": Attr(put=False, convert=v.optional(v.cidr)),
    "prefixlen": Attr(put=False, convert=v.integer(0, 128)),
    "subnetpool_id": Attr(put=False, convert=v.uuid_or_none),
    "gateway_ip": Attr(convert=v.ip_or_none),
    "allocation_pools": Attr(convert=v.optional(_POOL)),
    "dns_nameservers": Attr(convert=v.none_as_empty(v.nameservers)),
    "host_routes": Attr(convert=v.none_as_empty(v.host_routes)),
    "enable_dhcp": Attr(convert=v.to_bool, default=True),
    "ipv6_ra_mode": Attr(put=False, convert=_V6_MODES),
    "ipv6_address_mode": Attr(put=False, convert=_V6_MODES),
    "segment_id": Attr(convert=v.uuid_or_none, default=None),
    "service_types": Attr(convert=v.tags, default=[]),
    "tags": Attr(put=False, convert=v.tags),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{
        name: Attr(post=False, put=False)
        for name in ("id", "router:external", "revision_number", "created_at", "updated_at")
    },
}
FIELDS = list(ATTRS)


def _visible(request: Request, authz: Authz, subnet_id: str) -> dict[str, Any]:
    item = subnets.get_subnet(common.database(request), subnet_id)
    common.ensure_visible(authz, "get_subnet", item, core.subnet_not_found(subnet_id))
    return item


def _create_one(request: Request, authz: Authz, body: Any) -> dict[str, Any]:
    data = common.parse_body(body, "subnet", ATTRS, create=True)
    common.owner_of(authz, data)
    db = common.database(request)
    net = networks.get_network(db, data["network_id"])
    common.ensure_visible(authz, "get_network", net, core.network_not_found(data["network_id"]))
    target = {**data, "network:project_id": net["project_id"], "shared": net["shared"]}
    common.enforce(authz, "create_subnet", target)
    common.check_attr_policies(authz, "create", "subnet", ATTRS, data, target)
    if data.get("segment_id") or data.get("service_types"):
        raise common.invalid_input("segments and subnet service types are not supported")
    item = subnets.create_subnet(db, data["project_id"], data)
    notify.publish_from_thread(request.app.state, "subnet", "create", item["id"], item)
    return common.present(authz, "subnet", item)


@route(router, "POST", "/v2.0/subnets", policy="create_subnet", status_code=201)
def create_subnet(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a subnet (or several)."""
    bulk = common.bulk_bodies(body, "subnet", "subnets")
    if bulk is not None:
        return {"subnets": [_create_one(request, authz, b) for b in bulk]}
    return {"subnet": _create_one(request, authz, body)}


@route(router, "GET", "/v2.0/subnets", policy="get_subnet")
def list_subnets(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The subnets the caller may see."""
    return common.collection(
        request,
        authz,
        "subnet",
        "subnets",
        subnets.list_subnets(common.database(request)),
        known=FIELDS,
        missing_marker=core.subnet_not_found,
    )


@route(router, "GET", "/v2.0/subnets/{subnet_id}", policy="get_subnet")
def show_subnet(subnet_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One subnet."""
    return common.show(request, authz, "subnet", _visible(request, authz, subnet_id))


@route(router, "PUT", "/v2.0/subnets/{subnet_id}", policy="update_subnet")
def update_subnet(
    subnet_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Change a subnet."""
    data = common.parse_body(body, "subnet", ATTRS, create=False)
    item = subnets.get_subnet(common.database(request), subnet_id)
    common.enforce_action(
        authz, "get_subnet", "update_subnet", item, core.subnet_not_found(subnet_id)
    )
    common.check_attr_policies(authz, "update", "subnet", ATTRS, data, common.policy_target(item))
    item = subnets.update_subnet(common.database(request), subnet_id, data)
    notify.publish_from_thread(request.app.state, "subnet", "update", subnet_id, item)
    return {"subnet": common.present(authz, "subnet", item)}


@route(router, "DELETE", "/v2.0/subnets/{subnet_id}", policy="delete_subnet", status_code=204)
def delete_subnet(subnet_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a subnet (refused while ports hold addresses in it)."""
    item = subnets.get_subnet(common.database(request), subnet_id)
    common.enforce_action(
        authz, "get_subnet", "delete_subnet", item, core.subnet_not_found(subnet_id)
    )
    subnets.delete_subnet(common.database(request), subnet_id)
    notify.publish_from_thread(request.app.state, "subnet", "delete", subnet_id)
    return common.no_content()
