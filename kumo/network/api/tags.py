"""/v2.0/{collection}/{id}/tags for every taggable collection."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.service import (
    core,
    floatingips,
    networks,
    ports,
    routers,
    security_groups,
    subnetpools,
    subnets,
    tags,
)
from kumo.network.service import validate as v

router = APIRouter()


#: Collection → (policy resource name, loader of the parent resource's view).
_TAGGED: dict[str, tuple[str, Any]] = {
    "networks": ("network", networks.get_network),
    "subnets": ("subnet", subnets.get_subnet),
    "ports": ("port", ports.get_port),
    "routers": ("router", routers.get_router),
    "subnetpools": ("subnetpool", subnetpools.get_pool),
    "floatingips": ("floatingip", floatingips.get_fip),
    "security-groups": ("security_group", security_groups.get_group),
}


def _parent(request: Request, authz: Authz, collection: str, rid: str, action: str) -> None:
    """404 unless the caller sees the resource; 403 unless the tag rule passes."""
    resource, getter = _TAGGED[collection]
    item = getter(common.database(request), rid)
    missing = core.not_found("NotFound", f"{resource} {rid} could not be found.")
    common.ensure_visible(authz, f"get_{resource}", item, missing)
    common.enforce(authz, f"{action}_{resource}:tags", common.policy_target(item))


def _tag(value: str) -> str:
    try:
        return v.tag_text(value)
    except ValueError as exc:
        raise common.bad_request(f"Invalid input for tag. Reason: {exc}.") from exc


def _register(collection: str) -> None:
    resource, _ = _TAGGED[collection]
    base = f"/v2.0/{collection}/{{rid}}/tags"

    @route(router, "GET", base, policy=f"get_{resource}:tags")
    def list_tags(rid: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
        """The resource's tags."""
        _parent(request, authz, collection, rid, "get")
        return {"tags": tags.get_tags(common.database(request), collection, rid)}

    @route(router, "GET", base + "/{tag}", policy=f"get_{resource}:tags", status_code=204)
    def check_tag(rid: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
        """204 when the resource has the tag, else 404 ``TagNotFound``."""
        _parent(request, authz, collection, rid, "get")
        tags.has_tag(common.database(request), collection, rid, tag)
        return common.no_content()

    @route(router, "PUT", base, policy=f"update_{resource}:tags")
    def replace_tags(
        rid: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
    ) -> dict[str, Any]:
        """Replace every tag."""
        common.storable(body)
        if not isinstance(body, dict) or "tags" not in body:
            raise common.bad_request("Invalid tags body")
        try:
            wanted = v.tags(body["tags"])
        except ValueError as exc:
            raise common.bad_request(f"Invalid input for tags. Reason: {exc}.") from exc
        _parent(request, authz, collection, rid, "update")
        return {"tags": tags.replace_tags(common.database(request), collection, rid, wanted)}

    @route(router, "PUT", base + "/{tag}", policy=f"update_{resource}:tags", status_code=201)
    def add_tag(rid: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
        """Add one tag."""
        _parent(request, authz, collection, rid, "update")
        tags.add_tag(common.database(request), collection, rid, _tag(tag))
        return Response(status_code=201)

    @route(router, "DELETE", base, policy=f"delete_{resource}:tags", status_code=204)
    def delete_tags(rid: str, request: Request, authz: Authz = AuthzDep) -> Response:
        """Remove every tag."""
        _parent(request, authz, collection, rid, "delete")
        tags.remove_tag(common.database(request), collection, rid, None)
        return common.no_content()

    @route(router, "DELETE", base + "/{tag}", policy=f"delete_{resource}:tags", status_code=204)
    def delete_tag(rid: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
        """Remove one tag."""
        _parent(request, authz, collection, rid, "delete")
        tags.remove_tag(common.database(request), collection, rid, tag)
        return common.no_content()


for _collection in _TAGGED:
    _register(_collection)
