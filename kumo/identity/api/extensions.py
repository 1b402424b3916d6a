"""/v3/policies and /v3/OS-EP-FILTER/endpoint_groups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.errors import NotFound
from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, links, project_view
from kumo.identity.db.models import EndpointGroup, Policy
from kumo.identity.schemas import changes_of
from kumo.identity.schemas.extensions import (
    EndpointGroupCreateRequest,
    EndpointGroupUpdateRequest,
    PolicyCreateRequest,
    PolicyUpdateRequest,
)
from kumo.identity.service import endpoint_groups, policies_store, projects

router = APIRouter()
EG = "/v3/OS-EP-FILTER/endpoint_groups"


def policy_view(request: Request, p: Policy) -> dict[str, Any]:
    """A stored policy blob."""
    return {
        **p.extra,
        "id": p.id,
        "type": p.type,
        "blob": p.blob,
        "links": links(request, "policies", p.id),
    }


def group_view(request: Request, g: EndpointGroup) -> dict[str, Any]:
    """An endpoint group."""
    return {
        "id": g.id,
        "name": g.name,
        "description": g.description or "",
        "filters": g.filters,
        "links": links(request, "OS-EP-FILTER", "endpoint_groups", g.id),
    }


@route(router, "POST", "/v3/policies", policy="identity:create_policy", status_code=201)
def create_policy(
    body: PolicyCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Store a policy blob."""
    authz.enforce()
    p = body.policy
    return {
        "policy": policy_view(
            request, policies_store.create_policy(authz.ident, p.type, p.blob, p.extras())
        )
    }


@route(router, "GET", "/v3/policies", policy="identity:list_policies")
def list_policies(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List policy blobs (filter: type)."""
    authz.enforce()
    rows = policies_store.list_policies(authz.ident, request.query_params)
    return {"policies": [policy_view(request, p) for p in rows], "links": collection_links(request)}


@route(router, "GET", "/v3/policies/{policy_id}", policy="identity:get_policy")
def get_policy(policy_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a policy blob."""
    authz.enforce()
    return {"policy": policy_view(request, policies_store.show_policy(authz.ident, policy_id))}


@route(router, "PATCH", "/v3/policies/{policy_id}", policy="identity:update_policy")
def update_policy(
    policy_id: str, body: PolicyUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a policy blob."""
    authz.enforce()
    updated = policies_store.update_policy(authz.ident, policy_id, changes_of(body.policy))
    return {"policy": policy_view(request, updated)}


@route(
    router, "DELETE", "/v3/policies/{policy_id}", policy="identity:delete_policy", status_code=204
)
def delete_policy(policy_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a policy blob."""
    authz.enforce()
    policies_store.delete_policy(authz.ident, policy_id)
    return Response(status_code=204)


@route(router, "POST", EG, policy="identity:create_endpoint_group", status_code=201)
def create_group(
    body: EndpointGroupCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create an endpoint group."""
    authz.enforce()
    g = body.endpoint_group
    created = endpoint_groups.create_group(authz.ident, g.name, g.description, g.filters)
    return {"endpoint_group": group_view(request, created)}


@route(router, "GET", EG, policy="identity:list_endpoint_groups")
def list_groups(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List endpoint groups."""
    authz.enforce()
    rows = endpoint_groups.list_groups(authz.ident, request.query_params)
    return {
        "endpoint_groups": [group_view(request, g) for g in rows],
        "links": collection_links(request),
    }


@route(router, "GET", EG + "/{group_id}", policy="identity:get_endpoint_group")
@route(router, "HEAD", EG + "/{group_id}", policy="identity:get_endpoint_group")
def get_group(group_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show (or check) an endpoint group."""
    authz.enforce()
    return {
        "endpoint_group": group_view(request, endpoint_groups.show_group(authz.ident, group_id))
    }


@route(router, "PATCH", EG + "/{group_id}", policy="identity:update_endpoint_group")
def update_group(
    group_id: str, body: EndpointGroupUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update an endpoint group."""
    authz.enforce()
    updated = endpoint_groups.update_group(authz.ident, group_id, changes_of(body.endpoint_group))
    return {"endpoint_group": group_view(request, updated)}


@route(
    router, "DELETE", EG + "/{group_id}", policy="identity:delete_endpoint_group", status_code=204
)
def delete_group(group_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete an endpoint group."""
    authz.enforce()
    endpoint_groups.delete_group(authz.ident, group_id)
    return Response(status_code=204)


@route(
    router,
    "GET",
    EG + "/{group_id}/projects",
    policy="identity:list_projects_associated_with_endpoint_group",
)
def group_projects(group_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Projects associated with an endpoint group."""
    authz.enforce()
    rows = endpoint_groups.projects_of(authz.ident, group_id)
    return {
        "projects": [project_view(request, p, []) for p in rows],
        "links": collection_links(request),
    }


@route(
    router,
    "PUT",
    EG + "/{group_id}/projects/{project_id}",
    policy="identity:add_endpoint_group_to_project",
    status_code=204,
)
def add_project(group_id: str, project_id: str, authz: Authz = AuthzDep) -> Response:
    """Associate a project with an endpoint group."""
    authz.enforce()
    endpoint_groups.associate(authz.ident, group_id, project_id)
    return Response(status_code=204)


@route(
    router,
    "GET",
    EG + "/{group_id}/projects/{project_id}",
    policy="identity:get_endpoint_group_in_project",
)
@route(
    router,
    "HEAD",
    EG + "/{group_id}/projects/{project_id}",
    policy="identity:get_endpoint_group_in_project",
)
def check_project(
    group_id: str, project_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """The project, when associated with the group; 404 otherwise."""
    authz.enforce()
    if not endpoint_groups.is_associated(authz.ident, group_id, project_id):
        raise NotFound(f"Project {project_id} is not associated with endpoint group {group_id}.")
    found = projects.show_project(authz.ident, project_id)
    return {"project": project_view(request, found.project, found.tags)}


@route(
    router,
    "DELETE",
    EG + "/{group_id}/projects/{project_id}",
    policy="identity:remove_endpoint_group_from_project",
    status_code=204,
)
def remove_project(group_id: str, project_id: str, authz: Authz = AuthzDep) -> Response:
    """Dissociate a project from an endpoint group."""
    authz.enforce()
    endpoint_groups.dissociate(authz.ident, group_id, project_id)
    return Response(status_code=204)


@route(
    router,
    "GET",
    "/v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups",
    policy="identity:list_endpoint_groups_for_project",
)
def project_groups(project_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Endpoint groups associated with a project."""
    authz.enforce()
    rows = endpoint_groups.groups_of(authz.ident, project_id)
    return {
        "endpoint_groups": [group_view(request, g) for g in rows],
        "links": collection_links(request),
    }
