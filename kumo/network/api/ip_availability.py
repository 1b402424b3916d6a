"""/v2.0/network-ip-availabilities."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.service import (
    core,
    ip_availability,
)

router = APIRouter()


AVAILABILITY_FILTERS = ("network_id", "network_name", "project_id", "tenant_id", "ip_version")


@route(router, "GET", "/v2.0/network-ip-availabilities", policy="get_network_ip_availability")
def list_ip_availability(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Total and used addresses of every network (admins)."""
    common.enforce(authz, "get_network_ip_availability", {})
    items = ip_availability.ip_availability(common.database(request))
    for key in AVAILABILITY_FILTERS:
        wanted = request.query_params.getlist(key)
        if not wanted:
            continue
        if key == "ip_version":
            items = [
                i
                for i in items
                if any(str(s["ip_version"]) in wanted for s in i["subnet_ip_availability"])
            ]
        else:
            items = [i for i in items if str(i[key]) in wanted]
    return {"network_ip_availabilities": [common.select_fields(request, i) for i in items]}


@route(
    router,
    "GET",
    "/v2.0/network-ip-availabilities/{network_id}",
    policy="get_network_ip_availability",
)
def show_ip_availability(
    network_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One network's address usage."""
    common.enforce(authz, "get_network_ip_availability", {})
    for item in ip_availability.ip_availability(common.database(request)):
        if item["network_id"] == network_id:
            return {"network_ip_availability": common.select_fields(request, item)}
    raise core.network_not_found(network_id)
