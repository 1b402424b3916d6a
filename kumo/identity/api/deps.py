"""Per-request plumbing for identity routes: the caller's context and its policy check."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from kumo.common.api import POLICY_KEY, route, service_base
from kumo.common.context import RequestContext
from kumo.common.errors import NotFound, Unauthorized
from kumo.identity.service import auth, revision
from kumo.identity.service.core import Identity
from kumo.identity.service.token_cache import Validated


def get_identity(request: Request) -> Identity:
    """The process's identity service bundle."""
    ident: Identity = request.app.state.identity
    return ident


async def validated(
    request: Request, ident: Identity, token: str, *, allow_expired: bool = False
) -> Validated:
    """Validate a token: from the cache on the event loop, else in a worker thread.

    The identity revision is read once per request and shared by the caller's
    token and the subject token.
    """
    if not allow_expired:
        state = request.scope.setdefault("state", {})
        rev = state.get("identity_revision")
        if rev is None:
            rev = state["identity_revision"] = revision.latest(ident.db.read_engine)
        hit = auth.cached(ident, token, rev)
        if hit is not None:
            return hit
    return await run_in_threadpool(auth.validated, ident, token, allow_expired=allow_expired)


async def caller_context(request: Request, ident: Identity, token: str | None) -> RequestContext:
    """Validate the caller's X-Auth-Token and build their context (401 when invalid)."""
    if not token:
        raise Unauthorized("The request you have made requires authentication.")
    try:
        v = await validated(request, ident, token)
    except NotFound as exc:
        raise Unauthorized("The request you have made requires authentication.") from exc
    payload = v.payload
    return RequestContext(
        user_id=v.user_id,
        user_domain_id=v.user_domain_id,
        project_id=payload.project_id,
        project_domain_id=v.project_domain_id,
        domain_id=payload.domain_id,
        system_scope=payload.system,
        roles=list(v.role_names),
        token_id=token,
        audit_ids=payload.audit_ids,
        application_credential_id=payload.application_credential_id,
        request_id=request.scope.get("state", {}).get("request_id"),
    )


class Authz:
    """The caller of one route and the policy rule that guards the route."""

    def __init__(self, ident: Identity, ctx: RequestContext, rule: str) -> None:
        self.ident = ident
        self.ctx = ctx
        self.rule = rule

    def creds(self) -> dict[str, Any]:
        """Credentials as policy rules see them (Keystone's token.* too)."""
        creds = self.ctx.credentials()
        creds["token"] = {
            "domain": {"id": self.ctx.domain_id},
            "project": {"id": self.ctx.project_id, "domain": {"id": self.ctx.project_domain_id}},
            "user": {"id": self.ctx.user_id, "domain": {"id": self.ctx.user_domain_id}},
        }
        return creds

    def enforce(self, target: dict[str, Any] | None = None) -> None:
        """Raise Forbidden unless the route's rule passes for ``target``."""
        self.ident.enforcer.enforce(self.rule, self.creds(), target or {})

    def allows(self, target: dict[str, Any] | None = None) -> bool:
        """True when the route's rule passes for ``target`` (for filtering lists)."""
        return self.ident.enforcer.check_rule(self.rule, self.creds(), target or {})


async def authorize(request: Request) -> Authz:
    """The dependency every protected route takes: caller context plus its rule."""
    ident = get_identity(request)
    route = request.scope["route"]
    rule = (route.openapi_extra or {})[POLICY_KEY]
    ctx = await caller_context(request, ident, request.headers.get("x-auth-token"))
    return Authz(ident, ctx, rule)


AuthzDep = Depends(authorize)

__all__ = ["POLICY_KEY", "Authz", "AuthzDep", "route", "self_url", "service_base"]


def self_url(request: Request, *parts: str) -> str:
    """An absolute URL under this service's /v3, for resource links."""
    return "/".join([service_base(request), "v3", *parts])


def local_authenticator(ident: Identity) -> Any:
    """Other services' ``authenticate``: Fernet validation in this process, no HTTP hop."""

    async def authenticate(request: Request, token: str | None) -> RequestContext:
        return await caller_context(request, ident, token)

    return authenticate
