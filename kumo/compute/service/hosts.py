"""Compute services and compute nodes: heartbeats, liveness, zones, scheduling view."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.db import utcnow
from kumo.common.errors import Conflict, NotFound
from kumo.compute.db.aggregates import AggregateHost, AggregateMetadata
from kumo.compute.db.hosts import ComputeNode, Service

#: Seconds without a heartbeat before a service is down (``settings.service_down_time``).
DEFAULT_DOWN_TIME = 60
#: Nova's ``default_availability_zone`` and ``internal_service_availability_zone``.
DEFAULT_ZONE = "nova"
INTERNAL_ZONE = "internal"


def report_service(
    s: Session, host: str, binary: str, zone: str = DEFAULT_ZONE, topic: str | None = None
) -> Service:
    """Create the service record of ``binary`` on ``host``, or record its heartbeat."""
    now = utcnow()
    service = s.scalar(select(Service).where(Service.host == host, Service.binary == binary))
    if service is None:
        service = Service(
            uuid=str(uuid.uuid4()),
            host=host,
            binary=binary,
            topic=topic or binary.removeprefix("nova-"),
            zone=zone,
            disabled=False,
            forced_down=False,
            report_count=0,
            created_at=now,
        )
        s.add(service)
    service.report_count += 1
    service.updated_at = now
    service.last_seen_up = now
    s.flush()
    return service


def update_compute_node(
    s: Session,
    host: str,
    hypervisor_hostname: str,
    vcpus: int,
    memory_mb: int,
    local_gb: int,
    vcpus_used: int,
    memory_mb_used: int,
    local_gb_used: int,
    running_vms: int,
    hypervisor_type: str,
    hypervisor_version: int,
    host_ip: str | None,
    cpu_info: str,
) -> ComputeNode:
    """Create or refresh the compute node ``hypervisor_hostname`` of ``host``.

    The node is linked to the host's ``nova-compute`` service when it exists.
    """
    now = utcnow()
    service = s.scalar(
        select(Service).where(Service.host == host, Service.binary == "nova-compute")
    )
    node = s.scalar(
        select(ComputeNode).where(ComputeNode.hypervisor_hostname == hypervisor_hostname)
    )
    if node is None:
        node = ComputeNode(
            uuid=str(uuid.uuid4()),
            hypervisor_hostname=hypervisor_hostname,
            host=host,
            created_at=now,
        )
        s.add(node)
    node.service_id = service.id if service is not None else None
    node.host = host
    node.vcpus = vcpus
    node.memory_mb = memory_mb
    node.local_gb = local_gb
    node.vcpus_used = vcpus_used
    node.memory_mb_used = memory_mb_used
    node.local_gb_used = local_gb_used
    node.running_vms = running_vms
    node.hypervisor_type = hypervisor_type
    node.hypervisor_version = hypervisor_version
    node.host_ip = host_ip
    node.cpu_info = cpu_info
    node.disk_available_least = local_gb - local_gb_used
    node.updated_at = now
    s.flush()
    return node


def last_heartbeat(service: Service) -> dt.datetime:
    """When the service last reported."""
    return service.last_seen_up or service.updated_at or service.created_at


def is_up(service: Service, now: dt.datetime | None = None, down_time: int | None = None) -> bool:
    """Whether a service counts as up: not forced down and heard from recently."""
    return _alive(service.forced_down, last_heartbeat(service), now, down_time)


def _alive(
    forced_down: bool, heartbeat: dt.datetime, now: dt.datetime | None, down_time: int | None
) -> bool:
    if forced_down:
        return False
    now = now or utcnow()
    limit = down_time if down_time is not None else DEFAULT_DOWN_TIME
    return (now - heartbeat).total_seconds() <= limit


def aggregate_metadata_by_host(s: Session) -> dict[str, list[dict[str, str]]]:
    """For each host in an aggregate, the metadata of each of its aggregates."""
    metadata: dict[int, dict[str, str]] = {}
    for row in s.scalars(select(AggregateMetadata)):
        metadata.setdefault(row.aggregate_id, {})[row.key] = row.value
    out: dict[str, list[dict[str, str]]] = {}
    for member in s.scalars(select(AggregateHost)):
        out.setdefault(member.host, []).append(metadata.get(member.aggregate_id, {}))
    return out


def zone_of(service: Service, aggregate_meta: list[dict[str, str]]) -> str:
    """A service's availability zone: its aggregates' zone, else the default (Nova)."""
    if service.binary != "nova-compute":
        return INTERNAL_ZONE
    return _compute_zone(service.zone, aggregate_meta)


def _compute_zone(own_zone: str | None, aggregate_meta: list[dict[str, str]]) -> str:
    zones = sorted({m["availability_zone"] for m in aggregate_meta if "availability_zone" in m})
    if zones:
        return ",".join(zones)
    return own_zone or DEFAULT_ZONE


def host_zone(s: Session, host: str) -> str:
    """The availability zone of a compute host."""
    service = s.scalar(
        select(Service).where(Service.host == host, Service.binary == "nova-compute")
    )
    if service is None:
        return DEFAULT_ZONE
    return zone_of(service, aggregate_metadata_by_host(s).get(host, []))


def zone_names(s: Session) -> set[str]:
    """Every availability zone a compute service is in (to validate a requested zone)."""
    meta = aggregate_metadata_by_host(s)
    computes = s.scalars(select(Service).where(Service.binary == "nova-compute"))
    return {zone_of(svc, meta.get(svc.host, [])) for svc in computes}


@dataclass
class HostState:
    """What the scheduler needs to know about one compute host."""

    host: str
    nodename: str
    zone: str
    service_uuid: str
    node_uuid: str
    vcpus: int
    vcpus_used: int
    memory_mb: int
    memory_mb_used: int
    local_gb: int
    local_gb_used: int
    running_vms: int
    hypervisor_type: str
    host_ip: str | None
    #: Metadata of every aggregate the host is in (one dict per aggregate).
    aggregates: list[dict[str, str]] = field(default_factory=list)


def hosts_for_scheduling(
    s: Session, now: dt.datetime | None = None, down_time: int | None = None
) -> list[HostState]:
    """Compute hosts that may take new instances: enabled, up, not forced down.

    Read as plain columns, not ORM objects: every scheduling request reads
    every host (a hundred in a boot storm), and loading objects cost most of it.
    """
    now = now or utcnow()
    meta = aggregate_metadata_by_host(s)
    services = s.execute(
        select(
            Service.host,
            Service.uuid,
            Service.zone,
            Service.forced_down,
            Service.last_seen_up,
            Service.updated_at,
            Service.created_at,
        ).where(Service.binary == "nova-compute", Service.disabled.is_(False))
    )
    by_host = {
        svc.host: svc
        for svc in services
        if _alive(
            svc.forced_down, svc.last_seen_up or svc.updated_at or svc.created_at, now, down_time
        )
    }
    out: list[HostState] = []
    nodes = s.execute(
        select(
            ComputeNode.host,
            ComputeNode.hypervisor_hostname,
            ComputeNode.uuid,
            ComputeNode.vcpus,
            ComputeNode.vcpus_used,
            ComputeNode.memory_mb,
            ComputeNode.memory_mb_used,
            ComputeNode.local_gb,
            ComputeNode.local_gb_used,
            ComputeNode.running_vms,
            ComputeNode.hypervisor_type,
            ComputeNode.host_ip,
        ).order_by(ComputeNode.hypervisor_hostname)
    )
    for node in nodes:
        svc = by_host.get(node.host)
        if svc is None:
            continue
        aggregates = meta.get(node.host, [])
        out.append(
            HostState(
                host=node.host,
                nodename=node.hypervisor_hostname,
                zone=_compute_zone(svc.zone, aggregates),
                service_uuid=svc.uuid,
                node_uuid=node.uuid,
                vcpus=node.vcpus,
                vcpus_used=node.vcpus_used,
                memory_mb=node.memory_mb,
                memory_mb_used=node.memory_mb_used,
                local_gb=node.local_gb,
                local_gb_used=node.local_gb_used,
                running_vms=node.running_vms,
                hypervisor_type=node.hypervisor_type,
                host_ip=node.host_ip,
                aggregates=aggregates,
            )
        )
    return out


# --- administration (os-services, os-hypervisors, os-availability-zone) -------------------


def service_not_found(service_id: object) -> NotFound:
    """Nova's ServiceNotFound."""
    return NotFound(f"Service {service_id} could not be found.")


def list_services(s: Session, host: str | None = None, binary: str | None = None) -> list[Service]:
    """Service records, by id, optionally filtered by host and binary."""
    stmt = select(Service).order_by(Service.id)
    if host is not None:
        stmt = stmt.where(Service.host == host)
    if binary is not None:
        stmt = stmt.where(Service.binary == binary)
    return list(s.scalars(stmt))


def get_service(s: Session, service_id: int | str) -> Service:
    """A service by integer id or uuid (404 with Nova's message)."""
    if isinstance(service_id, int):
        found = s.get(Service, service_id)
    else:
        found = s.scalar(select(Service).where(Service.uuid == service_id))
    if found is None:
        raise service_not_found(service_id)
    return found


def find_service(s: Session, host: str, binary: str) -> Service:
    """The service ``binary`` on ``host`` (404 as Nova words it)."""
    found = s.scalar(select(Service).where(Service.host == host, Service.binary == binary))
    if found is None:
        if s.scalar(select(Service.id).where(Service.host == host)) is None:
            raise NotFound(f"Compute host {host} could not be found.")
        raise NotFound(f"Service {binary} could not be found on host {host}.")
    return found


def set_status(
    s: Session,
    service: Service,
    *,
    disabled: bool | None = None,
    reason: str | None = None,
    forced_down: bool | None = None,
) -> Service:
    """Enable/disable a service (with a reason) and/or force it down."""
    if disabled is not None:
        service.disabled = disabled
        service.disabled_reason = reason if disabled else None
    if forced_down is not None:
        service.forced_down = forced_down
    service.updated_at = utcnow()
    s.flush()
    return service


def instances_on_host(s: Session, host: str) -> list[tuple[str, str]]:
    """(uuid, name) of the live instances on a compute host."""
    from kumo.compute.db.instances import Instance  # Helper S's table

    stmt = (
        select(Instance.uuid, Instance.display_name)
        .where(Instance.host == host, Instance.deleted.is_(False))
        .order_by(Instance.created_at)
    )
    return [(u, n) for u, n in s.execute(stmt)]


def delete_service(s: Session, service: Service) -> None:
    """Delete a service; a compute service also loses its nodes and aggregate memberships.

    409 while a compute service still hosts instances (Nova's rule).
    """
    if service.binary == "nova-compute":
        if instances_on_host(s, service.host):
            raise Conflict(
                "Unable to delete compute service that is hosting instances. "
                "Migrate or delete the instances first."
            )
        s.execute(delete(ComputeNode).where(ComputeNode.host == service.host))
        s.execute(delete(AggregateHost).where(AggregateHost.host == service.host))
    s.delete(service)
    s.flush()


def compute_service_of(s: Session, host: str) -> Service | None:
    """The nova-compute service of a host."""
    return s.scalar(select(Service).where(Service.host == host, Service.binary == "nova-compute"))


def list_nodes(s: Session, pattern: str | None = None) -> list[ComputeNode]:
    """Compute nodes by id; ``pattern`` matches part of the hypervisor host name."""
    stmt = select(ComputeNode).order_by(ComputeNode.id)
    if pattern is not None:
        escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(ComputeNode.hypervisor_hostname.like(f"%{escaped}%", escape="\\"))
    return list(s.scalars(stmt))


def get_node(s: Session, node_id: int | str) -> ComputeNode:
    """A compute node by integer id or uuid (404 with Nova's message)."""
    if isinstance(node_id, int):
        found = s.get(ComputeNode, node_id)
    else:
        found = s.scalar(select(ComputeNode).where(ComputeNode.uuid == node_id))
    if found is None:
        raise NotFound(f"Hypervisor with ID '{node_id}' could not be found.")
    return found
