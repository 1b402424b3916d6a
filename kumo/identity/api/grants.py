"""Role grants on projects, domains and the system, and their OS-INHERIT forms.

Every grant URL has the same four operations (PUT grants, GET/HEAD checks,
DELETE revokes) plus a list of the roles granted; so the routes are built from
one table rather than written out thirty times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, role_view
from kumo.identity.service import grants
from kumo.identity.service.grants import Actor, Grant, TargetKind

router = APIRouter()


@dataclass(frozen=True)
class GrantPath:
    """One family of grant URLs: an actor kind on a target kind, maybe inherited."""

    target: TargetKind
    actor: Actor
    inherited: bool = False
    listable: bool = True

    @property
    def base(self) -> str:
        """The URL up to ``/roles``."""
        actor = f"{self.actor}s/{{{self.actor}_id}}"
        if self.target == "system":
            prefix = "/v3/system"
        else:
            prefix = f"/v3/{self.target}s/{{{self.target}_id}}"
            if self.inherited:
                prefix = prefix.replace("/v3/", "/v3/OS-INHERIT/", 1)
        return f"{prefix}/{actor}/roles"

    def member(self) -> str:
        """The URL of one grant."""
        suffix = "/inherited_to_projects" if self.inherited else ""
        return f"{self.base}/{{role_id}}{suffix}"

    def collection(self) -> str:
        """The URL listing the granted roles."""
        return f"{self.base}/inherited_to_projects" if self.inherited else self.base

    def grant(self, params: dict[str, Any]) -> Grant:
        """The grant a request's path parameters name."""
        target_id = params[f"{self.target}_id"] if self.target != "system" else "system"
        return Grant(self.actor, params[f"{self.actor}_id"], self.target, target_id, self.inherited)

    def rule(self, op: str) -> str:
        """The policy rule of ``op`` (check, list, create, revoke), named as in Keystone."""
        if self.target != "system":
            return f"identity:{op}_grant" if op != "list" else "identity:list_grants"
        noun = "grants" if op == "list" else "grant"
        return f"identity:{op}_system_{noun}_for_{self.actor}"


PATHS = [
    *(GrantPath(t, a) for t in ("project", "domain", "system") for a in ("user", "group")),
    *(GrantPath("domain", a, inherited=True) for a in ("user", "group")),
    # Keystone has no list of a project's inherited grants, only check/put/delete.
    *(GrantPath("project", a, inherited=True, listable=False) for a in ("user", "group")),
]


def _enforce(
    authz: Authz, path: GrantPath, grant: Grant, role_id: str | None, *, actor_required: bool = True
) -> None:
    """Look the parties up (404 when missing) and check the rule on their domains."""
    found = grants.parties(authz.ident, grant, role_id, actor_required=actor_required)
    authz.enforce(
        {
            f"target.{path.actor}.id": grant.actor_id,
            f"target.{path.actor}.domain_id": found.actor_domain_id,
            "target.project.id": grant.target_id if path.target == "project" else None,
            "target.project.domain_id": found.project_domain_id,
            "target.domain.id": found.domain_id,
            "target.role.id": role_id,
            "target.role.domain_id": found.role_domain_id,
        }
    )


def _handlers(path: GrantPath) -> dict[str, Callable[..., Any]]:
    def create(request: Request, authz: Authz = AuthzDep) -> Response:
        grant, role_id = path.grant(request.path_params), request.path_params["role_id"]
        _enforce(authz, path, grant, role_id)
        grants.create_grant(authz.ident, grant, role_id)
        return Response(status_code=204)

    def check(request: Request, authz: Authz = AuthzDep) -> Response:
        grant, role_id = path.grant(request.path_params), request.path_params["role_id"]
        _enforce(authz, path, grant, role_id)
        grants.check_grant(authz.ident, grant, role_id)
        return Response(status_code=204)

    def revoke(request: Request, authz: Authz = AuthzDep) -> Response:
        grant, role_id = path.grant(request.path_params), request.path_params["role_id"]
        # The actor may be gone already: its leftover grants can still be removed.
        _enforce(authz, path, grant, role_id, actor_required=False)
        grants.revoke_grant(authz.ident, grant, role_id)
        return Response(status_code=204)

    def list_roles(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
        grant = path.grant(request.path_params)
        _enforce(authz, path, grant, None)
        rows = grants.list_grants(authz.ident, grant)
        return {"roles": [role_view(request, r) for r in rows], "links": collection_links(request)}

    return {"create": create, "check": check, "revoke": revoke, "list": list_roles}


def _register(path: GrantPath) -> None:
    handlers = _handlers(path)
    name = f"{'inherited_' if path.inherited else ''}{path.target}_{path.actor}_grant"
    ops = [
        ("PUT", "create", path.member()),
        ("GET", "check", path.member()),
        ("HEAD", "check", path.member()),
        ("DELETE", "revoke", path.member()),
    ]
    if path.listable:
        ops += [("GET", "list", path.collection()), ("HEAD", "list", path.collection())]
    for method, op, url in ops:
        status = 200 if op == "list" else 204
        handler = handlers[op]
        handler.__doc__ = f"{op.capitalize()} {name.replace('_', ' ')}s."
        route(
            router,
            method,
            url,
            policy=path.rule(op),
            status_code=status,
            name=f"{op}_{name}_{method.lower()}",
        )(handler)


for _path in PATHS:
    _register(_path)
