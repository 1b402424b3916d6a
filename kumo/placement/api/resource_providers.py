"""``/resource_providers`` and ``/resource_providers/{uuid}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest
from kumo.placement.api.util import (
    at_least,
    check_params,
    db_of,
    newest,
    no_content,
    one,
    prefix,
    respond,
)
from kumo.placement.schemas.bodies import ProviderCreate, ProviderUpdate, parse
from kumo.placement.service import providers
from kumo.placement.service.providers import Provider, ProviderFilters
from kumo.placement.service.query import (
    parse_member_of,
    parse_required,
    parse_resources,
    parse_uuid,
)

router = APIRouter()


def provider_body(request: Request, rp: Provider) -> dict[str, Any]:
    """A provider as Placement shows it at the request's microversion."""
    base = f"{prefix(request)}/resource_providers/{rp.uuid}"
    links = [
        {"rel": "self", "href": base},
        {"rel": "inventories", "href": base + "/inventories"},
        {"rel": "usages", "href": base + "/usages"},
    ]
    if at_least(request, 1):
        links.append({"rel": "aggregates", "href": base + "/aggregates"})
    if at_least(request, 6):
        links.append({"rel": "traits", "href": base + "/traits"})
    if at_least(request, 11):
        links.append({"rel": "allocations", "href": base + "/allocations"})
    body: dict[str, Any] = {
        "uuid": rp.uuid,
        "name": rp.name,
        "generation": rp.generation,
        "links": links,
    }
    if at_least(request, 14):
        body["parent_provider_uuid"] = rp.parent_provider_uuid
        body["root_provider_uuid"] = rp.root_provider_uuid
    return body


def _filters(request: Request) -> ProviderFilters:
    allowed = {"name", "uuid"}
    if at_least(request, 3):
        allowed.add("member_of")
    if at_least(request, 4):
        allowed.add("resources")
    if at_least(request, 14):
        allowed.add("in_tree")
    if at_least(request, 18):
        allowed.add("required")
    check_params(request, allowed)
    flt = ProviderFilters(name=one(request, "name"))
    given_uuid = one(request, "uuid")
    if given_uuid is not None:
        flt.uuid = parse_uuid(given_uuid, "uuid")
    member_of = request.query_params.getlist("member_of")
    if member_of:
        if len(member_of) > 1 and not at_least(request, 24):
            one(request, "member_of")
        flt.member_of = parse_member_of(member_of, allow_forbidden=at_least(request, 32))
    resources = one(request, "resources")
    if resources is not None:
        flt.resources = parse_resources(resources)
    in_tree = one(request, "in_tree")
    if in_tree is not None:
        flt.in_tree = parse_uuid(in_tree, "in_tree")
    required = request.query_params.getlist("required")
    if required:
        if len(required) > 1 and not at_least(request, 39):
            one(request, "required")
        flt.required = parse_required(
            required, allow_forbidden=at_least(request, 22), allow_any=at_least(request, 39)
        )
    return flt


@route(router, "GET", "/resource_providers", policy="placement:resource_providers:list")
def list_resource_providers(request: Request, authz: Authz = AuthzDep) -> Response:
    """Providers matching the filters."""
    authz.enforce()
    found = providers.list_providers(db_of(request), _filters(request))
    return respond(
        request,
        {"resource_providers": [provider_body(request, rp) for rp in found]},
        last_modified=newest(*(rp.updated for rp in found)),
    )


@route(router, "POST", "/resource_providers", policy="placement:resource_providers:create")
def create_resource_provider(
    request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Create a provider: 201 with a Location (before 1.20) or 200 with its body."""
    authz.enforce()
    body = parse(ProviderCreate, payload)
    if body.parent_provider_uuid is not None and not at_least(request, 14):
        raise BadRequest(
            "JSON does not validate: Additional properties are not allowed "
            "('parent_provider_uuid' was unexpected)"
        )
    rp = providers.create(db_of(request), body.name, body.uuid, body.parent_provider_uuid)
    location = f"{prefix(request)}/resource_providers/{rp.uuid}"
    if at_least(request, 20):
        return respond(request, provider_body(request, rp), headers={"location": location})
    return Response(status_code=201, headers={"location": location})


@route(router, "GET", "/resource_providers/{uuid}", policy="placement:resource_providers:show")
def show_resource_provider(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """One provider."""
    authz.enforce()
    rp = providers.show(db_of(request), uuid)
    return respond(request, provider_body(request, rp), last_modified=rp.updated)


@route(router, "PUT", "/resource_providers/{uuid}", policy="placement:resource_providers:update")
def update_resource_provider(
    uuid: str, request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Rename a provider or (1.14+) set its parent (re-parent from 1.37)."""
    authz.enforce()
    body = parse(ProviderUpdate, payload)
    parent_given = "parent_provider_uuid" in body.model_fields_set
    if parent_given and not at_least(request, 14):
        raise BadRequest(
            "JSON does not validate: Additional properties are not allowed "
            "('parent_provider_uuid' was unexpected)"
        )
    rp = providers.update_provider(
        db_of(request),
        uuid,
        body.name,
        body.parent_provider_uuid,
        parent_given=parent_given,
        reparent=at_least(request, 37),
    )
    return respond(request, provider_body(request, rp))


@route(
    router,
    "DELETE",
    "/resource_providers/{uuid}",
    policy="placement:resource_providers:delete",
    status_code=204,
)
def delete_resource_provider(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a provider without allocations or children."""
    authz.enforce()
    providers.delete_provider(db_of(request), uuid)
    return no_content()
