"""``GET /allocation_candidates`` (1.10+)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest
from kumo.placement.api.util import at_least, db_of, one, require, respond
from kumo.placement.service import candidates
from kumo.placement.service.candidates import CandidateRequest, RequestGroup
from kumo.placement.service.query import (
    bad_value,
    parse_member_of,
    parse_required,
    parse_resources,
    parse_uuid,
)

router = APIRouter()

_GROUPED = re.compile(r"^(resources|required|member_of)(.*)$")


def _suffix_ok(request: Request, suffix: str) -> bool:
    if at_least(request, 33):
        return bool(re.match(r"^[a-zA-Z0-9_-]{1,64}$", suffix))
    return suffix.isdigit() and not suffix.startswith("0")


def _parse(request: Request) -> CandidateRequest:
    granular = at_least(request, 25)
    params: dict[str, dict[str, list[str]]] = {}
    known = {"limit", "group_policy", "in_tree"}
    if at_least(request, 35):
        known.add("root_required")
    for key in request.query_params:
        m = _GROUPED.match(key)
        suffix = m.group(2) if m else None
        if m is None or (suffix and not (granular and _suffix_ok(request, suffix))):
            if key in known:
                continue
            raise BadRequest(
                "Invalid query string parameters: Additional properties are not allowed "
                f"('{key}' was unexpected)"
            )
        assert suffix is not None
        params.setdefault(suffix, {})[m.group(1)] = request.query_params.getlist(key)
    if "member_of" in params.get("", {}) and not at_least(request, 21):
        raise BadRequest(
            "Invalid query string parameters: Additional properties are not allowed "
            "('member_of' was unexpected)"
        )
    if "required" in params.get("", {}) and not at_least(request, 17):
        raise BadRequest(
            "Invalid query string parameters: Additional properties are not allowed "
            "('required' was unexpected)"
        )
    groups = []
    for suffix in sorted(params, key=lambda s: (s != "", s)):
        values = params[suffix]
        resources = values.get("resources")
        if not resources:
            raise bad_value(
                f"All traits parameters must be associated with resources. Found the "
                f"following orphaned traits keys: required{suffix}"
                if suffix or values
                else "'resources' is a required property"
            )
        if len(resources) > 1:
            raise BadRequest(
                f"Query parameter 'resources{suffix}' is allowed only once.",
                code="placement.query.duplicate_key",
            )
        required = values.get("required", [])
        if len(required) > 1 and not at_least(request, 39):
            raise BadRequest(
                f"Query parameter 'required{suffix}' is allowed only once.",
                code="placement.query.duplicate_key",
            )
        member_of = values.get("member_of", [])
        if len(member_of) > 1 and not at_least(request, 24):
            raise BadRequest(
                f"Query parameter 'member_of{suffix}' is allowed only once.",
                code="placement.query.duplicate_key",
            )
        groups.append(
            RequestGroup(
                suffix=suffix,
                resources=parse_resources(resources[0]),
                required=parse_required(
                    required,
                    allow_forbidden=at_least(request, 22),
                    allow_any=at_least(request, 39),
                ),
                member_of=parse_member_of(member_of, allow_forbidden=at_least(request, 32)),
            )
        )
    if not groups:
        raise BadRequest(
            "Invalid query string parameters: 'resources' is a required property"
            if not granular
            else "At least one of 'resources' or 'resources{N}' must be specified."
        )
    req = CandidateRequest(groups=groups)
    policy = one(request, "group_policy")
    numbered = [g for g in groups if g.suffix]
    if policy is not None:
        if not granular:
            raise BadRequest(
                "Invalid query string parameters: Additional properties are not allowed "
                "('group_policy' was unexpected)"
            )
        if policy not in ("none", "isolate"):
            raise BadRequest(
                f"Invalid query string parameters: '{policy}' is not one of ['none', 'isolate']"
            )
        req.isolate = policy == "isolate"
    elif len(numbered) > 1:
        raise BadRequest(
            'The "group_policy" parameter is required when specifying more than one '
            '"resources{N}" parameter.'
        )
    limit = one(request, "limit")
    if limit is not None:
        if not at_least(request, 16):
            raise BadRequest(
                "Invalid query string parameters: Additional properties are not allowed "
                "('limit' was unexpected)"
            )
        if not limit.isdigit() or int(limit) < 1:
            raise BadRequest(
                f"Invalid query string parameters: '{limit}' does not match '^[1-9][0-9]*$'"
            )
        req.limit = int(limit)
    root_required = request.query_params.getlist("root_required")
    if root_required:
        if len(root_required) > 1:
            one(request, "root_required")
        req.root_required = parse_required(root_required, allow_forbidden=True, allow_any=False)
    in_tree = one(request, "in_tree")
    if in_tree is not None:
        if not at_least(request, 31):
            raise BadRequest(
                "Invalid query string parameters: Additional properties are not allowed "
                "('in_tree' was unexpected)"
            )
        req.in_tree = parse_uuid(in_tree, "in_tree")
    return req


@route(router, "GET", "/allocation_candidates", policy="placement:allocation_candidates:list")
def list_allocation_candidates(request: Request, authz: Authz = AuthzDep) -> Response:
    """Sets of providers that could satisfy the request, and summaries of those providers."""
    require(request, 10)
    authz.enforce()
    found = candidates.find(
        db_of(request),
        _parse(request),
        whole_trees=at_least(request, 29),
        all_classes=at_least(request, 27),
    )
    # The microversion is read once, not per candidate and provider (a hundred hosts).
    as_dict, with_mappings = at_least(request, 12), at_least(request, 34)
    with_traits, with_tree = at_least(request, 17), at_least(request, 29)
    requests_body: list[dict[str, Any]] = []
    for allocs, mappings in found.requests:
        item: dict[str, Any]
        if as_dict:
            item = {"allocations": {u: {"resources": r} for u, r in allocs.items()}}
        else:
            item = {
                "allocations": [
                    {"resource_provider": {"uuid": u}, "resources": r} for u, r in allocs.items()
                ]
            }
        if with_mappings:
            item["mappings"] = mappings
        requests_body.append(item)
    summaries: dict[str, Any] = {}
    for rp_uuid, summary in found.summaries.items():
        entry: dict[str, Any] = {
            "resources": {
                rc: {"capacity": cap, "used": used} for rc, (cap, used) in summary.resources.items()
            }
        }
        if with_traits:
            entry["traits"] = summary.traits
        if with_tree:
            entry["parent_provider_uuid"] = summary.parent_uuid
            entry["root_provider_uuid"] = summary.root_uuid
        summaries[rp_uuid] = entry
    return respond(request, {"allocation_requests": requests_body, "provider_summaries": summaries})
