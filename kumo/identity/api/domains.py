"""/v3/domains."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, domain_view
from kumo.identity.schemas import DomainCreateRequest, DomainUpdateRequest, changes_of
from kumo.identity.service import projects

router = APIRouter()


def _target(domain_id: str) -> dict[str, Any]:
    return {"target.domain.id": domain_id}


@route(router, "POST", "/v3/domains", policy="identity:create_domain", status_code=201)
def create_domain(
    body: DomainCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a domain."""
    authz.enforce()
    d = body.domain
    created = projects.create_project(
        authz.ident,
        name=d.name,
        domain_id=None,
        is_domain=True,
        enabled=d.enabled,
        description=d.description,
        tags=d.tags,
        options=d.options,
        extra=d.extras(),
        project_id=d.explicit_domain_id,
    )
    return {"domain": domain_view(request, created.project, created.tags)}


@route(router, "GET", "/v3/domains", policy="identity:list_domains")
def list_domains(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List domains, filtered by name and enabled."""
    authz.enforce()
    rows = projects.list_projects(authz.ident, request.query_params, domain=True)
    return {
        "domains": [domain_view(request, r.project, r.tags) for r in rows],
        "links": collection_links(request),
    }


@route(router, "GET", "/v3/domains/{domain_id}", policy="identity:get_domain")
def get_domain(domain_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a domain."""
    found = projects.show_project(authz.ident, domain_id, domain=True)
    authz.enforce(_target(domain_id))
    return {"domain": domain_view(request, found.project, found.tags)}


@route(router, "PATCH", "/v3/domains/{domain_id}", policy="identity:update_domain")
def update_domain(
    domain_id: str, body: DomainUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a domain."""
    authz.enforce(_target(domain_id))
    updated = projects.update_project(authz.ident, domain_id, changes_of(body.domain), domain=True)
    return {"domain": domain_view(request, updated.project, updated.tags)}


@route(
    router, "DELETE", "/v3/domains/{domain_id}", policy="identity:delete_domain", status_code=204
)
def delete_domain(domain_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a disabled domain and everything in it."""
    authz.enforce(_target(domain_id))
    projects.delete_project(authz.ident, domain_id, domain=True)
    return Response(status_code=204)
