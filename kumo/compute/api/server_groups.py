"""/os-server-groups: affinity policies (``policies`` before 2.64, ``policy``+``rules`` after)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest
from kumo.common.microversion import Version
from kumo.compute.api.versions import compute_version
from kumo.compute.db.server_groups import ServerGroup
from kumo.compute.schemas import params
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service import server_groups

router = APIRouter()

BASE = "/v2.1/os-server-groups"
V2_64 = Version(2, 64)


def _view(group: ServerGroup, members: list[str], version: Version) -> dict[str, Any]:
    view: dict[str, Any] = {"id": group.id, "name": group.name}
    if version >= V2_64:
        view["policy"] = group.policy
        view["rules"] = dict(group.rules or {})
    else:
        view["policies"] = [group.policy]
        view["metadata"] = {}
    view["members"] = members
    if version >= Version(2, 13):
        view["project_id"] = group.project_id
        view["user_id"] = group.user_id
    return view


def _policy_and_rules(body: dict[str, Any], version: Version) -> tuple[str, dict[str, Any]]:
    allowed = list(server_groups.POLICIES)
    if version < Version(2, 15):
        allowed = ["affinity", "anti-affinity"]
    if version >= V2_64:
        params.only(body, ["name", "policy", "rules"], "server_group")
        params.require(body, ["name", "policy"], "server_group")
        policy = body["policy"]
        if policy not in allowed:
            raise params.invalid("policy", policy, f"{policy!r} is not one of {allowed}")
        rules = body.get("rules", {})
        if not isinstance(rules, dict):
            raise params.invalid("rules", rules, f"{rules!r} is not of type 'object'")
        params.only(rules, ["max_server_per_host"], "rules")
        if rules and policy != "anti-affinity":
            raise BadRequest("Only anti-affinity policy supports rules.")
        if "max_server_per_host" in rules:
            rules = {
                "max_server_per_host": params.integer(
                    "max_server_per_host", rules["max_server_per_host"], 1
                )
            }
        return policy, rules
    params.only(body, ["name", "policies"], "server_group")
    params.require(body, ["name", "policies"], "server_group")
    policies = body["policies"]
    if not isinstance(policies, list) or len(policies) != 1 or policies[0] not in allowed:
        raise params.invalid(
            "policies", policies, f"policies must be a list of one item from {allowed}"
        )
    return str(policies[0]), {}


@route(router, "POST", BASE, policy="os_compute_api:os-server-groups:create")
def create_server_group(
    body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a server group in the caller's project (quota ``server_groups``)."""
    authz.enforce()
    version = compute_version(request)
    data = body.data()
    group_body = params.obj(data, "server_group")
    params.only(data, ["server_group"], "body")
    policy, rules = _policy_and_rules(group_body, version)
    name = params.name("name", group_body["name"])
    with request.app.state.db.writer() as s:
        group = server_groups.create_group(
            s,
            name=name,
            project_id=authz.ctx.project_id or "",
            user_id=authz.ctx.user_id or "",
            policy=policy,
            rules=rules,
        )
    return {"server_group": _view(group, [], version)}


@route(router, "GET", BASE, policy="os_compute_api:os-server-groups:index")
def list_server_groups(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The project's server groups (every project's with ``all_projects`` for admins)."""
    authz.enforce()
    query = request.query_params
    project: str | None = authz.ctx.project_id or ""
    raw_all = query.get("all_projects")
    if raw_all is not None and params.boolean("all_projects", raw_all or "true"):
        authz.enforce(rule="os_compute_api:os-server-groups:index:all_projects")
        project = None
    limit = params.query_int(query, "limit", 0)
    offset = params.query_int(query, "offset", 0) or 0
    version = compute_version(request)
    with request.app.state.db.reader() as s:
        groups = server_groups.list_groups(s, project)
        groups = groups[offset:] if limit is None else groups[offset : offset + limit]
        members = server_groups.members_of_groups(s, [g.id for g in groups])
    return {"server_groups": [_view(g, members[g.id], version) for g in groups]}


def _get(request: Request, authz: Authz, group_id: str) -> tuple[ServerGroup, list[str]]:
    with request.app.state.db.reader() as s:
        group = server_groups.get_group(s, group_id)
        # Another project's group is hidden (404), not merely forbidden.
        if not authz.allows({"project_id": group.project_id}):
            raise server_groups.not_found(group_id)
        return group, server_groups.members(s, group_id)


@route(router, "GET", BASE + "/{group_id}", policy="os_compute_api:os-server-groups:show")
def show_server_group(group_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One server group with its members."""
    group, members = _get(request, authz, group_id)
    return {"server_group": _view(group, members, compute_version(request))}


@route(
    router,
    "DELETE",
    BASE + "/{group_id}",
    policy="os_compute_api:os-server-groups:delete",
    status_code=204,
)
def delete_server_group(group_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a server group."""
    _get(request, authz, group_id)
    with request.app.state.db.writer() as s:
        server_groups.delete_group(s, group_id)
    return Response(status_code=204)
