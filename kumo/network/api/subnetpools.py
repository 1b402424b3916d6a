"""/v2.0/subnetpools."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import core, subnetpools
from kumo.network.service import validate as v

router = APIRouter()


def _prefixes(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"'{value}' is not a list")
    return [v.cidr(p) for p in value]


POOL_ATTRS: dict[str, Attr] = {
    "name": Attr(convert=v.string(255), default=""),
    "description": Attr(convert=v.string(255), default=""),
    "prefixes": Attr(required=True, convert=_prefixes),
    "default_prefixlen": Attr(convert=v.integer(0, 128)),
    "min_prefixlen": Attr(convert=v.integer(0, 128)),
    "max_prefixlen": Attr(convert=v.integer(0, 128)),
    "shared": Attr(put=False, convert=v.to_bool, default=False),
    "is_default": Attr(convert=v.to_bool, default=False),
    "default_quota": Attr(convert=v.optional(v.integer(0))),
    "address_scope_id": Attr(convert=v.one_of(None)),
    "tags": Attr(put=False, convert=v.tags),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{
        name: Attr(post=False, put=False)
        for name in ("id", "ip_version", "revision_number", "created_at", "updated_at")
    },
}
POOL_FIELDS = list(POOL_ATTRS)


def _pool_missing(pool_id: str) -> Any:
    return core.not_found("SubnetPoolNotFound", f"Subnet pool {pool_id} could not be found.")


@route(router, "POST", "/v2.0/subnetpools", policy="create_subnetpool", status_code=201)
def create_subnetpool(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a subnet pool."""
    data = common.parse_body(body, "subnetpool", POOL_ATTRS, create=True)
    common.owner_of(authz, data)
    common.enforce(authz, "create_subnetpool", data)
    common.check_attr_policies(authz, "create", "subnetpool", POOL_ATTRS, data, data)
    item = subnetpools.create_pool(common.database(request), data["project_id"], data)
    return {"subnetpool": common.present(authz, "subnetpool", item)}


@route(router, "GET", "/v2.0/subnetpools", policy="get_subnetpool")
def list_subnetpools(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The pools the caller may see (own and shared)."""
    return common.collection(
        request,
        authz,
        "subnetpool",
        "subnetpools",
        subnetpools.list_pools(common.database(request)),
        known=POOL_FIELDS,
        missing_marker=_pool_missing,
    )


@route(router, "GET", "/v2.0/subnetpools/{pool_id}", policy="get_subnetpool")
def show_subnetpool(pool_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One pool."""
    item = subnetpools.get_pool(common.database(request), pool_id)
    common.ensure_visible(authz, "get_subnetpool", item, _pool_missing(pool_id))
    return common.show(request, authz, "subnetpool", item)


@route(router, "PUT", "/v2.0/subnetpools/{pool_id}", policy="update_subnetpool")
def update_subnetpool(
    pool_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Change a pool (prefixes may only grow)."""
    data = common.parse_body(body, "subnetpool", POOL_ATTRS, create=False)
    item = subnetpools.get_pool(common.database(request), pool_id)
    common.enforce_action(
        authz, "get_subnetpool", "update_subnetpool", item, _pool_missing(pool_id)
    )
    common.check_attr_policies(authz, "update", "subnetpool", POOL_ATTRS, data, item)
    item = subnetpools.update_pool(common.database(request), pool_id, data)
    return {"subnetpool": common.present(authz, "subnetpool", item)}


@route(router, "DELETE", "/v2.0/subnetpools/{pool_id}", policy="delete_subnetpool", status_code=204)
def delete_subnetpool(pool_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a pool no subnet uses."""
    item = subnetpools.get_pool(common.database(request), pool_id)
    common.enforce_action(
        authz, "get_subnetpool", "delete_subnetpool", item, _pool_missing(pool_id)
    )
    subnetpools.delete_pool(common.database(request), pool_id)
    return common.no_content()
