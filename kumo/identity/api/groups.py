"""/v3/groups, group membership, and /v3/users/{user_id}/groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response

from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, links, user_view
from kumo.identity.db.models import Group
from kumo.identity.schemas import changes_of
from kumo.identity.schemas.groups import GroupCreateRequest, GroupUpdateRequest
from kumo.identity.service import groups, projects

router = APIRouter()
F = TypeVar("F", bound=Callable[..., Any])


def _get_and_head(path: str, policy: str) -> Callable[[F], F]:
    """Register a read route for GET and HEAD, as Keystone serves both."""

    def decorate(fn: F) -> F:
        route(router, "GET", path, policy=policy)(fn)
        route(router, "HEAD", path, policy=policy, name=f"{fn.__name__}_head")(fn)
        return fn

    return decorate


def group_view(request: Request, g: Group) -> dict[str, Any]:
    """A group, as Keystone renders it (extras included)."""
    return {
        **(g.extra or {}),
        "id": g.id,
        "name": g.name,
        "domain_id": g.domain_id,
        "description": g.description,
        "links": links(request, "groups", g.id),
    }


def _group_target(ident_group_domain: str | None) -> dict[str, Any]:
    return {"target.group.domain_id": ident_group_domain}


def _membership_target(authz: Authz, group_id: str, user_id: str) -> dict[str, Any]:
    # Missing objects leave the target empty, so callers without rights get 403.
    return {
        "target.group.domain_id": groups.domain_of_group(authz.ident, group_id),
        "target.user.domain_id": groups.domain_of_user(authz.ident, user_id),
        "target.user.id": user_id,
        "user_id": user_id,
    }


@route(router, "POST", "/v3/groups", policy="identity:create_group", status_code=201)
def create_group(
    body: GroupCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a group (in the token's domain when no domain_id is given)."""
    g = body.group
    domain_id = g.domain_id or projects.default_domain_for(
        authz.ctx.domain_id, authz.ctx.project_domain_id
    )
    authz.enforce(_group_target(domain_id))
    created = groups.create_group(
        authz.ident,
        name=g.name,
        domain_id=domain_id,
        description=g.description,
        extra=g.extras(),
    )
    return {"group": group_view(request, created)}


@_get_and_head("/v3/groups", "identity:list_groups")
def list_groups(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List groups, filtered by name and domain_id."""
    domain = request.query_params.get("domain_id") or authz.ctx.domain_id
    authz.enforce({"target.domain_id": domain, "target.group.domain_id": domain})
    rows = groups.list_groups(authz.ident, request.query_params)
    if authz.ctx.domain_id:
        # A domain-scoped caller sees only its own domain's groups, as in Keystone.
        rows = [g for g in rows if g.domain_id == authz.ctx.domain_id]
    return {"groups": [group_view(request, g) for g in rows], "links": collection_links(request)}


@_get_and_head("/v3/groups/{group_id}", "identity:get_group")
def get_group(group_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a group."""
    authz.enforce(_group_target(groups.domain_of_group(authz.ident, group_id)))
    return {"group": group_view(request, groups.show_group(authz.ident, group_id))}


@route(router, "PATCH", "/v3/groups/{group_id}", policy="identity:update_group")
def update_group(
    group_id: str, body: GroupUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a group's name, description or extra attributes."""
    authz.enforce(_group_target(groups.domain_of_group(authz.ident, group_id)))
    updated = groups.update_group(authz.ident, group_id, changes_of(body.group))
    return {"group": group_view(request, updated)}


@route(router, "DELETE", "/v3/groups/{group_id}", policy="identity:delete_group", status_code=204)
def delete_group(group_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a group, its memberships and its role grants."""
    authz.enforce(_group_target(groups.domain_of_group(authz.ident, group_id)))
    groups.delete_group(authz.ident, group_id)
    return Response(status_code=204)


@_get_and_head("/v3/groups/{group_id}/users", "identity:list_users_in_group")
def list_users_in_group(group_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List a group's members, with user filters."""
    authz.enforce(_group_target(groups.domain_of_group(authz.ident, group_id)))
    rows = groups.list_users_in_group(authz.ident, group_id, request.query_params)
    if authz.ctx.domain_id:
        rows = [r for r in rows if r.user.domain_id == authz.ctx.domain_id]
    return {
        "users": [user_view(request, r.user, r.password_expires_at) for r in rows],
        "links": collection_links(request),
    }


@route(
    router,
    "PUT",
    "/v3/groups/{group_id}/users/{user_id}",
    policy="identity:add_user_to_group",
    status_code=204,
)
def add_user_to_group(group_id: str, user_id: str, authz: Authz = AuthzDep) -> Response:
    """Add a user to a group."""
    authz.enforce(_membership_target(authz, group_id, user_id))
    groups.add_user_to_group(authz.ident, group_id, user_id)
    return Response(status_code=204)


def check_user_in_group(group_id: str, user_id: str, authz: Authz = AuthzDep) -> Response:
    """204 when the user is a member of the group, else 404."""
    authz.enforce(_membership_target(authz, group_id, user_id))
    groups.check_user_in_group(authz.ident, group_id, user_id)
    return Response(status_code=204)


for _method in ("HEAD", "GET"):
    route(
        router,
        _method,
        "/v3/groups/{group_id}/users/{user_id}",
        policy="identity:check_user_in_group",
        status_code=204,
        name=f"check_user_in_group_{_method.lower()}",
    )(check_user_in_group)


@route(
    router,
    "DELETE",
    "/v3/groups/{group_id}/users/{user_id}",
    policy="identity:remove_user_from_group",
    status_code=204,
)
def remove_user_from_group(group_id: str, user_id: str, authz: Authz = AuthzDep) -> Response:
    """Remove a user from a group; the user's tokens are revoked."""
    authz.enforce(_membership_target(authz, group_id, user_id))
    groups.remove_user_from_group(authz.ident, group_id, user_id)
    return Response(status_code=204)


@_get_and_head("/v3/users/{user_id}/groups", "identity:list_groups_for_user")
def list_groups_for_user(user_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List the groups a user belongs to (a user may list their own)."""
    authz.enforce(
        {
            "target.user.domain_id": groups.domain_of_user(authz.ident, user_id),
            "target.user.id": user_id,
            "user_id": user_id,
        }
    )
    rows = groups.list_groups_for_user(authz.ident, user_id, request.query_params)
    if authz.ctx.domain_id:
        rows = [g for g in rows if g.domain_id == authz.ctx.domain_id]
    # Membership of a plain group never expires; Keystone says so explicitly.
    return {
        "groups": [{**group_view(request, g), "membership_expires_at": None} for g in rows],
        "links": collection_links(request),
    }
