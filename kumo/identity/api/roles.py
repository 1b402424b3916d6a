"""/v3/roles, implied roles (/v3/roles/{id}/implies) and /v3/role_inferences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.errors import NotFound
from kumo.identity.api.deps import Authz, AuthzDep, route, self_url
from kumo.identity.api.views import collection_links, links, role_view
from kumo.identity.db.models import Role
from kumo.identity.schemas import changes_of
from kumo.identity.schemas.roles import RoleCreateRequest, RoleUpdateRequest
from kumo.identity.service import role_store
from kumo.identity.service.role_store import domain_of

router = APIRouter()


def _role_ref(request: Request, role: Role) -> dict[str, Any]:
    return {"id": role.id, "name": role.name, "links": links(request, "roles", role.id)}


def _target(role: Role) -> dict[str, Any]:
    return {
        "target.role.id": role.id,
        "target.role.name": role.name,
        "target.role.domain_id": domain_of(role),
    }


def _enforce(authz: Authz, domain_id: str | None, domain_rule: str, target: dict[str, Any]) -> None:
    """The route's rule for a global role; Keystone's ``*_domain_role`` rule otherwise."""
    if domain_id is None:
        authz.enforce(target)
    else:
        Authz(authz.ident, authz.ctx, domain_rule).enforce(target)


def _load(authz: Authz, role_id: str, domain_rule: str) -> Role:
    """The role after the policy check; a missing role is only revealed to the allowed."""
    try:
        role = role_store.show_role(authz.ident, role_id)
    except NotFound:
        authz.enforce({"target.role.id": role_id})
        raise
    _enforce(authz, domain_of(role), domain_rule, _target(role))
    return role


@route(router, "POST", "/v3/roles", policy="identity:create_role", status_code=201)
def create_role(
    body: RoleCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a global or domain-specific role."""
    r = body.role
    _enforce(
        authz,
        r.domain_id,
        "identity:create_domain_role",
        {"target.role.name": r.name, "target.role.domain_id": r.domain_id},
    )
    options = r.options.model_dump(exclude_unset=True) if r.options else None
    role = role_store.create_role(
        authz.ident,
        name=r.name,
        domain_id=r.domain_id,
        description=r.description,
        options=options,
        extra=r.extras(),
    )
    return {"role": role_view(request, role)}


@route(router, "GET", "/v3/roles", policy="identity:list_roles")
def list_roles(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List global roles, or with ``domain_id`` the roles of that domain."""
    domain_id = request.query_params.get("domain_id")
    _enforce(authz, domain_id, "identity:list_domain_roles", {"target.domain_id": domain_id})
    rows = role_store.list_roles(authz.ident, request.query_params)
    return {"roles": [role_view(request, r) for r in rows], "links": collection_links(request)}


@route(router, "GET", "/v3/roles/{role_id}", policy="identity:get_role")
def get_role(role_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a role."""
    return {"role": role_view(request, _load(authz, role_id, "identity:get_domain_role"))}


@route(router, "PATCH", "/v3/roles/{role_id}", policy="identity:update_role")
def update_role(
    role_id: str, body: RoleUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a role (403 while it is immutable, except to make it mutable)."""
    _load(authz, role_id, "identity:update_domain_role")
    changes = changes_of(body.role)
    if body.role.options is not None:
        changes["options"] = body.role.options.model_dump(exclude_unset=True)
    role = role_store.update_role(authz.ident, role_id, changes)
    return {"role": role_view(request, role)}


@route(router, "DELETE", "/v3/roles/{role_id}", policy="identity:delete_role", status_code=204)
def delete_role(role_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a role, its grants and inference rules; revokes its holders' tokens."""
    _load(authz, role_id, "identity:delete_domain_role")
    role_store.delete_role(authz.ident, role_id)
    return Response(status_code=204)


# -- implied roles -------------------------------------------------------------


def _rule_target(prior_role_id: str, implied_role_id: str | None = None) -> dict[str, Any]:
    return {"target.prior_role.id": prior_role_id, "target.implied_role.id": implied_role_id}


def _inference(request: Request, prior: Role, implied: Role) -> dict[str, Any]:
    return {
        "role_inference": {
            "prior_role": _role_ref(request, prior),
            "implies": _role_ref(request, implied),
        },
        "links": {"self": self_url(request, "roles", prior.id, "implies", implied.id)},
    }


@route(router, "GET", "/v3/roles/{prior_role_id}/implies", policy="identity:list_implied_roles")
def list_implied_roles(
    prior_role_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """The roles a role implies directly."""
    authz.enforce(_rule_target(prior_role_id))
    found = role_store.list_implied_roles(authz.ident, prior_role_id)
    return {
        "role_inference": {
            "prior_role": _role_ref(request, found.prior),
            "implies": [_role_ref(request, r) for r in found.implies],
        },
        "links": {"self": self_url(request, "roles", prior_role_id, "implies")},
    }


@route(
    router,
    "PUT",
    "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
    policy="identity:create_implied_role",
    status_code=201,
)
def create_implied_role(
    prior_role_id: str, implied_role_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Make one role imply another."""
    authz.enforce(_rule_target(prior_role_id, implied_role_id))
    prior, implied = role_store.create_implied_role(authz.ident, prior_role_id, implied_role_id)
    return _inference(request, prior, implied)


@route(
    router,
    "GET",
    "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
    policy="identity:get_implied_role",
)
def get_implied_role(
    prior_role_id: str, implied_role_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Show one inference rule."""
    authz.enforce(_rule_target(prior_role_id, implied_role_id))
    prior, implied = role_store.get_implied_role(authz.ident, prior_role_id, implied_role_id)
    return _inference(request, prior, implied)


@route(
    router,
    "HEAD",
    "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
    policy="identity:check_implied_role",
    status_code=204,
)
def check_implied_role(
    prior_role_id: str, implied_role_id: str, authz: Authz = AuthzDep
) -> Response:
    """204 when the rule exists (Keystone also requires get_implied_role)."""
    target = _rule_target(prior_role_id, implied_role_id)
    authz.enforce(target)
    Authz(authz.ident, authz.ctx, "identity:get_implied_role").enforce(target)
    role_store.get_implied_role(authz.ident, prior_role_id, implied_role_id)
    return Response(status_code=204)


@route(
    router,
    "DELETE",
    "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
    policy="identity:delete_implied_role",
    status_code=204,
)
def delete_implied_role(
    prior_role_id: str, implied_role_id: str, authz: Authz = AuthzDep
) -> Response:
    """Remove an inference rule."""
    authz.enforce(_rule_target(prior_role_id, implied_role_id))
    role_store.delete_implied_role(authz.ident, prior_role_id, implied_role_id)
    return Response(status_code=204)


@route(router, "GET", "/v3/role_inferences", policy="identity:list_role_inference_rules")
def list_role_inferences(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every inference rule, grouped by prior role."""
    authz.enforce({})
    return {
        "role_inferences": [
            {
                "prior_role": _role_ref(request, i.prior),
                "implies": [_role_ref(request, r) for r in i.implies],
            }
            for i in role_store.list_inferences(authz.ident)
        ]
    }
