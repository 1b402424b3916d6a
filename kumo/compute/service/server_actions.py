"""The API side of a server action: lock check, state table, compare-and-set, record.

:func:`begin_action` is what every action does before the work is handed to
the compute host: refuse a locked server (non-admins), check the action
against :data:`kumo.compute.states.ACTIONS`, set the action's task_state only
if nobody changed the task_state meanwhile, and record the instance action.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.db import utcnow
from kumo.common.errors import Conflict, NotFound
from kumo.compute import states
from kumo.compute.db.hosts import Service
from kumo.compute.db.instances import Instance
from kumo.compute.service import hosts, instance_actions, server_groups
from kumo.compute.service.servers import get_instance, set_state


def check_lock(instance: Instance, is_admin: bool) -> None:
    """Nova's ``check_instance_lock``: a locked server refuses non-admins with 409."""
    if instance.locked and not is_admin:
        raise Conflict(f"Instance {instance.uuid} is locked")


def begin_action(
    s: Session,
    uuid: str,
    action: str,
    *,
    record_as: str | None,
    request_id: str,
    user_id: str | None,
    project_id: str | None,
    is_admin: bool,
    lock_checked: bool = True,
) -> Instance:
    """Start ``action`` (a :data:`~kumo.compute.states.ACTIONS` key) on the server.

    Sets the transition's task_state with compare-and-set and records the
    instance action ``record_as`` (None records nothing). Raises Conflict when
    the server is locked or the state table refuses the action.
    """
    instance = get_instance(s, uuid)
    if lock_checked:
        check_lock(instance, is_admin)
    transition = states.check_action(
        action, uuid, instance.vm_state, instance.task_state, instance.launched_at is not None
    )
    if transition.sets_task is not None:
        set_state(
            s,
            uuid,
            task_state=transition.sets_task,
            expected_task_state=instance.task_state,
        )
    if record_as is not None:
        instance_actions.start_action(s, uuid, record_as, request_id, user_id, project_id)
    return instance


def undo_task(s: Session, uuid: str, task_state: str | None) -> None:
    """Clear ``task_state`` again when the hand-over to the host failed."""
    # When someone else moved the server on meanwhile, their state stands.
    with contextlib.suppress(Conflict, NotFound):
        set_state(s, uuid, task_state=None, expected_task_state=task_state)


def host_is_up(s: Session, host: str | None, down_time: int | None = None) -> bool:
    """Whether the nova-compute service on ``host`` is up (False when unknown)."""
    if not host:
        return False
    svc = s.scalars(
        select(Service).where(Service.host == host, Service.binary == "nova-compute")
    ).first()
    return svc is not None and hosts.is_up(svc, down_time=down_time)


def delete_locally(s: Session, uuid: str) -> Instance:
    """Delete a server no host holds (never scheduled, or its host is down) at once."""
    instance = get_instance(s, uuid)
    now = utcnow()
    instance.vm_state = states.DELETED
    instance.task_state = None
    instance.power_state = states.NOSTATE
    instance.deleted = True
    instance.deleted_at = now
    instance.terminated_at = instance.terminated_at or now
    instance.updated_at = now
    server_groups.remove_member(s, uuid)
    s.flush()
    return instance


def set_lock(
    s: Session, uuid: str, *, locked: bool, by: str | None, reason: str | None
) -> Instance:
    """Lock or unlock the server (``by`` is "owner" or "admin")."""
    instance = get_instance(s, uuid)
    instance.locked = locked
    instance.locked_by = by if locked else None
    instance.locked_reason = reason if locked else None
    instance.updated_at = utcnow()
    s.flush()
    return instance
