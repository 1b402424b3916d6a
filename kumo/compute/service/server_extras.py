"""What a server view needs besides the instance row, loaded for many servers at once.

Metadata, tags, the newest fault, attached volumes, server groups and the
compute host's status, each in one query for a whole page of servers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.compute.db.block_devices import BlockDeviceMapping
from kumo.compute.db.hosts import Service
from kumo.compute.db.instances import Instance, InstanceFault, InstanceMetadata, InstanceTag
from kumo.compute.db.server_groups import ServerGroupMember
from kumo.compute.service import hosts

#: host_status values (Nova's ``fields.HostStatus``).
UP, DOWN, MAINTENANCE, UNKNOWN, NONE = "UP", "DOWN", "MAINTENANCE", "UNKNOWN", ""


@dataclass
class Extras:
    """One server's related data."""

    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    fault: InstanceFault | None = None
    volumes: list[BlockDeviceMapping] = field(default_factory=list)
    server_groups: list[str] = field(default_factory=list)
    host_status: str = NONE


def load_extras(
    s: Session, instances: Iterable[Instance], down_time: int | None = None
) -> dict[str, Extras]:
    """Each server's :class:`Extras`, by uuid."""
    rows = list(instances)
    out = {i.uuid: Extras() for i in rows}
    uuids = list(out)
    if not uuids:
        return out
    for meta in s.scalars(
        select(InstanceMetadata).where(InstanceMetadata.instance_uuid.in_(uuids))
    ):
        out[meta.instance_uuid].metadata[meta.key] = meta.value
    for tag in s.scalars(
        select(InstanceTag).where(InstanceTag.instance_uuid.in_(uuids)).order_by(InstanceTag.tag)
    ):
        out[tag.instance_uuid].tags.append(tag.tag)
    for fault in s.scalars(
        select(InstanceFault)
        .where(InstanceFault.instance_uuid.in_(uuids))
        .order_by(InstanceFault.created_at, InstanceFault.id)
    ):
        out[fault.instance_uuid].fault = fault  # the newest one wins
    for bdm in s.scalars(
        select(BlockDeviceMapping)
        .where(
            BlockDeviceMapping.instance_uuid.in_(uuids),
            BlockDeviceMapping.volume_id.is_not(None),
        )
        .order_by(BlockDeviceMapping.id)
    ):
        out[bdm.instance_uuid].volumes.append(bdm)
    for member in s.scalars(
        select(ServerGroupMember).where(ServerGroupMember.instance_uuid.in_(uuids))
    ):
        out[member.instance_uuid].server_groups.append(member.group_id)
    host_names = {i.host for i in rows if i.host}
    services: dict[str, Service] = {}
    if host_names:
        for svc in s.scalars(
            select(Service).where(Service.host.in_(host_names), Service.binary == "nova-compute")
        ):
            services[svc.host] = svc
    for instance in rows:
        out[instance.uuid].host_status = _host_status(
            instance.host, services.get(instance.host or ""), down_time
        )
    return out


def _host_status(host: str | None, svc: Service | None, down_time: int | None) -> str:
    # Nova's get_instance_host_status: no host → ""; forced down → DOWN;
    # not heard from → UNKNOWN; disabled → MAINTENANCE; otherwise UP.
    if not host:
        return NONE
    if svc is None:
        return UNKNOWN
    if svc.forced_down:
        return DOWN
    if not hosts.is_up(svc, down_time=down_time):
        return UNKNOWN
    if svc.disabled:
        return MAINTENANCE
    return UP
