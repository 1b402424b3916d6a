"""/v3/users/{user_id}/access_rules: the rules a user's application credentials use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, links
from kumo.identity.db.models import AccessRule
from kumo.identity.service import access_rules

router = APIRouter()
PATH = "/v3/users/{user_id}/access_rules"


def _view(request: Request, rule: AccessRule) -> dict[str, Any]:
    return {
        **access_rules.rule_dict(rule),
        "links": links(request, "users", rule.user_id, "access_rules", rule.id),
    }


def _target(user_id: str) -> dict[str, Any]:
    # As Keystone's _build_user_target_enforcement: the URL's user owns the rules.
    return {"target.user.id": user_id}


@route(router, "GET", PATH, policy="identity:list_access_rules")
def list_access_rules(user_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A user's access rules (filters: ``service``, ``path``, ``method``)."""
    authz.enforce(_target(user_id))
    rules = access_rules.list_access_rules(authz.ident, user_id, request.query_params)
    return {
        "access_rules": [_view(request, r) for r in rules],
        "links": collection_links(request),
    }


@route(router, "GET", PATH + "/{access_rule_id}", policy="identity:get_access_rule")
def get_access_rule(
    user_id: str, access_rule_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Show one of a user's access rules."""
    authz.enforce(_target(user_id))
    rule = access_rules.show_access_rule(authz.ident, user_id, access_rule_id)
    return {"access_rule": _view(request, rule)}


@route(
    router,
    "DELETE",
    PATH + "/{access_rule_id}",
    policy="identity:delete_access_rule",
    status_code=204,
)
def delete_access_rule(user_id: str, access_rule_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete an access rule no application credential uses any more (403 otherwise)."""
    authz.enforce(_target(user_id))
    access_rules.delete_access_rule(authz.ident, user_id, access_rule_id)
    return Response(status_code=204)
