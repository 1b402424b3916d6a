"""Migration records (``os-migrations``) derived from the instance actions Kumo keeps.

Kumo has no migrations table: every resize, cold migration and evacuation is an
instance action (``resize``, ``migrate``, ``evacuate``) with its events, and the
confirm/revert that ends a resize is an action too. A migration is read back from
those rows: its id is the action's id, its status follows Nova's names (``migrating``
→ ``finished`` → ``confirmed``/``reverted``, ``error``; evacuations ``accepted`` →
``done``/``failed``), its hosts are where the events ran.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.compute.db.instance_actions import InstanceAction, InstanceActionEvent
from kumo.compute.db.instances import Instance

#: Instance action → Nova's ``migration_type``.
MIGRATION_TYPES = {
    "resize": "resize",
    "migrate": "migration",
    "evacuate": "evacuation",
    "live-migration": "live-migration",
}
#: The actions that end a resize or cold migration, and the status they leave.
ENDINGS = {"confirmResize": "confirmed", "revertResize": "reverted"}
#: Names migration uuids are derived from (stable: the same action, the same uuid).
UUID_NAMESPACE = uuid.UUID("0c1e3c2a-6d9f-4c39-9a55-6b756d6f6d69")


@dataclass
class Migration:
    """One migration as Nova's API shows it (before microversion filtering)."""

    id: int
    uuid: str
    status: str
    migration_type: str
    instance_uuid: str
    source_compute: str | None
    source_node: str | None
    dest_compute: str | None
    dest_node: str | None
    old_instance_type_id: int | None
    new_instance_type_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime | None
    user_id: str | None
    project_id: str | None


def migration_uuid(action_id: int) -> str:
    """The stable uuid of the migration read from instance action ``action_id``."""
    return str(uuid.uuid5(UUID_NAMESPACE, f"migration-{action_id}"))


def _flavor_id(flavor: dict[str, Any] | None) -> int | None:
    value = (flavor or {}).get("id")
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _status(
    action: InstanceAction,
    events: list[InstanceActionEvent],
    ending: str | None,
    instance: Instance,
    latest: bool,
) -> str:
    failed = any((e.result or "").lower() == "error" for e in events)
    if action.action == "evacuate":
        if failed:
            return "failed"
        return "accepted" if latest and instance.task_state else "done"
    if failed:
        return "error"
    if ending:
        return ending
    if latest and instance.vm_state == "resized":
        return "finished"
    if latest and instance.task_state:
        return "migrating"
    return "finished"


def list_migrations(s: Session, instance_uuid: str | None = None) -> list[Migration]:
    """Every migration (of one server when ``instance_uuid``), newest first."""
    moving = (*MIGRATION_TYPES, *ENDINGS)
    query = select(InstanceAction, Instance).join(
        Instance, Instance.uuid == InstanceAction.instance_uuid
    )
    query = query.where(InstanceAction.action.in_(moving))
    if instance_uuid:
        query = query.where(InstanceAction.instance_uuid == instance_uuid)
    rows = list(s.execute(query.order_by(InstanceAction.start_time, InstanceAction.id)))
    by_instance: dict[str, list[tuple[InstanceAction, Instance]]] = {}
    for action, instance in rows:
        by_instance.setdefault(action.instance_uuid, []).append((action, instance))
    action_ids = [a.id for a, _ in rows if a.action in MIGRATION_TYPES]
    events: dict[int, list[InstanceActionEvent]] = {}
    if action_ids:
        for event in s.scalars(
            select(InstanceActionEvent)
            .where(InstanceActionEvent.action_id.in_(action_ids))
            .order_by(InstanceActionEvent.start_time, InstanceActionEvent.id)
        ):
            events.setdefault(event.action_id, []).append(event)
    found: list[Migration] = []
    for actions in by_instance.values():
        moves = [i for i, (a, _) in enumerate(actions) if a.action in MIGRATION_TYPES]
        for pos in moves:
            action, instance = actions[pos]
            later = actions[pos + 1 :]
            ending = None
            for other, _ in later:
                if other.action in MIGRATION_TYPES:
                    break
                if other.action in ENDINGS and action.action != "evacuate":
                    ending = ENDINGS[other.action]
                    break
            latest = pos == moves[-1]
            own = events.get(action.id, [])
            hosts = [e.host for e in own if e.host]
            source = hosts[0] if hosts else instance.host
            dest = hosts[-1] if hosts else instance.host
            finished = [e.finish_time for e in own if e.finish_time]
            in_flight = latest and instance.vm_state == "resized"
            found.append(
                Migration(
                    id=action.id,
                    uuid=migration_uuid(action.id),
                    status=_status(action, own, ending, instance, latest),
                    migration_type=MIGRATION_TYPES[action.action],
                    instance_uuid=action.instance_uuid,
                    source_compute=source,
                    source_node=instance.node if source == instance.host else source,
                    dest_compute=dest,
                    dest_node=instance.node if dest == instance.host else dest,
                    old_instance_type_id=_flavor_id(instance.old_flavor) if in_flight else None,
                    new_instance_type_id=_flavor_id(instance.new_flavor) if in_flight else None,
                    created_at=action.start_time,
                    updated_at=action.finish_time or (max(finished) if finished else None),
                    user_id=action.user_id,
                    project_id=action.project_id,
                )
            )
    found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
    return found
