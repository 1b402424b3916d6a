"""/v2.0/service-providers (the ``service-type`` extension)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common

router = APIRouter()

#: The drivers of Neutron's pluggable advanced services (``service_provider`` options of
#: neutron.conf: VPNaaS, load balancers, L3 flavors…). Kumo's routers, floating IPs and
#: security groups are built in, with no selectable driver, so there are none to list.
SERVICE_PROVIDERS: tuple[dict[str, Any], ...] = ()

KNOWN = ("service_type", "name", "default")


@route(router, "GET", "/v2.0/service-providers", policy="get_service_provider")
def list_service_providers(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The configured service providers (filters, sorting and fields as any Neutron list)."""
    authz.enforce({})
    items = [dict(p) for p in SERVICE_PROVIDERS]
    params = request.query_params
    for key in {k for k in params if k not in common.LIST_PARAMS}:
        if key not in KNOWN:
            raise common.bad_request(f"[{key}] is invalid attribute for filtering")
    wanted = {k: params.getlist(k) for k in params if k in KNOWN}
    items = [i for i in items if all(str(i.get(k)) in v for k, v in wanted.items())]
    return {"service_providers": [common.select_fields(request, i) for i in items]}
