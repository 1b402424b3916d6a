"""``/resource_providers/{uuid}/usages`` and ``/usages`` (1.9+)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest
from kumo.placement.api.util import at_least, check_params, db_of, one, require, respond
from kumo.placement.service import allocations

router = APIRouter()


@route(
    router,
    "GET",
    "/resource_providers/{uuid}/usages",
    policy="placement:resource_providers:usages",
)
def provider_usages(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Per resource class, what the provider's consumers use."""
    authz.enforce()
    rp, usages = allocations.provider_usages(db_of(request), uuid)
    return respond(request, {"usages": usages, "resource_provider_generation": rp.generation})


@route(router, "GET", "/usages", policy="placement:usages")
def total_usages(request: Request, authz: Authz = AuthzDep) -> Response:
    """A project's (and optionally a user's) usage; per consumer type from 1.38."""
    require(request, 9)
    allowed = {"project_id", "user_id"} | ({"consumer_type"} if at_least(request, 38) else set())
    check_params(request, allowed)
    project_id = one(request, "project_id")
    if not project_id:
        raise BadRequest("Invalid query string parameters: 'project_id' is a required property")
    authz.enforce({"project_id": project_id})
    user_id = one(request, "user_id")
    consumer_type = one(request, "consumer_type")
    by_type = allocations.project_usages(db_of(request), project_id, user_id)
    body: dict[str, Any]
    if not at_least(request, 38):
        total = allocations.total_usage(by_type)
        total.pop("consumer_count", None)
        body = {"usages": total}
    elif consumer_type is None:
        body = {"usages": by_type}
    elif consumer_type == "all":
        body = {"usages": {"all": allocations.total_usage(by_type)} if by_type else {}}
    else:
        body = {
            "usages": {consumer_type: by_type[consumer_type]} if consumer_type in by_type else {}
        }
    return respond(request, body)
