"""/v3/users, a user's projects, and self-service password change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.identity.api.deps import Authz, AuthzDep, get_identity, route
from kumo.identity.api.views import collection_links, project_view, user_view
from kumo.identity.schemas import (
    PasswordChangeRequest,
    UserCreateRequest,
    UserUpdateRequest,
    changes_of,
)
from kumo.identity.service import projects, scopes, users

router = APIRouter()


def _target(user_id: str, domain_id: str) -> dict[str, Any]:
    return {"target.user.id": user_id, "target.user.domain_id": domain_id}


def _view(request: Request, info: users.UserInfo) -> dict[str, Any]:
    return user_view(request, info.user, info.password_expires_at)


@route(router, "POST", "/v3/users", policy="identity:create_user", status_code=201)
def create_user(
    body: UserCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a user."""
    u = body.user
    domain_id = u.domain_id or projects.default_domain_for(
        authz.ctx.domain_id, authz.ctx.project_domain_id
    )
    authz.enforce({"target.user.domain_id": domain_id})
    info = users.create_user(
        authz.ident,
        name=u.name,
        domain_id=domain_id,
        password=u.password,
        enabled=u.enabled,
        default_project_id=u.default_project_id,
        options=u.options,
        extra=u.extras(),
    )
    return {"user": _view(request, info)}


@route(router, "GET", "/v3/users", policy="identity:list_users")
def list_users(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List users with Keystone's filters."""
    authz.enforce({"target.domain_id": request.query_params.get("domain_id")})
    rows = users.list_users(authz.ident, request.query_params)
    if not authz.ident.enforcer.check_rule("admin_required", authz.creds(), {}):
        rows = [r for r in rows if authz.allows({"target.domain_id": r.user.domain_id})]
    return {"users": [_view(request, r) for r in rows], "links": collection_links(request)}


@route(router, "GET", "/v3/users/{user_id}", policy="identity:get_user")
def get_user(user_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a user."""
    info = users.show_user(authz.ident, user_id)
    authz.enforce(_target(user_id, info.user.domain_id))
    return {"user": _view(request, info)}


@route(router, "PATCH", "/v3/users/{user_id}", policy="identity:update_user")
def update_user(
    user_id: str, body: UserUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a user; a new password or disabling revokes their tokens."""
    authz.enforce(_target(user_id, users.domain_of_user(authz.ident, user_id)))
    info = users.update_user(authz.ident, user_id, changes_of(body.user))
    return {"user": _view(request, info)}


@route(router, "DELETE", "/v3/users/{user_id}", policy="identity:delete_user", status_code=204)
def delete_user(user_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a user."""
    authz.enforce(_target(user_id, users.domain_of_user(authz.ident, user_id)))
    users.delete_user(authz.ident, user_id)
    return Response(status_code=204)


@route(router, "POST", "/v3/users/{user_id}/password", policy="@public", status_code=204)
def change_password(user_id: str, body: PasswordChangeRequest, request: Request) -> Response:
    """Change one's own password; the original password is the proof (no token needed)."""
    users.change_password(
        get_identity(request), user_id, body.user.original_password, body.user.password
    )
    return Response(status_code=204)


@route(router, "GET", "/v3/users/{user_id}/projects", policy="identity:list_user_projects")
def list_user_projects(user_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Projects where the user holds a role."""
    authz.enforce(_target(user_id, users.domain_of_user(authz.ident, user_id)))
    rows = scopes.projects_for(authz.ident, user_id)
    return {
        "projects": [project_view(request, p, []) for p in rows],
        "links": collection_links(request),
    }
