"""/v2.0/quotas: show, update, reset, details."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.service import (
    quotas,
)
from kumo.network.service import validate as v

router = APIRouter()


def _quota_target(project_id: str) -> dict[str, Any]:
    return {"project_id": project_id, "tenant_id": project_id}


@route(router, "GET", "/v2.0/quotas", policy="get_quota")
def list_quotas(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Projects with limits of their own (admins only, as in Neutron)."""
    common.enforce(authz, "admin_only", {})
    return {"quotas": quotas.projects_with_quotas(common.database(request))}


@route(router, "GET", "/v2.0/quotas/tenant", policy="get_quota")
def show_own_tenant(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's project id (``{"tenant": {"tenant_id"}}``)."""
    return {"tenant": {"tenant_id": authz.ctx.project_id}}


@route(router, "GET", "/v2.0/quotas/project", policy="get_quota")
def show_own_project(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's project id (``{"project": {"project_id"}}``)."""
    return {"project": {"project_id": authz.ctx.project_id}}


@route(router, "GET", "/v2.0/quotas/{project_id}", policy="get_quota")
def show_quota(project_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A project's limits."""
    common.enforce(authz, "get_quota", _quota_target(project_id))
    return {"quota": quotas.limits(common.database(request), project_id)}


@route(router, "GET", "/v2.0/quotas/{project_id}/default", policy="get_quota")
def show_default_quota(project_id: str, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The default limits."""
    common.enforce(authz, "get_quota", _quota_target(project_id))
    return {"quota": quotas.defaults()}


@route(router, "GET", "/v2.0/quotas/{project_id}/details", policy="get_quota")
def show_quota_details(
    project_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Limit, usage and reservations per resource."""
    common.enforce(authz, "get_quota", _quota_target(project_id))
    return {"quota": quotas.details(common.database(request), project_id)}


@route(router, "PUT", "/v2.0/quotas/{project_id}", policy="update_quota")
def update_quota(
    project_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Set some limits (-1 is unlimited)."""
    common.enforce(authz, "update_quota", _quota_target(project_id))
    common.storable(body)
    if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
        raise common.bad_request("Unable to find 'quota' in request body")
    values: dict[str, int] = {}
    unknown = sorted(k for k in body["quota"] if k not in quotas.QUOTA_RESOURCES)
    if unknown:
        raise common.bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for key, raw in body["quota"].items():
        try:
            values[key] = v.integer(-1, 2**31 - 1)(raw)
        except ValueError as exc:
            raise common.bad_request(f"Invalid input for {key}. Reason: {exc}.") from exc
    return {"quota": quotas.update(common.database(request), project_id, values)}


@route(router, "DELETE", "/v2.0/quotas/{project_id}", policy="delete_quota", status_code=204)
def delete_quota(project_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Back to the default limits."""
    common.enforce(authz, "delete_quota", _quota_target(project_id))
    quotas.reset(common.database(request), project_id)
    return common.no_content()
