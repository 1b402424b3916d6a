"""/os-quota-sets, /os-quota-class-sets and /limits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.microversion import Version
from kumo.compute.api.versions import compute_version
from kumo.compute.schemas import params
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service import quotas

router = APIRouter()

QS = "/v2.1/os-quota-sets/{tenant_id}"
QCS = "/v2.1/os-quota-class-sets/{class_name}"


def _user(request: Request) -> str | None:
    return request.query_params.get("user_id") or None


def _values(data: dict[str, Any], key: str, allowed: list[str]) -> tuple[dict[str, int], bool]:
    body = params.obj(data, key)
    params.only(data, [key], "body")
    params.only(body, [*allowed, "force"] if key == "quota_set" else allowed, key)
    force = params.boolean("force", body.pop("force")) if "force" in body else False
    return {k: quotas.parse_limit(k, v) for k, v in body.items()}, force


@route(router, "GET", QS, policy="os_compute_api:os-quota-sets:show")
def show_quota_set(tenant_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The effective limits of a project (or of ``user_id`` in it)."""
    authz.enforce({"project_id": tenant_id})
    names = quotas.resources_at(compute_version(request))
    with request.app.state.db.reader() as s:
        limits = quotas.get_limits(s, tenant_id, _user(request))
    return {"quota_set": {"id": tenant_id, **{n: limits[n] for n in names}}}


@route(router, "GET", QS + "/defaults", policy="os_compute_api:os-quota-sets:defaults")
def show_defaults(tenant_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The default limits (the ``default`` quota class)."""
    authz.enforce({"project_id": tenant_id})
    names = quotas.resources_at(compute_version(request))
    with request.app.state.db.reader() as s:
        limits = quotas.class_limits(s)
    return {"quota_set": {"id": tenant_id, **{n: limits[n] for n in names}}}


@route(router, "GET", QS + "/detail", policy="os_compute_api:os-quota-sets:detail")
def show_detail(tenant_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Limits with what is in use (``reserved`` is always 0: usage is counted)."""
    authz.enforce({"project_id": tenant_id})
    names = quotas.resources_at(compute_version(request))
    user_id = _user(request)
    with request.app.state.db.reader() as s:
        limits = quotas.get_limits(s, tenant_id, user_id)
        used = quotas.usage(s, tenant_id, user_id)
    detail = {n: {"limit": limits[n], "in_use": used.get(n, 0), "reserved": 0} for n in names}
    return {"quota_set": {"id": tenant_id, **detail}}


@route(router, "PUT", QS, policy="os_compute_api:os-quota-sets:update")
def update_quota_set(
    tenant_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Set limits of a project (or ``user_id``); ``force`` skips the in-use checks."""
    authz.enforce({"project_id": tenant_id})
    names = quotas.resources_at(compute_version(request))
    values, force = _values(body.data(), "quota_set", names)
    with request.app.state.db.writer() as s:
        limits = quotas.update_limits(s, tenant_id, _user(request), values, force=force)
    return {"quota_set": {n: limits[n] for n in names}}


@route(
    router,
    "DELETE",
    QS,
    policy="os_compute_api:os-quota-sets:delete",
    status_code=202,
    response_class=Response,  # 202 with no body (the document said JSON: `make fuzz`)
)
def delete_quota_set(tenant_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Forget a project's (or user's) limits: the defaults apply again."""
    authz.enforce({"project_id": tenant_id})
    with request.app.state.db.writer() as s:
        quotas.delete_limits(s, tenant_id, _user(request))
    return Response(status_code=202)


@route(router, "GET", QCS, policy="os_compute_api:os-quota-class-sets:show")
def show_quota_class(class_name: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A quota class's limits (only ``default`` is used)."""
    authz.enforce()
    names = quotas.class_resources_at(compute_version(request))
    with request.app.state.db.reader() as s:
        limits = quotas.class_limits(s, class_name)
    return {"quota_class_set": {"id": class_name, **{n: limits[n] for n in names}}}


@route(router, "PUT", QCS, policy="os_compute_api:os-quota-class-sets:update")
def update_quota_class(
    class_name: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Change a quota class's limits."""
    authz.enforce()
    params.string("id", class_name, 1, 255)
    version = compute_version(request)
    names = quotas.class_resources_at(version)
    # Before 2.50 every resource may be set (even those the response leaves out).
    allowed = list(quotas.DEFAULTS) if version < Version(2, 50) else names
    values, _ = _values(body.data(), "quota_class_set", allowed)
    with request.app.state.db.writer() as s:
        limits = quotas.set_class_limits(s, class_name, values)
    return {"quota_class_set": {n: limits[n] for n in names}}


#: /limits: absolute limit name → (quota resource, first microversion without it).
ABSOLUTE: dict[str, tuple[str, Version | None]] = {
    "maxTotalInstances": ("instances", None),
    "maxTotalCores": ("cores", None),
    "maxTotalRAMSize": ("ram", None),
    "maxServerMeta": ("metadata_items", None),
    "maxImageMeta": ("metadata_items", Version(2, 39)),
    "maxPersonality": ("injected_files", Version(2, 57)),
    "maxPersonalitySize": ("injected_file_content_bytes", Version(2, 57)),
    "maxTotalKeypairs": ("key_pairs", None),
    "maxSecurityGroups": ("security_groups", Version(2, 36)),
    "maxSecurityGroupRules": ("security_group_rules", Version(2, 36)),
    "maxTotalFloatingIps": ("floating_ips", Version(2, 36)),
    "maxServerGroups": ("server_groups", None),
    "maxServerGroupMembers": ("server_group_members", None),
}
USED: dict[str, tuple[str, Version | None]] = {
    "totalInstancesUsed": ("instances", None),
    "totalCoresUsed": ("cores", None),
    "totalRAMUsed": ("ram", None),
    "totalFloatingIpsUsed": ("floating_ips", Version(2, 36)),
    "totalSecurityGroupsUsed": ("security_groups", Version(2, 36)),
    "totalServerGroupsUsed": ("server_groups", None),
}


@route(router, "GET", "/v2.1/limits", policy="os_compute_api:limits")
def show_limits(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Absolute limits and usage of the caller's project (``tenant_id`` for admins)."""
    authz.enforce()
    version = compute_version(request)
    project_id = authz.ctx.project_id or ""
    wanted = request.query_params.get("tenant_id")
    if wanted and wanted != project_id:
        authz.enforce({"project_id": wanted}, rule="os_compute_api:limits:other_project")
        project_id = wanted
    with request.app.state.db.reader() as s:
        limits = quotas.get_limits(s, project_id)
        used = quotas.usage(s, project_id)
    absolute: dict[str, int] = {}
    for name, (resource, gone) in ABSOLUTE.items():
        if gone is None or version < gone:
            absolute[name] = limits[resource]
    for name, (resource, gone) in USED.items():
        if gone is None or version < gone:
            absolute[name] = used.get(resource, 0)
    return {"limits": {"absolute": absolute, "rate": []}}
