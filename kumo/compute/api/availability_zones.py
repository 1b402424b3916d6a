"""/os-availability-zone: zones of compute hosts (and, in detail, every service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route
from kumo.compute.api.services import down_time, timestamp
from kumo.compute.service import hosts

router = APIRouter()

BASE = "/v2.1/os-availability-zone"


def _zones(request: Request, detail: bool) -> dict[str, Any]:
    with request.app.state.db.reader() as s:
        services = hosts.list_services(s)
        meta = hosts.aggregate_metadata_by_host(s)
        zones: dict[str, dict[str, Any]] = {}
        for svc in services:
            if not detail and svc.binary != "nova-compute":
                continue
            zone = hosts.zone_of(svc, meta.get(svc.host, []))
            entry = zones.setdefault(zone, {"available": False, "hosts": {}})
            up = hosts.is_up(svc, down_time=down_time(request))
            if not svc.disabled:
                entry["available"] = True
            entry["hosts"].setdefault(svc.host, {})[svc.binary] = {
                "available": up,
                "active": not svc.disabled,
                "updated_at": timestamp(svc.updated_at),
            }
    info = []
    # Nova lists available zones first, then the unavailable ones.
    for available in (True, False):
        for name in sorted(zones):
            entry = zones[name]
            if entry["available"] != available:
                continue
            info.append(
                {
                    "zoneName": name,
                    "zoneState": {"available": available},
                    "hosts": entry["hosts"] if detail else None,
                }
            )
    return {"availabilityZoneInfo": info}


@route(router, "GET", BASE, policy="os_compute_api:os-availability-zone:list")
def list_zones(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Availability zones of the compute hosts (no host information)."""
    authz.enforce()
    return _zones(request, detail=False)


@route(router, "GET", BASE + "/detail", policy="os_compute_api:os-availability-zone:detail")
def list_zones_detail(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every zone (``internal`` too) with its hosts and their services (admin)."""
    authz.enforce()
    return _zones(request, detail=True)
