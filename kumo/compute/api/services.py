"""/os-services: compute, scheduler and conductor service records (admin only)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute.api.versions import compute_version
from kumo.compute.db.hosts import Service
from kumo.compute.schemas import params
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service import hosts

router = APIRouter()

BASE = "/v2.1/os-services"
V2_53 = Version(2, 53)


def timestamp(value: Any) -> str | None:
    """Nova's timestamp format (naive UTC, microseconds)."""
    if value is None:
        return None
    return str(value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f"))


def down_time(request: Request) -> int:
    """``settings.service_down_time``."""
    return int(request.app.state.settings.service_down_time)


def service_view(request: Request, svc: Service, zone: str) -> dict[str, Any]:
    """A service as ``GET /os-services`` shows it."""
    version = compute_version(request)
    view: dict[str, Any] = {
        "id": svc.uuid if version >= V2_53 else svc.id,
        "binary": svc.binary,
        "host": svc.host,
        "zone": zone,
        "status": "disabled" if svc.disabled else "enabled",
        "state": "up" if hosts.is_up(svc, down_time=down_time(request)) else "down",
        "updated_at": timestamp(svc.updated_at),
        "disabled_reason": svc.disabled_reason,
    }
    if version >= Version(2, 11):
        view["forced_down"] = svc.forced_down
    return view


@route(router, "GET", BASE, policy="os_compute_api:os-services:list")
def list_services(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every service, optionally filtered by ``host`` and ``binary``."""
    authz.enforce()
    q = request.query_params
    with request.app.state.db.reader() as s:
        rows = hosts.list_services(s, q.get("host"), q.get("binary"))
        meta = hosts.aggregate_metadata_by_host(s)
        views = [service_view(request, r, hosts.zone_of(r, meta.get(r.host, []))) for r in rows]
    return {"services": views}


def _legacy_update(request: Request, action: str, data: dict[str, Any]) -> dict[str, Any]:
    """PUT /os-services/{enable|disable|disable-log-reason|force-down} (before 2.53)."""
    version = compute_version(request)
    actions = ["enable", "disable", "disable-log-reason"]
    if version >= Version(2, 11):
        actions.append("force-down")
    if action not in actions:
        raise NotFound("Unknown action")
    allowed = ["host", "binary"]
    if action == "disable-log-reason":
        allowed.append("disabled_reason")
    if action == "force-down":
        allowed.append("forced_down")
    params.only(data, allowed, "body")
    params.require(data, ["host", "binary"], "body")
    host = params.string("host", data["host"], 1, 255)
    binary = params.string("binary", data["binary"], 1, 255)
    with request.app.state.db.writer() as s:
        svc = hosts.find_service(s, host, binary)
        if action == "enable":
            hosts.set_status(s, svc, disabled=False)
            return {"service": {"host": host, "binary": binary, "status": "enabled"}}
        if action == "disable":
            hosts.set_status(s, svc, disabled=True)
            return {"service": {"host": host, "binary": binary, "status": "disabled"}}
        if action == "disable-log-reason":
            if "disabled_reason" not in data:
                raise BadRequest("Missing disabled reason field")
            reason = params.string("disabled_reason", data["disabled_reason"], 1, 255)
            hosts.set_status(s, svc, disabled=True, reason=reason)
            return {
                "service": {
                    "host": host,
                    "binary": binary,
                    "status": "disabled",
                    "disabled_reason": reason,
                }
            }
        if "forced_down" not in data:
            raise BadRequest("Missing forced_down field")
        forced = params.boolean("forced_down", data["forced_down"])
        hosts.set_status(s, svc, forced_down=forced)
        return {"service": {"host": host, "binary": binary, "forced_down": forced}}


@route(router, "PUT", BASE + "/{service_id}", policy="os_compute_api:os-services:update")
def update_service(
    service_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Enable/disable/force down a service: by action name before 2.53, by uuid after."""
    authz.enforce()
    data = body.data()
    if compute_version(request) < V2_53:
        return _legacy_update(request, service_id, data)
    _check_uuid(service_id)
    params.only(data, ["status", "disabled_reason", "forced_down"], "body")
    if not data:
        raise BadRequest(
            "No updates were requested. Fields 'status' or 'forced_down' should be specified."
        )
    status = data.get("status")
    if status is not None and status not in ("enabled", "disabled"):
        raise params.invalid("status", status, f"{status!r} is not one of ['enabled', 'disabled']")
    reason = data.get("disabled_reason")
    if reason is not None:
        reason = params.string("disabled_reason", reason, 1, 255)
        if status != "disabled":
            raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
    forced = params.boolean("forced_down", data["forced_down"]) if "forced_down" in data else None
    with request.app.state.db.writer() as s:
        svc = hosts.get_service(s, service_id)
        if svc.binary != "nova-compute":
            raise BadRequest(
                f"Updating a {svc.binary} service is not supported. Only nova-compute "
                "services can be updated."
            )
        hosts.set_status(
            s,
            svc,
            disabled=None if status is None else status == "disabled",
            reason=reason,
            forced_down=forced,
        )
        meta = hosts.aggregate_metadata_by_host(s)
        view = service_view(request, svc, hosts.zone_of(svc, meta.get(svc.host, [])))
    return {"service": view}


def _check_uuid(value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"Invalid uuid {value}") from None


@route(
    router,
    "DELETE",
    BASE + "/{service_id}",
    policy="os_compute_api:os-services:delete",
    status_code=204,
)
def delete_service(service_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a service record (409 while a compute service hosts instances)."""
    authz.enforce()
    key: int | str
    if compute_version(request) >= V2_53:
        _check_uuid(service_id)
        key = service_id
    else:
        try:
            key = int(service_id)
        except ValueError:
            raise BadRequest(f"Invalid ID {service_id}") from None
    with request.app.state.db.writer() as s:
        hosts.delete_service(s, hosts.get_service(s, key))
    return Response(status_code=204)
