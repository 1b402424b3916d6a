"""``/allocations/{consumer_uuid}``, ``POST /allocations`` and a provider's allocations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest, NotFound
from kumo.placement.api.util import at_least, db_of, no_content, require, respond
from kumo.placement.schemas.bodies import DictAllocations, ListAllocations, parse
from kumo.placement.service import allocations
from kumo.placement.service.allocations import INCOMPLETE_ID, ConsumerAllocations
from kumo.placement.service.query import parse_uuid

router = APIRouter()


def _unexpected(field: str) -> BadRequest:
    return BadRequest(
        f"JSON does not validate: Additional properties are not allowed ('{field}' was unexpected)"
    )


def _required(field: str) -> BadRequest:
    return BadRequest(f"JSON does not validate: '{field}' is a required property")


def consumer_write(request: Request, consumer: str, body: DictAllocations) -> ConsumerAllocations:
    """Check version-dependent fields of a dict-style body and turn it into a write."""
    given = body.model_fields_set
    if "consumer_generation" in given and not at_least(request, 28):
        raise _unexpected("consumer_generation")
    if "consumer_generation" not in given and at_least(request, 28):
        raise _required("consumer_generation")
    if "consumer_type" in given and not at_least(request, 38):
        raise _unexpected("consumer_type")
    if "consumer_type" not in given and at_least(request, 38):
        raise _required("consumer_type")
    for field in ("project_id", "user_id"):
        if field not in given and at_least(request, 8):
            raise _required(field)
    if not body.allocations and not at_least(request, 28):
        raise BadRequest("JSON does not validate: allocations does not have enough properties")
    return ConsumerAllocations(
        consumer_uuid=consumer,
        allocations={u: dict(a.resources) for u, a in body.allocations.items()},
        project_id=body.project_id or INCOMPLETE_ID,
        user_id=body.user_id or INCOMPLETE_ID,
        consumer_type=body.consumer_type,
        check_generation=at_least(request, 28),
        generation=body.consumer_generation,
    )


@route(router, "GET", "/allocations/{consumer_uuid}", policy="placement:allocations:list")
def show_allocations(consumer_uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """The consumer's allocations, keyed by provider."""
    authz.enforce()
    view = allocations.show(db_of(request), consumer_uuid)
    allocs: dict[str, Any] = {
        rp: {"generation": gen, "resources": res} for rp, (gen, res) in view.allocations.items()
    }
    body: dict[str, Any] = {"allocations": allocs}
    if at_least(request, 12) and view.project_id is not None:
        body["project_id"] = view.project_id
        body["user_id"] = view.user_id
    if at_least(request, 28) and view.generation is not None:
        body["consumer_generation"] = view.generation
    if at_least(request, 38) and view.generation is not None:
        body["consumer_type"] = view.consumer_type or "unknown"
    return respond(request, body)


@route(
    router,
    "PUT",
    "/allocations/{consumer_uuid}",
    policy="placement:allocations:update",
    status_code=204,
)
def put_allocations(
    consumer_uuid: str, request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Replace the consumer's allocations (list style before 1.12, dict style after)."""
    authz.enforce()
    consumer = parse_uuid(consumer_uuid, "consumer_uuid")
    if at_least(request, 12):
        write = consumer_write(request, consumer, parse(DictAllocations, payload))
    else:
        body = parse(ListAllocations, payload)
        given = body.model_fields_set
        for field in ("project_id", "user_id"):
            if field not in given and at_least(request, 8):
                raise _required(field)
        merged: dict[str, dict[str, int]] = {}
        for item in body.allocations:
            merged.setdefault(item.resource_provider.uuid, {}).update(item.resources)
        write = ConsumerAllocations(
            consumer_uuid=consumer,
            allocations=merged,
            project_id=body.project_id or INCOMPLETE_ID,
            user_id=body.user_id or INCOMPLETE_ID,
        )
    allocations.write(db_of(request), [write])
    return no_content()


@route(router, "POST", "/allocations", policy="placement:allocations:manage", status_code=204)
def post_allocations(
    request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Replace the allocations of many consumers at once, atomically (1.13+)."""
    require(request, 13)
    authz.enforce()
    if not isinstance(payload, dict) or not payload:
        raise BadRequest("JSON does not validate: the body must be an object of consumers")
    writes = []
    for consumer, item in payload.items():
        consumer_uuid = parse_uuid(consumer, "consumer_uuid")
        writes.append(consumer_write(request, consumer_uuid, parse(DictAllocations, item)))
    allocations.write(db_of(request), writes)
    return no_content()


@route(
    router,
    "DELETE",
    "/allocations/{consumer_uuid}",
    policy="placement:allocations:delete",
    status_code=204,
)
def delete_allocations(consumer_uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete every allocation of the consumer (404 when it has none)."""
    authz.enforce()
    if not allocations.delete_consumer(db_of(request), consumer_uuid):
        raise NotFound(f"No allocations for consumer '{consumer_uuid}'")
    return no_content()


@route(
    router,
    "GET",
    "/resource_providers/{uuid}/allocations",
    policy="placement:resource_providers:allocations:list",
)
def provider_allocations(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """What every consumer uses on the provider."""
    authz.enforce()
    rp, found = allocations.for_provider(db_of(request), uuid)
    return respond(
        request,
        {
            "allocations": {c: {"resources": r} for c, r in found.items()},
            "resource_provider_generation": rp.generation,
        },
        last_modified=rp.updated,
    )
