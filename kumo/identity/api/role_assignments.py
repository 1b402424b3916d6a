"""GET /v3/role_assignments: who holds which role where, direct or effective."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request

from kumo.common.errors import ValidationError
from kumo.identity.api.deps import Authz, AuthzDep, route, self_url
from kumo.identity.api.views import collection_links
from kumo.identity.service import assignments
from kumo.identity.service.assignments import AssignmentQuery, Names, RoleAssignment

router = APIRouter()
PATH = "/v3/role_assignments"


def _flag(params: Mapping[str, str], name: str) -> bool:
    # Keystone: a flag is true when present with any value but "0".
    return name in params and params[name] != "0"


def parse_query(params: Mapping[str, str]) -> AssignmentQuery:
    """The filters of a request, checked for combinations Keystone refuses (400)."""
    project, domain = params.get("scope.project.id"), params.get("scope.domain.id")
    system = params.get("scope.system")
    if domain and project:
        raise ValidationError("Specify a domain or project, not both")
    if domain and system:
        raise ValidationError("Specify system or domain, not both")
    if project and system:
        raise ValidationError("Specify system or project, not both")
    if params.get("user.id") and params.get("group.id"):
        raise ValidationError("Specify a user or group, not both")
    inherited = None
    if "scope.OS-INHERIT:inherited_to" in params:
        inherited = params["scope.OS-INHERIT:inherited_to"] == "projects"
    effective = _flag(params, "effective")
    if effective and params.get("group.id"):
        raise ValidationError(
            "Combining effective and group filter will always result in an empty list."
        )
    if effective and inherited and domain:
        raise ValidationError(
            "Combining effective, domain and inherited filters will always result in an empty list."
        )
    include_subtree = _flag(params, "include_subtree")
    if include_subtree and not project:
        raise ValidationError(
            "scope.project.id must be specified if include_subtree is also specified"
        )
    return AssignmentQuery(
        role_id=params.get("role.id") or None,
        user_id=params.get("user.id") or None,
        group_id=params.get("group.id") or None,
        project_id=project or None,
        domain_id=domain or None,
        system=system == "all",
        inherited=inherited,
        effective=effective,
        include_subtree=include_subtree,
    )


def _named(kind: dict[str, tuple[str, str, str]], obj_id: str) -> dict[str, Any]:
    name, domain_id, domain_name = kind.get(obj_id, ("", "", ""))
    return {"id": obj_id, "name": name, "domain": {"id": domain_id, "name": domain_name}}


def assignment_view(request: Request, a: RoleAssignment, names: Names | None) -> dict[str, Any]:
    """One assignment in Keystone's shape, with links to the grant it came from."""
    view: dict[str, Any] = {"links": {}}
    inherited = a.inherited
    if a.project_id:
        view["scope"] = {
            "project": _named(names.projects, a.project_id) if names else {"id": a.project_id}
        }
        if a.via_domain_id:
            inherited, link = True, ["domains", a.via_domain_id]
        elif a.via_project_id:
            inherited, link = True, ["projects", a.via_project_id]
        else:
            link = ["projects", a.project_id]
    elif a.domain_id:
        domain: dict[str, Any] = {"id": a.domain_id}
        if names:
            domain["name"] = names.domains.get(a.domain_id, "")
        view["scope"] = {"domain": domain}
        link = ["domains", a.domain_id]
    else:
        view["scope"] = {"system": {"all": True}}
        link = ["system"]
    if a.user_id:
        view["user"] = _named(names.users, a.user_id) if names else {"id": a.user_id}
        if a.via_group_id:
            view["links"]["membership"] = self_url(
                request, "groups", a.via_group_id, "users", a.user_id
            )
            link += ["groups", a.via_group_id]
        else:
            link += ["users", a.user_id]
    elif a.group_id:
        view["group"] = _named(names.groups, a.group_id) if names else {"id": a.group_id}
        link += ["groups", a.group_id]
    view["role"] = {"id": a.role_id}
    if names:
        role_name, role_domain, role_domain_name = names.roles.get(a.role_id, ("", None, None))
        view["role"]["name"] = role_name
        if role_domain:
            view["role"]["domain"] = {"id": role_domain, "name": role_domain_name}
    # An implied role links to the grant of the role that implies it.
    link += ["roles", a.via_role_id or a.role_id]
    if inherited:
        view["scope"]["OS-INHERIT:inherited_to"] = "projects"
        link = ["OS-INHERIT", *link, "inherited_to_projects"]
    view["links"]["assignment"] = self_url(request, *link)
    if a.via_role_id:
        view["links"]["prior_role"] = self_url(
            request, "roles", a.via_role_id, "implies", a.role_id
        )
    return view


def list_role_assignments(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List role assignments with Keystone's filters, effective and include_names."""
    params = request.query_params
    subtree = _flag(params, "include_subtree")
    project_id = params.get("scope.project.id")
    if subtree and project_id:
        # Keystone guards subtree listings with their own rule, on the project's domain.
        tree = Authz(authz.ident, authz.ctx, "identity:list_role_assignments_for_tree")
        project_domain = assignments.domain_of_project(authz.ident, project_id)
        tree.enforce(
            {
                "target.project.id": project_id,
                "target.project.domain_id": project_domain,
                "target.domain_id": project_domain,
            }
        )
    else:
        authz.enforce({"target.domain_id": authz.ctx.domain_id})
    query = parse_query(params)
    # A domain-scoped caller sees only assignments within its domain, as in Keystone.
    domain_scope = authz.ctx.domain_id if not subtree else None
    found = assignments.list_role_assignments(authz.ident, query, domain_scope=domain_scope)
    names = assignments.names_for(authz.ident, found) if _flag(params, "include_names") else None
    return {
        "role_assignments": [assignment_view(request, a, names) for a in found],
        "links": collection_links(request),
    }


for _method in ("GET", "HEAD"):
    route(
        router,
        _method,
        PATH,
        policy="identity:list_role_assignments",
        name=f"list_role_assignments_{_method.lower()}",
    )(list_role_assignments)
