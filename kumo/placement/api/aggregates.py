"""``/resource_providers/{uuid}/aggregates`` (1.1+; generation checked from 1.19)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest
from kumo.placement.api.util import at_least, db_of, require, respond
from kumo.placement.schemas.bodies import UUID, AggregatesPut, parse
from kumo.placement.service import providers
from kumo.placement.service.providers import Provider

router = APIRouter()
PATH = "/resource_providers/{uuid}/aggregates"
_UUID_LIST = TypeAdapter(list[UUID])


def _body(request: Request, rp: Provider, aggs: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"aggregates": aggs}
    if at_least(request, 19):
        body["resource_provider_generation"] = rp.generation
    return body


@route(router, "GET", PATH, policy="placement:resource_providers:aggregates:list")
def list_aggregates(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """The provider's aggregates."""
    require(request, 1)
    authz.enforce()
    rp, aggs = providers.aggregates(db_of(request), uuid)
    return respond(request, _body(request, rp, aggs), last_modified=rp.updated)


@route(router, "PUT", PATH, policy="placement:resource_providers:aggregates:update")
def set_aggregates(
    uuid: str, request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Replace the provider's aggregates (a bare list before 1.19)."""
    require(request, 1)
    authz.enforce()
    if at_least(request, 19):
        body = parse(AggregatesPut, payload)
        aggs, generation = body.aggregates, body.resource_provider_generation
    else:
        try:
            aggs = _UUID_LIST.validate_python(payload, strict=True)
        except PydanticError as exc:
            raise BadRequest(f"JSON does not validate: {exc.errors()[0]['msg']}") from None
        generation = None
    if len(set(aggs)) != len(aggs):
        raise BadRequest("JSON does not validate: aggregates has non-unique elements")
    rp, saved = providers.set_aggregates(
        db_of(request), uuid, aggs, generation, check=at_least(request, 19)
    )
    return respond(request, _body(request, rp, saved))
