"""Servers' shared service functions: read one, move its states, record faults.

These are the functions the scheduler and conductor call (the compute agent
reaches them through the conductor), so they take a Session and return plain
data or model objects; no HTTP types here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kumo.common.db import utcnow
from kumo.common.errors import Conflict, NotFound
from kumo.compute import states
from kumo.compute.db.block_devices import BlockDeviceMapping
from kumo.compute.db.instances import Instance, InstanceFault, InstanceMetadata
from kumo.compute.service import quotas, server_groups


class _Unset:
    """Marks an argument not given (None is a real task_state)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

#: Columns :func:`set_state` may change besides the states.
SETTABLE = frozenset(
    {
        "launched_at",
        "terminated_at",
        "progress",
        "network_info",
        "availability_zone",
        "launched_on",
        "root_device_name",
        "flavor",
        "flavor_id",
        "old_flavor",
        "new_flavor",
        "vcpus",
        "memory_mb",
        "root_gb",
        "ephemeral_gb",
        "image_ref",
        "system_metadata",
        "locked",
        "locked_by",
        "locked_reason",
        "display_name",
    }
)


def get_instance(s: Session, uuid: str, *, read_deleted: bool = False) -> Instance:
    """The server ``uuid``; NotFound with Nova's message when missing (or deleted)."""
    instance = s.get(Instance, uuid)
    if instance is None or (instance.deleted and not read_deleted):
        raise NotFound(f"Instance {uuid} could not be found.")
    return instance


def _expected(value: Any) -> set[str | None]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return set(value)
    return {value}


def set_state(
    s: Session,
    uuid: str,
    *,
    vm_state: str = UNSET,
    task_state: str | None = UNSET,
    power_state: int = UNSET,
    host: str | None = UNSET,
    node: str | None = UNSET,
    expected_task_state: str | Iterable[str | None] | None = UNSET,
    expected_vm_state: str | Iterable[str] = UNSET,
    **fields: Any,
) -> Instance:
    """Move the server's states (only those given), compare-and-set on task_state.

    With ``expected_task_state`` (one value or several; None means "no task")
    the update only happens when the current task_state is one of them, as
    Nova's ``instance.save(expected_task_state=…)``; otherwise Conflict. The
    row is locked for the check, so two racing actions cannot both win.
    Reaching ``active`` the first time stamps ``launched_at``; reaching
    ``deleted`` soft-deletes the row (``deleted``, ``deleted_at``,
    ``terminated_at``) and takes it out of its server group. Other columns
    in :data:`SETTABLE` may be passed too.
    """
    instance = s.scalars(
        select(Instance).where(Instance.uuid == uuid).with_for_update()
    ).one_or_none()
    if instance is None or instance.deleted:
        raise NotFound(f"Instance {uuid} could not be found.")
    if expected_task_state is not UNSET:
        allowed = _expected(expected_task_state)
        if instance.task_state not in allowed:
            if instance.task_state == states.DELETING:
                raise Conflict(
                    f"Conflict updating instance {uuid}. Expected: "
                    f"{{'task_state': {sorted(map(str, allowed))}}}. "
                    f"Actual: {{'task_state': '{states.DELETING}'}}"
                )
            raise Conflict(
                f"Conflict updating instance {uuid}. Expected: "
                f"{{'task_state': {sorted(map(str, allowed))}}}. "
                f"Actual: {{'task_state': {instance.task_state!r}}}"
            )
    if expected_vm_state is not UNSET:
        wanted = _expected(expected_vm_state)
        if instance.vm_state not in wanted:
            raise Conflict(
                f"Conflict updating instance {uuid}. Expected: "
                f"{{'vm_state': {sorted(map(str, wanted))}}}. "
                f"Actual: {{'vm_state': {instance.vm_state!r}}}"
            )
    unknown = set(fields) - SETTABLE
    if unknown:
        raise ValueError(f"set_state cannot change {sorted(unknown)}")
    now = utcnow()
    if vm_state is not UNSET:
        instance.vm_state = vm_state
        if vm_state == states.ACTIVE and instance.launched_at is None:
            instance.launched_at = fields.pop("launched_at", None) or now
        if vm_state == states.DELETED:
            instance.deleted = True
            instance.deleted_at = now
            instance.terminated_at = instance.terminated_at or now
            server_groups.remove_member(s, uuid)
    if task_state is not UNSET:
        instance.task_state = task_state
    if power_state is not UNSET:
        instance.power_state = power_state
    if host is not UNSET:
        instance.host = host
    if node is not UNSET:
        instance.node = node
    for key, value in fields.items():
        setattr(instance, key, value)
    instance.updated_at = now
    s.flush()
    return instance


def set_fault(
    s: Session,
    uuid: str,
    code: int,
    message: str,
    details: str | None = None,
    host: str | None = None,
) -> InstanceFault:
    """Record why the server failed (shown as ``fault`` while it is in ERROR)."""
    fault = InstanceFault(
        instance_uuid=uuid,
        code=code,
        message=message[:255],
        details=details,
        host=host,
        created_at=utcnow(),
    )
    s.add(fault)
    s.flush()
    return fault


def latest_fault(s: Session, uuid: str) -> InstanceFault | None:
    """The server's newest fault, if any."""
    return s.scalars(
        select(InstanceFault)
        .where(InstanceFault.instance_uuid == uuid)
        .order_by(InstanceFault.created_at.desc(), InstanceFault.id.desc())
    ).first()


def metadata_of(s: Session, uuid: str) -> dict[str, str]:
    """The server's user metadata."""
    rows = s.scalars(select(InstanceMetadata).where(InstanceMetadata.instance_uuid == uuid))
    return {row.key: row.value for row in rows}


def bdms_of(s: Session, uuid: str) -> list[BlockDeviceMapping]:
    """The server's block device mappings, boot disk first."""
    rows = s.scalars(
        select(BlockDeviceMapping)
        .where(BlockDeviceMapping.instance_uuid == uuid)
        .order_by(BlockDeviceMapping.id)
    )
    return sorted(rows, key=lambda b: (b.boot_index is None or b.boot_index < 0, b.boot_index))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def instance_view_for_agent(s: Session, uuid: str) -> dict[str, Any]:
    """Everything a compute host needs to build or act on the server, as plain data.

    Keys: the instance's ids, names, states, host/node, ``flavor`` (the booted
    snapshot), ``image_ref``, ``requested_networks``, ``security_groups``,
    ``block_device_mappings``, ``metadata``, ``user_data`` (base64 as given),
    ``key_name``/``key_data``, ``config_drive``, ``availability_zone``,
    ``scheduler_hints``, ``network_info`` and timestamps (ISO 8601).
    """
    instance = get_instance(s, uuid)
    return {
        "uuid": instance.uuid,
        "display_name": instance.display_name,
        "hostname": instance.hostname,
        "project_id": instance.project_id,
        "user_id": instance.user_id,
        "reservation_id": instance.reservation_id,
        "launch_index": instance.launch_index,
        "vm_state": instance.vm_state,
        "task_state": instance.task_state,
        "power_state": instance.power_state,
        "host": instance.host,
        "node": instance.node,
        "availability_zone": instance.availability_zone,
        "requested_host": instance.requested_host,
        "requested_node": instance.requested_node,
        "flavor": dict(instance.flavor),
        "old_flavor": instance.old_flavor,
        "new_flavor": instance.new_flavor,
        "vcpus": instance.vcpus,
        "memory_mb": instance.memory_mb,
        "root_gb": instance.root_gb,
        "ephemeral_gb": instance.ephemeral_gb,
        "image_ref": instance.image_ref,
        "requested_networks": instance.requested_networks,
        "security_groups": list(instance.security_groups or []),
        "scheduler_hints": dict(instance.scheduler_hints or {}),
        "block_device_mappings": [
            {
                "source_type": b.source_type,
                "destination_type": b.destination_type,
                "uuid": b.source_uuid,
                "volume_id": b.volume_id,
                "volume_size": b.volume_size,
                "volume_type": b.volume_type,
                "boot_index": b.boot_index,
                "device_name": b.device_name,
                "device_type": b.device_type,
                "disk_bus": b.disk_bus,
                "guest_format": b.guest_format,
                "delete_on_termination": b.delete_on_termination,
                "tag": b.tag,
            }
            for b in bdms_of(s, uuid)
        ],
        "metadata": metadata_of(s, uuid),
        "user_data": instance.user_data,
        "key_name": instance.key_name,
        "key_data": instance.key_data,
        "config_drive": instance.config_drive,
        "auto_disk_config": instance.auto_disk_config,
        "network_info": dict(instance.network_info or {}),
        "system_metadata": dict(instance.system_metadata or {}),
        "launched_at": _iso(instance.launched_at),
        "created_at": _iso(instance.created_at),
    }


def _live(project_id: str, user_id: str | None) -> Any:
    clause = (Instance.project_id == project_id) & Instance.deleted.is_(False)
    if user_id:
        clause = clause & (Instance.user_id == user_id)
    return clause


def count_instances(s: Session, project_id: str, user_id: str | None) -> int:
    """Servers a project (or one of its users) has, whatever their state."""
    return int(
        s.scalar(select(func.count()).select_from(Instance).where(_live(project_id, user_id))) or 0
    )


def count_cores(s: Session, project_id: str, user_id: str | None) -> int:
    """vCPUs of a project's (or user's) servers."""
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Instance.vcpus), 0)).where(_live(project_id, user_id))
        )
        or 0
    )


def count_ram(s: Session, project_id: str, user_id: str | None) -> int:
    """RAM (MB) of a project's (or user's) servers."""
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Instance.memory_mb), 0)).where(_live(project_id, user_id))
        )
        or 0
    )


quotas.USAGE_COUNTERS["instances"] = count_instances
quotas.USAGE_COUNTERS["cores"] = count_cores
quotas.USAGE_COUNTERS["ram"] = count_ram
