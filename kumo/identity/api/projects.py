"""/v3/projects and project tags."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from kumo.common.errors import NotFound
from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, project_view
from kumo.identity.schemas import (
    ProjectCreateRequest,
    ProjectUpdateRequest,
    TagsRequest,
    changes_of,
)
from kumo.identity.service import projects

router = APIRouter()


def _target(p: projects.ProjectWithTags) -> dict[str, Any]:
    return {"target.project.id": p.project.id, "target.project.domain_id": p.project.domain_id}


@route(router, "POST", "/v3/projects", policy="identity:create_project", status_code=201)
def create_project(
    body: ProjectCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a project (or, with is_domain, a domain)."""
    p = body.project
    domain_id = p.domain_id
    if domain_id is None and p.parent_id is None and not p.is_domain:
        domain_id = projects.default_domain_for(authz.ctx.domain_id, authz.ctx.project_domain_id)
    authz.enforce({"target.project.domain_id": domain_id, "target.project.parent_id": p.parent_id})
    created = projects.create_project(
        authz.ident,
        name=p.name,
        domain_id=domain_id,
        parent_id=p.parent_id,
        is_domain=p.is_domain,
        enabled=p.enabled,
        description=p.description,
        tags=p.tags,
        options=p.options,
        extra=p.extras(),
    )
    return {"project": project_view(request, created.project, created.tags)}


@route(router, "GET", "/v3/projects", policy="identity:list_projects")
def list_projects(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List projects with Keystone's filters."""
    authz.enforce({"target.domain_id": request.query_params.get("domain_id")})
    rows = projects.list_projects(authz.ident, request.query_params)
    if not authz.ident.enforcer.check_rule("admin_required", authz.creds(), {}):
        # A domain reader sees only the projects of their domain.
        rows = [r for r in rows if authz.allows({"target.domain_id": r.project.domain_id})]
    return {
        "projects": [project_view(request, r.project, r.tags) for r in rows],
        "links": collection_links(request),
    }


@route(router, "GET", "/v3/projects/{project_id}", policy="identity:get_project")
def get_project(project_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a project, optionally with its parents and subtree ids."""
    found = projects.show_project(authz.ident, project_id, domain=None)
    authz.enforce(_target(found))
    view = project_view(request, found.project, found.tags)
    q = request.query_params
    if any(
        k in q for k in ("parents_as_ids", "subtree_as_ids", "parents_as_list", "subtree_as_list")
    ):
        parents, subtree = projects.parents_and_subtree(authz.ident, project_id)
        if "parents_as_ids" in q:
            view["parents"] = _nested_ids(projects.ancestor_ids(authz.ident, project_id))
        if "subtree_as_ids" in q:
            view["subtree"] = {i: None for i in subtree} or None
        if "parents_as_list" in q:
            view["parents"] = [
                {"project": project_view(request, x.project, x.tags)}
                for x in (projects.show_project(authz.ident, i) for i in parents)
            ]
        if "subtree_as_list" in q:
            view["subtree"] = [
                {"project": project_view(request, x.project, x.tags)}
                for x in (projects.show_project(authz.ident, i) for i in subtree)
            ]
    return {"project": view}


def _nested_ids(parents: list[str]) -> dict[str, Any] | None:
    nested: dict[str, Any] | None = None
    for pid in reversed(parents):
        nested = {pid: nested}
    return nested


@route(router, "PATCH", "/v3/projects/{project_id}", policy="identity:update_project")
def update_project(
    project_id: str, body: ProjectUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a project."""
    authz.enforce(_target(projects.show_project(authz.ident, project_id)))
    updated = projects.update_project(authz.ident, project_id, changes_of(body.project))
    return {"project": project_view(request, updated.project, updated.tags)}


@route(
    router, "DELETE", "/v3/projects/{project_id}", policy="identity:delete_project", status_code=204
)
def delete_project(project_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a leaf project."""
    authz.enforce(_target(projects.show_project(authz.ident, project_id)))
    projects.delete_project(authz.ident, project_id)
    return Response(status_code=204)


@route(router, "GET", "/v3/projects/{project_id}/tags", policy="identity:list_project_tags")
def list_tags(project_id: str, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A project's tags."""
    found = projects.show_project(authz.ident, project_id)
    authz.enforce(_target(found))
    return {"tags": found.tags}


@route(router, "PUT", "/v3/projects/{project_id}/tags", policy="identity:update_project_tags")
def replace_tags(project_id: str, body: TagsRequest, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Replace a project's tags."""
    authz.enforce(_target(projects.show_project(authz.ident, project_id)))
    return {"tags": projects.set_tags(authz.ident, project_id, body.tags)}


@route(
    router,
    "DELETE",
    "/v3/projects/{project_id}/tags",
    policy="identity:delete_project_tags",
    status_code=204,
)
def delete_tags(project_id: str, authz: Authz = AuthzDep) -> Response:
    """Remove every tag of a project."""
    authz.enforce(_target(projects.show_project(authz.ident, project_id)))
    projects.set_tags(authz.ident, project_id, [])
    return Response(status_code=204)


@route(
    router,
    "GET",
    "/v3/projects/{project_id}/tags/{tag}",
    policy="identity:get_project_tag",
    status_code=204,
)
@route(
    router,
    "HEAD",
    "/v3/projects/{project_id}/tags/{tag}",
    policy="identity:get_project_tag",
    status_code=204,
)
def check_tag(project_id: str, tag: str, authz: Authz = AuthzDep) -> Response:
    """204 when the project has the tag, 404 when not."""
    authz.enforce(_target(projects.show_project(authz.ident, project_id)))
    if not projects.has_tag(authz.ident, project_id, tag):
        raise NotFound(f"Tag {tag} not found on project {project_id}.")
    return Response(status_code=204)


@route(
    router,
    "PUT",
    "/v3/projects/{project_id}/tags/{tag}",
    policy="identity:create_project_tag",
    status_code=201,
    response_class=Response,  # 201 with no body, as Keystone: the document says so
)
def add_tag(project_id: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Add one tag."""
    authz.enforce(_target(projects.show_project(authz.ident, project_id)))
    projects.add_tag(authz.ident, project_id, tag)
    # Header values are Latin-1: a tag may hold any character, so the URL is percent-encoded.
    location = str(request.url.replace(path=quote(request.url.path)))
    return Response(status_code=201, headers={"Location": location})


@route(
    router,
    "DELETE",
    "/v3/projects/{project_id}/tags/{tag}",
    policy="identity:delete_project_tag",
    status_code=204,
)
def delete_tag(project_id: str, tag: str, authz: Authz = AuthzDep) -> Response:
    """Remove one tag."""
    authz.enforce(_target(projects.show_project(authz.ident, project_id)))
    projects.remove_tag(authz.ident, project_id, tag)
    return Response(status_code=204)
