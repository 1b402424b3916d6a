"""``/resource_classes`` (listing since 1.2; idempotent PUT since 1.7)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.placement.api.util import at_least, db_of, newest, no_content, prefix, require, respond
from kumo.placement.schemas.bodies import ResourceClassBody, parse
from kumo.placement.service import names

router = APIRouter()


def _body(request: Request, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "links": [{"rel": "self", "href": f"{prefix(request)}/resource_classes/{name}"}],
    }


@route(router, "GET", "/resource_classes", policy="placement:resource_classes:list")
def list_resource_classes(request: Request, authz: Authz = AuthzDep) -> Response:
    """Every standard and custom resource class."""
    require(request, 2)
    authz.enforce()
    found = names.list_classes(db_of(request))
    return respond(
        request,
        {"resource_classes": [_body(request, n) for n, _c in found]},
        last_modified=newest(*(c for _n, c in found)),
    )


@route(
    router,
    "POST",
    "/resource_classes",
    policy="placement:resource_classes:create",
    status_code=201,
)
def create_resource_class(
    request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Create a ``CUSTOM_*`` class (409 ``placement.duplicate_name`` when it exists)."""
    require(request, 2)
    authz.enforce()
    body = parse(ResourceClassBody, payload)
    names.create_class(db_of(request), body.name)
    return Response(
        status_code=201,
        headers={"location": f"{prefix(request)}/resource_classes/{body.name}"},
    )


@route(router, "GET", "/resource_classes/{name}", policy="placement:resource_classes:show")
def show_resource_class(name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """One resource class."""
    require(request, 2)
    authz.enforce()
    changed = names.show_class(db_of(request), name)
    return respond(request, _body(request, name), last_modified=changed)


@route(router, "PUT", "/resource_classes/{name}", policy="placement:resource_classes:update")
def put_resource_class(
    name: str, request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """1.7+: create the class if missing (201) or 204; before: rename it (body ``name``)."""
    require(request, 2)
    authz.enforce()
    if at_least(request, 7):
        created = names.ensure_class(db_of(request), name)
        return Response(
            status_code=201 if created else 204,
            headers={"location": f"{prefix(request)}/resource_classes/{name}"},
        )
    body = parse(ResourceClassBody, payload)
    names.rename_class(db_of(request), name, body.name)
    return respond(request, _body(request, body.name))


@route(
    router,
    "DELETE",
    "/resource_classes/{name}",
    policy="placement:resource_classes:delete",
    status_code=204,
)
def delete_resource_class(name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a custom class not used by any inventory."""
    require(request, 2)
    authz.enforce()
    names.delete_class(db_of(request), name)
    return no_content()
