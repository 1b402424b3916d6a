"""/v2.0/networks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import core, networks, notify
from kumo.network.service import validate as v

router = APIRouter()

READ_ONLY = (
    "id",
    "status",
    "subnets",
    "availability_zones",
    "revision_number",
    "created_at",
    "updated_at",
)
ATTRS: dict[str, Attr] = {
    "name": Attr(convert=v.string(255), default=""),
    "description": Attr(convert=v.string(255), default=""),
    "admin_state_up": Attr(convert=v.to_bool, default=True),
    "shared": Attr(convert=v.to_bool, default=False),
    "router:external": Attr(convert=v.to_bool, default=False),
    "mtu": Attr(convert=v.integer(68, 65535)),
    "port_security_enabled": Attr(convert=v.to_bool, default=True),
    "provider:network_type": Attr(convert=v.string(32)),
    "provider:physical_network": Attr(convert=v.optional(v.string(64))),
    "provider:segmentation_id": Attr(convert=v.optional(v.integer(0))),
    "availability_zone_hints": Attr(put=False, convert=v.tags, default=[]),
    "tags": Attr(put=False, convert=v.tags),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{name: Attr(post=False, put=False) for name in READ_ONLY},
}
FIELDS = [*ATTRS, "tenant_id", "project_id", "tags"]


def _get_visible(request: Request, authz: Authz, net_id: str) -> dict[str, Any]:
    item = networks.get_network(common.database(request), net_id)
    common.ensure_visible(authz, "get_network", item, core.network_not_found(net_id))
    return item


def _create_one(request: Request, authz: Authz, body: Any) -> dict[str, Any]:
    data = common.parse_body(body, "network", ATTRS, create=True)
    common.owner_of(authz, data)
    target = dict(data)
    common.enforce(authz, "create_network", target)
    common.check_attr_policies(authz, "create", "network", ATTRS, data, target)
    item = networks.create_network(common.database(request), data["project_id"], data)
    notify.publish_from_thread(request.app.state, "network", "create", item["id"], item)
    return common.present(authz, "network", item)


@route(router, "POST", "/v2.0/networks", policy="create_network", status_code=201)
def create_network(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a network (or several: ``{"networks": [...]}``)."""
    bulk = common.bulk_bodies(body, "network", "networks")
    if bulk is not None:
        return {"networks": [_create_one(request, authz, b) for b in bulk]}
    return {"network": _create_one(request, authz, body)}


@route(router, "GET", "/v2.0/networks", policy="get_network")
def list_networks(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The networks the caller may see: own, shared, external (admins: all)."""
    return common.collection(
        request,
        authz,
        "network",
        "networks",
        networks.list_networks(common.database(request)),
        known=FIELDS,
        missing_marker=core.network_not_found,
    )


@route(router, "GET", "/v2.0/networks/{network_id}", policy="get_network")
def show_network(network_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One network."""
    return common.show(request, authz, "network", _get_visible(request, authz, network_id))


@route(router, "PUT", "/v2.0/networks/{network_id}", policy="update_network")
def update_network(
    network_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Change a network."""
    data = common.parse_body(body, "network", ATTRS, create=False)
    item = networks.get_network(common.database(request), network_id)
    common.enforce_action(
        authz, "get_network", "update_network", item, core.network_not_found(network_id)
    )
    common.check_attr_policies(authz, "update", "network", ATTRS, data, common.policy_target(item))
    item = networks.update_network(common.database(request), network_id, data)
    notify.publish_from_thread(request.app.state, "network", "update", network_id, item)
    return {"network": common.present(authz, "network", item)}


@route(router, "DELETE", "/v2.0/networks/{network_id}", policy="delete_network", status_code=204)
def delete_network(network_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a network (refused while ports use it)."""
    item = networks.get_network(common.database(request), network_id)
    common.enforce_action(
        authz, "get_network", "delete_network", item, core.network_not_found(network_id)
    )
    networks.delete_network(common.database(request), network_id)
    notify.publish_from_thread(request.app.state, "network", "delete", network_id)
    return common.no_content()
