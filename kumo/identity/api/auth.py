"""/v3/auth: issue, validate, check and revoke tokens; what a token may scope to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kumo.common.errors import Forbidden, ValidationError
from kumo.identity.api.deps import Authz, AuthzDep, get_identity, route, self_url, validated
from kumo.identity.api.views import domain_view, project_view
from kumo.identity.schemas import AuthRequest
from kumo.identity.service import auth, scopes
from kumo.identity.service.token_cache import Validated

router = APIRouter()


def _flag(request: Request, name: str) -> bool:
    # Keystone treats a present flag with no value (``?nocatalog``) as true.
    value = request.query_params.get(name)
    return value is not None and value.lower() not in ("0", "false", "no", "off")


@route(router, "POST", "/v3/auth/tokens", policy="@public", status_code=201)
def issue_token(body: AuthRequest, request: Request) -> JSONResponse:
    """Authenticate with a password, a token or an application credential."""
    ident = get_identity(request)
    token, doc = auth.issue_token(ident, body, include_catalog=not _flag(request, "nocatalog"))
    return JSONResponse(doc, status_code=201, headers={"X-Subject-Token": token})


def _subject(request: Request) -> str:
    subject = request.headers.get("x-subject-token")
    if not subject:
        raise ValidationError("Expecting to find X-Subject-Token in the request headers.")
    return subject


async def _validated(request: Request, authz: Authz) -> tuple[str, Validated]:
    subject = _subject(request)
    v = await validated(
        request, authz.ident, subject, allow_expired=_flag(request, "allow_expired")
    )
    authz.enforce({"target.token.user_id": v.payload.user_id})
    return subject, v


@route(router, "GET", "/v3/auth/tokens", policy="identity:validate_token")
async def validate_token(request: Request, authz: Authz = AuthzDep) -> Response:
    """Validate a token and show what it grants, computed now."""
    subject, v = await _validated(request, authz)
    body = v.json_without_catalog if _flag(request, "nocatalog") else v.json
    return Response(body, media_type="application/json", headers={"X-Subject-Token": subject})


@route(router, "HEAD", "/v3/auth/tokens", policy="identity:check_token")
async def check_token(request: Request, authz: Authz = AuthzDep) -> Response:
    """Check a token: 200 when valid, 404 when not."""
    subject, _ = await _validated(request, authz)
    return Response(status_code=200, headers={"X-Subject-Token": subject})


@route(router, "DELETE", "/v3/auth/tokens", policy="identity:revoke_token", status_code=204)
async def revoke_token(request: Request, authz: Authz = AuthzDep) -> Response:
    """Revoke a token."""
    subject, _ = await _validated(request, authz)
    await run_in_threadpool(auth.revoke_token, authz.ident, subject)
    return Response(status_code=204)


@route(router, "GET", "/v3/auth/catalog", policy="identity:get_auth_catalog")
def auth_catalog(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The catalog for the caller's token."""
    authz.enforce()
    ctx = authz.ctx
    if not (ctx.project_id or ctx.domain_id or ctx.system_scope):
        raise Forbidden("A catalog is only given for a scoped token.")
    return {
        "catalog": scopes.catalog_for(authz.ident, ctx.project_id),
        "links": {"self": self_url(request, "auth", "catalog"), "previous": None, "next": None},
    }


@route(router, "GET", "/v3/auth/projects", policy="identity:get_auth_projects")
def auth_projects(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Projects the caller holds a role on."""
    authz.enforce()
    assert authz.ctx.user_id
    projects = scopes.projects_for(authz.ident, authz.ctx.user_id)
    return {
        "projects": [project_view(request, p, []) for p in projects],
        "links": {"self": self_url(request, "auth", "projects"), "previous": None, "next": None},
    }


@route(router, "GET", "/v3/auth/domains", policy="identity:get_auth_domains")
def auth_domains(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Domains the caller holds a role on."""
    authz.enforce()
    assert authz.ctx.user_id
    domains = scopes.domains_for(authz.ident, authz.ctx.user_id)
    return {
        "domains": [domain_view(request, d) for d in domains],
        "links": {"self": self_url(request, "auth", "domains"), "previous": None, "next": None},
    }


@route(router, "GET", "/v3/auth/system", policy="identity:get_auth_system")
def auth_system(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The system scope, when the caller holds a role on it."""
    authz.enforce()
    assert authz.ctx.user_id
    has = scopes.has_system_role(authz.ident, authz.ctx.user_id)
    return {
        "system": [{"all": True}] if has else [],
        "links": {"self": self_url(request, "auth", "system"), "previous": None, "next": None},
    }
