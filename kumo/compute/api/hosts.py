"""/os-hosts (removed in 2.43): hosts with their services, zones and resource use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest, NotFound, NotImplementedYet
from kumo.common.microversion import Version
from kumo.compute.api.versions import compute_version
from kumo.compute.db.instances import Instance
from kumo.compute.schemas import params
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service import hosts

router = APIRouter()

BASE = "/v2.1/os-hosts"
ROOT = "os_compute_api:os-hosts:%s"
_SWITCH = {"enable": True, "disable": False}


def _only_before_2_43(request: Request) -> None:
    if compute_version(request) >= Version(2, 43):
        raise NotFound("The resource could not be found.")


def _host_missing(host: str) -> NotFound:
    return NotFound(f"Compute host {host} could not be found.")


@route(router, "GET", BASE, policy=ROOT % "list")
def list_hosts(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Hosts of the enabled services, each with its service topic and zone."""
    _only_before_2_43(request)
    authz.enforce({})
    zone = request.query_params.get("zone")
    with request.app.state.db.reader() as s:
        meta = hosts.aggregate_metadata_by_host(s)
        rows = []
        for svc in hosts.list_services(s):
            if svc.disabled:
                continue
            svc_zone = hosts.zone_of(svc, meta.get(svc.host, []))
            if zone and svc_zone != zone:
                continue
            rows.append(
                {
                    "host_name": svc.host,
                    "service": svc.topic or svc.binary.removeprefix("nova-"),
                    "zone": svc_zone,
                }
            )
    return {"hosts": rows}


@route(router, "GET", BASE + "/{host}", policy=ROOT % "show")
def show_host(host: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A compute host's capacity, current use and use per project."""
    _only_before_2_43(request)
    authz.enforce({})
    with request.app.state.db.reader() as s:
        nodes = [n for n in hosts.list_nodes(s) if n.host == host]
        if not nodes:
            raise _host_missing(host)
        node = nodes[0]
        instances = list(
            s.scalars(select(Instance).where(Instance.host == host, Instance.deleted.is_(False)))
        )

    def resource(project: str, cpu: int, mem: int, disk: int) -> dict[str, Any]:
        return {
            "resource": {
                "host": host,
                "project": project,
                "cpu": cpu,
                "memory_mb": mem,
                "disk_gb": disk,
            }
        }

    out = [
        resource("(total)", node.vcpus, node.memory_mb, node.local_gb),
        resource("(used_now)", node.vcpus_used, node.memory_mb_used, node.local_gb_used),
        resource(
            "(used_max)",
            sum(i.vcpus for i in instances),
            sum(i.memory_mb for i in instances),
            sum(i.root_gb + i.ephemeral_gb for i in instances),
        ),
    ]
    projects: dict[str, list[int]] = {}
    for inst in instances:
        totals = projects.setdefault(inst.project_id, [0, 0, 0])
        totals[0] += inst.vcpus
        totals[1] += inst.memory_mb
        totals[2] += inst.root_gb + inst.ephemeral_gb
    out += [resource(p, *t) for p, t in sorted(projects.items())]
    return {"host": out}


@route(router, "PUT", BASE + "/{host}", policy=ROOT % "update")
def update_host(
    host: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """``status`` enables/disables the host's compute service; maintenance mode is 501."""
    _only_before_2_43(request)
    authz.enforce({})
    data = body.data()
    params.only(data, ["status", "maintenance_mode"], "body")
    if not data:
        raise BadRequest("Invalid input: 'status' or 'maintenance_mode' is required.")
    for key, value in data.items():
        if not isinstance(value, str) or value.lower() not in _SWITCH:
            raise params.invalid(key, value, f"{value!r} is not one of ['enable', 'disable']")
    with request.app.state.db.writer() as s:
        svc = hosts.compute_service_of(s, host)
        if svc is None:
            raise _host_missing(host)
        if "maintenance_mode" in data:
            raise NotImplementedYet("Action is not supported.")
        enabled = _SWITCH[data["status"].lower()]
        hosts.set_status(s, svc, disabled=not enabled)
    return {"host": host, "status": "enabled" if enabled else "disabled"}


def _power_action(request: Request, authz: Authz, host: str) -> dict[str, Any]:
    _only_before_2_43(request)
    authz.enforce({})
    with request.app.state.db.reader() as s:
        if hosts.compute_service_of(s, host) is None:
            raise _host_missing(host)
    # Hosts are not power-managed through the compute API (Nova's libvirt driver: 501).
    raise NotImplementedYet("Action is not supported.")


@route(router, "GET", BASE + "/{host}/reboot", policy=ROOT % "reboot")
def reboot_host(host: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Not supported (501), as with Nova's libvirt driver."""
    return _power_action(request, authz, host)


@route(router, "GET", BASE + "/{host}/shutdown", policy=ROOT % "shutdown")
def shutdown_host(host: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Not supported (501), as with Nova's libvirt driver."""
    return _power_action(request, authz, host)


@route(router, "GET", BASE + "/{host}/startup", policy=ROOT % "start")
def startup_host(host: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Not supported (501), as with Nova's libvirt driver."""
    return _power_action(request, authz, host)
