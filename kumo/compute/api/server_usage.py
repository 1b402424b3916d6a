"""/os-simple-tenant-usage and /servers/{id}/ips."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute.api.server_common import load_server
from kumo.compute.api.server_views import ServerViewer
from kumo.compute.api.versions import compute_version
from kumo.compute.service import tenant_usage

router = APIRouter()
USAGE = "/v2.1/os-simple-tenant-usage"
FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def _when(value: str | None, now: dt.datetime) -> dt.datetime:
    if not value:
        return now
    for fmt in FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise BadRequest("Invalid StrTime: Datetime is in invalid format")


def _period(request: Request) -> tuple[dt.datetime, dt.datetime, bool]:
    now = dt.datetime.now(dt.UTC)
    params = request.query_params
    start = _when(params.get("start"), now)
    stop = _when(params.get("end"), now)
    if not start < stop:
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return start, min(stop, now), params.get("detailed", "0") == "1"


def _page(request: Request) -> tuple[str | None, int | None]:
    if compute_version(request) < Version(2, 40):
        return None, None
    raw = request.query_params.get("limit")
    try:
        limit = int(raw) if raw is not None else None
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    return request.query_params.get("marker"), limit


def _links(request: Request, servers: list[dict[str, Any]], limit: int | None) -> list[Any]:
    if not limit or len(servers) != limit:
        return []
    args = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    args.append(("marker", servers[-1]["instance_id"]))
    href = f"{service_base(request)}{request.url.path.split('/compute', 1)[-1]}?{urlencode(args)}"
    return [{"rel": "next", "href": href}]


@route(router, "GET", USAGE, policy="os_compute_api:os-simple-tenant-usage:list")
def list_tenant_usage(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Usage of every project over the period (admins)."""
    authz.enforce({"project_id": authz.ctx.project_id})
    start, stop, detailed = _period(request)
    marker, limit = _page(request)
    with request.app.state.db.reader() as s:
        summaries, servers = tenant_usage.usages(
            s, start, stop, detailed=detailed, marker=marker, limit=limit
        )
    body: dict[str, Any] = {"tenant_usages": summaries}
    if links := _links(request, servers, limit):
        body["tenant_usages_links"] = links
    return body


@route(router, "GET", USAGE + "/{tenant_id}", policy="os_compute_api:os-simple-tenant-usage:show")
def show_tenant_usage(tenant_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One project's usage over the period, server by server ({} when none)."""
    authz.enforce({"project_id": tenant_id})
    start, stop, _ = _period(request)
    marker, limit = _page(request)
    with request.app.state.db.reader() as s:
        summaries, servers = tenant_usage.usages(
            s, start, stop, project_id=tenant_id, marker=marker, limit=limit
        )
    body: dict[str, Any] = {"tenant_usage": summaries[0] if summaries else {}}
    if links := _links(request, servers, limit):
        body["tenant_usage_links"] = links
    return body


@route(router, "GET", USAGE + "/", policy="os_compute_api:os-simple-tenant-usage:show")
def show_tenant_usage_without_id(authz: Authz = AuthzDep) -> dict[str, Any]:
    """An empty tenant id: 404 as in Nova (instead of a redirect to the list)."""
    raise NotFound("The resource could not be found.")


@route(router, "GET", "/v2.1/servers/{server_id}/ips", policy="os_compute_api:ips:index")
def list_ips(server_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The server's addresses by network label."""
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
    return {"addresses": ServerViewer.for_request(request, authz).addresses(instance, False)}


@route(
    router, "GET", "/v2.1/servers/{server_id}/ips/{network_label}", policy="os_compute_api:ips:show"
)
def show_ips(
    server_id: str, network_label: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """The server's addresses on one network."""
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
    addresses = ServerViewer.for_request(request, authz).addresses(instance, False)
    if network_label not in addresses:
        raise NotFound("Instance is not a member of specified network")
    return {network_label: addresses[network_label]}
