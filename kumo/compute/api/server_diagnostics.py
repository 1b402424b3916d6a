"""/servers/{id}/diagnostics: a server's hypervisor statistics (admins).

The API asks the server's compute host over the bus (``get_diagnostics``, a call);
the host's virt driver reads them (QEMU: QMP ``query-cpus-fast``/``query-blockstats``
and ``/proc``; the fake driver: labelled fake numbers, hypervisor ``fake``). From
microversion 2.48 the answer has Nova's standard shape; before, libvirt's legacy
flat one (``cpu0_time``, ``memory``, ``vda_read``, ``<tap>_rx``, …).

Nova's ``driver`` field is an enum without a value for a driver that runs QEMU
itself (or a fake one); Kumo reports ``libvirt``, the driver whose fields these
follow, and ``hypervisor`` says what really runs (``kvm``, ``qemu`` or ``fake``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.bus import RemoteError
from kumo.common.bus.base import BusError
from kumo.common.errors import Conflict, NotImplementedYet, ServiceUnavailable
from kumo.common.microversion import Version
from kumo.compute.api.server_common import load_server, target
from kumo.compute.api.versions import compute_version
from kumo.compute.db.instances import Instance

router = APIRouter()
#: Nova's ``driver`` value for Kumo's drivers (see the module docstring).
DRIVER = "libvirt"


def standard_view(diag: dict[str, Any]) -> dict[str, Any]:
    """Nova's 2.48 diagnostics body from the driver's ``GuestDiagnostics`` fields."""
    cpus = list(diag.get("cpu_details") or [])
    disks = [{k: v for k, v in d.items() if k != "name"} for d in diag.get("disk_details") or []]
    nics = [{k: v for k, v in n.items() if k != "name"} for n in diag.get("nic_details") or []]
    return {
        "state": diag.get("state"),
        "driver": DRIVER,
        "hypervisor": diag.get("hypervisor"),
        "hypervisor_os": diag.get("hypervisor_os"),
        "uptime": diag.get("uptime"),
        "config_drive": bool(diag.get("config_drive")),
        "num_cpus": len(cpus),
        "num_nics": len(nics),
        "num_disks": len(disks),
        "cpu_details": cpus,
        "nic_details": nics,
        "disk_details": disks,
        "memory_details": dict(diag.get("memory_details") or {"maximum": None, "used": None}),
    }


def legacy_view(diag: dict[str, Any]) -> dict[str, Any]:
    """libvirt's flat diagnostics (before 2.48): memory in KiB, CPU time in ns."""
    out: dict[str, Any] = {}
    for cpu in diag.get("cpu_details") or []:
        out[f"cpu{cpu.get('id')}_time"] = cpu.get("time")
    memory = diag.get("memory_details") or {}
    if memory.get("maximum") is not None:
        out["memory"] = int(memory["maximum"]) * 1024
        out["memory-actual"] = int(memory["maximum"]) * 1024
    if memory.get("used") is not None:
        out["memory-rss"] = int(memory["used"]) * 1024
    for disk in diag.get("disk_details") or []:
        name = disk.get("name") or "disk"
        out[f"{name}_read"] = disk.get("read_bytes")
        out[f"{name}_read_req"] = disk.get("read_requests")
        out[f"{name}_write"] = disk.get("write_bytes")
        out[f"{name}_write_req"] = disk.get("write_requests")
        out[f"{name}_errors"] = disk.get("errors_count")
    for nic in diag.get("nic_details") or []:
        name = nic.get("name") or "nic"
        for ours, suffix in (
            ("rx_octets", "rx"),
            ("rx_packets", "rx_packets"),
            ("rx_errors", "rx_errors"),
            ("rx_drop", "rx_drop"),
            ("tx_octets", "tx"),
            ("tx_packets", "tx_packets"),
            ("tx_errors", "tx_errors"),
            ("tx_drop", "tx_drop"),
        ):
            out[f"{name}_{suffix}"] = nic.get(ours)
    return out


@route(
    router,
    "GET",
    "/v2.1/servers/{server_id}/diagnostics",
    policy="os_compute_api:os-server-diagnostics",
)
async def show_diagnostics(
    server_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """The server's statistics from its compute host (409 when it is on none)."""

    def find() -> Instance:
        with request.app.state.db.reader() as s:
            instance = load_server(s, authz, server_id)
            authz.enforce(target(instance))
            s.expunge(instance)
            return instance

    instance = await run_in_threadpool(find)
    if not instance.host:
        raise Conflict(f"Instance {instance.uuid} is not ready")
    try:
        diag = await request.app.state.compute_rpc.diagnostics(instance.host, instance.uuid)
    except RemoteError as exc:
        if exc.exc_type == "DiagnosticsUnavailable":
            raise NotImplementedYet(
                "Unable to get diagnostics, functionality not implemented"
            ) from None
        raise Conflict(
            f"Cannot 'get_diagnostics' instance {instance.uuid}: {exc.message}"
        ) from None
    except BusError as exc:
        raise ServiceUnavailable(
            f"Compute host {instance.host} did not answer: {type(exc).__name__}"
        ) from None
    if compute_version(request) >= Version(2, 48):
        return standard_view(diag)
    return legacy_view(diag)
