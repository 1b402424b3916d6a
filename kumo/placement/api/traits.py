"""``/traits`` and ``/resource_providers/{uuid}/traits`` (1.6+)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest
from kumo.placement.api.util import check_params, db_of, no_content, one, prefix, require, respond
from kumo.placement.schemas.bodies import ProviderTraitsPut, parse
from kumo.placement.service import names, providers

router = APIRouter()


@route(router, "GET", "/traits", policy="placement:traits:list")
def list_traits(request: Request, authz: Authz = AuthzDep) -> Response:
    """Traits, filtered by ``name=startswith:X`` / ``name=in:A,B`` and ``associated``."""
    require(request, 6)
    authz.enforce()
    check_params(request, {"name", "associated"})
    prefix_filter: str | None = None
    wanted: list[str] | None = None
    name = one(request, "name")
    if name is not None:
        if name.startswith("startswith:"):
            prefix_filter = name[len("startswith:") :]
        elif name.startswith("in:"):
            wanted = [n.strip() for n in name[3:].split(",")]
        else:
            raise BadRequest(
                f"Badly formatted name parameter. Expected name query string parameter in "
                f'form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "{name}"'
            )
    associated: bool | None = None
    text = one(request, "associated")
    if text is not None:
        if text.lower() not in ("true", "false"):
            raise BadRequest('The query parameter "associated" only accepts "true" or "false"')
        associated = text.lower() == "true"
    return respond(
        request, {"traits": names.list_traits(db_of(request), prefix_filter, wanted, associated)}
    )


@route(router, "GET", "/traits/{name}", policy="placement:traits:show", status_code=204)
def show_trait(name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """204 when the trait exists, 404 otherwise."""
    require(request, 6)
    authz.enforce()
    changed = names.show_trait(db_of(request), name)
    response = respond(request, {}, last_modified=changed)
    headers = {k: v for k, v in response.headers.items() if k in ("last-modified", "cache-control")}
    return Response(status_code=204, headers=headers)


@route(router, "PUT", "/traits/{name}", policy="placement:traits:update", status_code=201)
def put_trait(name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Create custom trait ``name`` (201), or 204 when it already exists."""
    require(request, 6)
    authz.enforce()
    created = names.ensure_trait(db_of(request), name)
    return Response(
        status_code=201 if created else 204,
        headers={"location": f"{prefix(request)}/traits/{name}"},
    )


@route(router, "DELETE", "/traits/{name}", policy="placement:traits:delete", status_code=204)
def delete_trait(name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a custom trait no provider has."""
    require(request, 6)
    authz.enforce()
    names.delete_trait(db_of(request), name)
    return no_content()


RP_PATH = "/resource_providers/{uuid}/traits"


@route(router, "GET", RP_PATH, policy="placement:resource_providers:traits:list")
def list_provider_traits(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """The provider's traits and generation."""
    require(request, 6)
    authz.enforce()
    rp, found = providers.traits(db_of(request), uuid)
    return respond(
        request,
        {"traits": found, "resource_provider_generation": rp.generation},
        last_modified=rp.updated,
    )


@route(router, "PUT", RP_PATH, policy="placement:resource_providers:traits:update")
def set_provider_traits(
    uuid: str, request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Replace the provider's traits (409 on a stale generation, 400 for unknown traits)."""
    require(request, 6)
    authz.enforce()
    body = parse(ProviderTraitsPut, payload)
    if len(set(body.traits)) != len(body.traits):
        raise BadRequest("JSON does not validate: traits has non-unique elements")
    rp, saved = providers.set_traits(
        db_of(request), uuid, body.traits, body.resource_provider_generation
    )
    return respond(request, {"traits": saved, "resource_provider_generation": rp.generation})


@route(
    router,
    "DELETE",
    RP_PATH,
    policy="placement:resource_providers:traits:delete",
    status_code=204,
)
def delete_provider_traits(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Remove every trait of the provider."""
    require(request, 6)
    authz.enforce()
    providers.clear_traits(db_of(request), uuid)
    return no_content()
