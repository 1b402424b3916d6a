"""/os-hypervisors: compute nodes as their services reported them (admin only)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.db import utcnow
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute.api.services import down_time
from kumo.compute.api.versions import api_path, compute_version
from kumo.compute.db.hosts import ComputeNode, Service
from kumo.compute.schemas import params
from kumo.compute.service import hosts

router = APIRouter()

BASE = "/v2.1/os-hypervisors"
V2_53 = Version(2, 53)
V2_88 = Version(2, 88)
USAGE_FIELDS = (
    "vcpus",
    "memory_mb",
    "local_gb",
    "vcpus_used",
    "memory_mb_used",
    "local_gb_used",
    "free_ram_mb",
    "free_disk_gb",
    "current_workload",
    "running_vms",
    "disk_available_least",
)


def _usage(node: ComputeNode) -> dict[str, Any]:
    return {
        "vcpus": node.vcpus,
        "memory_mb": node.memory_mb,
        "local_gb": node.local_gb,
        "vcpus_used": node.vcpus_used,
        "memory_mb_used": node.memory_mb_used,
        "local_gb_used": node.local_gb_used,
        "free_ram_mb": node.memory_mb - node.memory_mb_used,
        "free_disk_gb": node.local_gb - node.local_gb_used,
        "current_workload": node.current_workload,
        "running_vms": node.running_vms,
        "disk_available_least": node.disk_available_least,
    }


def _uptime(svc: Service) -> str:
    """An ``uptime``-style line for a (fake) host: how long its service has run."""
    seconds = int((utcnow() - svc.created_at).total_seconds())
    days, rest = divmod(max(seconds, 0), 86400)
    now = time.strftime("%H:%M:%S", time.gmtime())
    clock = f"{rest // 3600:d}:{rest % 3600 // 60:02d}"
    return f" {now} up {days} days, {clock},  0 users,  load average: 0.00, 0.00, 0.00"


def _view(
    request: Request,
    node: ComputeNode,
    svc: Service,
    *,
    detail: bool,
    servers: list[tuple[str, str]] | None = None,
    with_servers: bool = False,
) -> dict[str, Any]:
    version = compute_version(request)
    new_ids = version >= V2_53
    view: dict[str, Any] = {
        "id": node.uuid if new_ids else node.id,
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": "up" if hosts.is_up(svc, down_time=down_time(request)) else "down",
        "status": "disabled" if svc.disabled else "enabled",
    }
    if detail:
        view.update(
            {
                "hypervisor_type": node.hypervisor_type,
                "hypervisor_version": node.hypervisor_version,
                "host_ip": node.host_ip,
                "service": {
                    "id": svc.uuid if new_ids else svc.id,
                    "host": node.host,
                    "disabled_reason": svc.disabled_reason,
                },
            }
        )
        if version < V2_88:
            view.update(_usage(node))
            if version >= Version(2, 28):
                try:
                    view["cpu_info"] = json.loads(node.cpu_info) if node.cpu_info else {}
                except ValueError:
                    view["cpu_info"] = {}
            else:
                view["cpu_info"] = node.cpu_info
        else:
            view["uptime"] = _uptime(svc)
    if servers:
        view["servers"] = [{"name": name, "uuid": u} for u, name in servers]
    elif with_servers and version >= Version(2, 75):
        view["servers"] = []
    return view


def _with_servers(request: Request) -> bool:
    if compute_version(request) < V2_53:
        return False
    raw = request.query_params.get("with_servers")
    return False if raw is None else params.boolean("with_servers", raw)


def _list(request: Request, detail: bool) -> dict[str, Any]:
    version = compute_version(request)
    q = request.query_params
    pattern = q.get("hypervisor_hostname_pattern") if version >= V2_53 else None
    with_servers = _with_servers(request)
    limit = marker = None
    if version >= Version(2, 33):
        limit = params.query_int(q, "limit")
        marker = q.get("marker")
    if pattern is not None and (limit is not None or marker):
        raise BadRequest(
            "Paging over hypervisors with the hypervisor_hostname_pattern query parameter "
            "is not supported."
        )
    with request.app.state.db.reader() as s:
        nodes = hosts.list_nodes(s, pattern)
        if pattern is not None and not nodes:
            raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
        if marker is not None:
            keys = [str(n.uuid if version >= V2_53 else n.id) for n in nodes]
            if marker not in keys:
                raise BadRequest(f"marker [{marker}] not found")
            nodes = nodes[keys.index(marker) + 1 :]
        if limit is not None:
            nodes = nodes[:limit]
        views = []
        for node in nodes:
            svc = hosts.compute_service_of(s, node.host)
            if svc is None:
                continue  # a node whose service was deleted (Nova skips it too)
            servers = hosts.instances_on_host(s, node.host) if with_servers else None
            views.append(
                _view(request, node, svc, detail=detail, servers=servers, with_servers=with_servers)
            )
    body: dict[str, Any] = {"hypervisors": views}
    if limit and views and len(views) == limit:
        args = {k: v for k, v in q.items() if k != "marker"}
        args["marker"] = str(views[-1]["id"])
        path = "/os-hypervisors/detail" if detail else "/os-hypervisors"
        href = f"{service_base(request)}{api_path(request)}{path}?{urlencode(args)}"
        body["hypervisors_links"] = [{"rel": "next", "href": href}]
    return body


@route(router, "GET", BASE, policy="os_compute_api:os-hypervisors:list")
def list_hypervisors(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Hypervisors (id, name, state, status)."""
    authz.enforce()
    return _list(request, detail=False)


@route(router, "GET", BASE + "/detail", policy="os_compute_api:os-hypervisors:list-detail")
def list_hypervisors_detail(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Hypervisors with every field of their microversion."""
    authz.enforce()
    return _list(request, detail=True)


@route(router, "GET", BASE + "/statistics", policy="os_compute_api:os-hypervisors:statistics")
def hypervisor_statistics(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Totals over the hypervisors of enabled compute services (removed in 2.88)."""
    if compute_version(request) >= V2_88:
        raise NotFound("The resource could not be found.")
    authz.enforce()
    totals: dict[str, Any] = {"count": 0, **{f: 0 for f in USAGE_FIELDS}}
    with request.app.state.db.reader() as s:
        for node in hosts.list_nodes(s):
            svc = hosts.compute_service_of(s, node.host)
            if svc is None or svc.disabled:
                continue
            totals["count"] += 1
            for key, value in _usage(node).items():
                totals[key] += value or 0
    return {"hypervisor_statistics": totals}


def _node_key(request: Request, hypervisor_id: str) -> int | str:
    if compute_version(request) >= V2_53:
        try:
            uuid.UUID(hypervisor_id)
        except ValueError:
            raise BadRequest(f"Invalid uuid {hypervisor_id}") from None
        return hypervisor_id
    try:
        return int(hypervisor_id)
    except ValueError:
        raise NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.") from None


def _node_and_service(request: Request, hypervisor_id: str) -> tuple[ComputeNode, Service]:
    key = _node_key(request, hypervisor_id)
    with request.app.state.db.reader() as s:
        node = hosts.get_node(s, key)
        svc = hosts.compute_service_of(s, node.host)
    if svc is None:
        raise NotFound(f"Hypervisor with ID '{hypervisor_id}' could not be found.")
    return node, svc


@route(router, "GET", BASE + "/{hypervisor_id}", policy="os_compute_api:os-hypervisors:show")
def show_hypervisor(
    hypervisor_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One hypervisor (integer id before 2.53, uuid after; ``with_servers`` ≥2.53)."""
    authz.enforce()
    node, svc = _node_and_service(request, hypervisor_id)
    with_servers = _with_servers(request)
    servers = None
    if with_servers:
        with request.app.state.db.reader() as s:
            servers = hosts.instances_on_host(s, node.host)
    view = _view(request, node, svc, detail=True, servers=servers, with_servers=with_servers)
    return {"hypervisor": view}


@route(
    router, "GET", BASE + "/{hypervisor_id}/uptime", policy="os_compute_api:os-hypervisors:uptime"
)
def hypervisor_uptime(
    hypervisor_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """A hypervisor's uptime line (removed in 2.88: it is part of the detail view)."""
    if compute_version(request) >= V2_88:
        raise NotFound("The resource could not be found.")
    authz.enforce()
    node, svc = _node_and_service(request, hypervisor_id)
    view = _view(request, node, svc, detail=False)
    view["uptime"] = _uptime(svc)
    return {"hypervisor": view}


def _search(request: Request, pattern: str, servers: bool) -> dict[str, Any]:
    if compute_version(request) >= V2_53:
        raise NotFound("The resource could not be found.")
    with request.app.state.db.reader() as s:
        nodes = hosts.list_nodes(s, pattern)
        if not nodes:
            raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
        views = []
        for node in nodes:
            svc = hosts.compute_service_of(s, node.host)
            if svc is None:
                continue
            found = hosts.instances_on_host(s, node.host) if servers else None
            views.append(_view(request, node, svc, detail=False, servers=found))
    return {"hypervisors": views}


@route(
    router,
    "GET",
    BASE + "/{hypervisor_hostname_pattern}/search",
    policy="os_compute_api:os-hypervisors:search",
)
def search_hypervisors(
    hypervisor_hostname_pattern: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Hypervisors whose name contains the pattern (before 2.53)."""
    authz.enforce()
    return _search(request, hypervisor_hostname_pattern, servers=False)


@route(
    router,
    "GET",
    BASE + "/{hypervisor_hostname_pattern}/servers",
    policy="os_compute_api:os-hypervisors:servers",
)
def hypervisor_servers(
    hypervisor_hostname_pattern: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Matching hypervisors with the servers on them (before 2.53)."""
    authz.enforce()
    return _search(request, hypervisor_hostname_pattern, servers=True)
