"""Recording what happens to a server: actions (one per request) and their events.

The API starts an action for every request that changes a server; the
scheduler, conductor and compute host record events under it (by the request
id). Event names of the boot follow :mod:`kumo.compute.journey`.
"""

from __future__ import annotations

import datetime as dt
import traceback as tb
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import NotFound
from kumo.compute.db.instance_actions import InstanceAction, InstanceActionEvent

# Action names (nova/compute/instance_actions.py).
CREATE = "create"
DELETE = "delete"
RESTORE = "restore"
STOP = "stop"
START = "start"
REBOOT = "reboot"
REBUILD = "rebuild"
REVERT_RESIZE = "revertResize"
CONFIRM_RESIZE = "confirmResize"
RESIZE = "resize"
MIGRATE = "migrate"
LIVE_MIGRATION = "live-migration"
PAUSE = "pause"
UNPAUSE = "unpause"
SUSPEND = "suspend"
RESUME = "resume"
RESCUE = "rescue"
UNRESCUE = "unrescue"
CHANGE_PASSWORD = "changePassword"  # noqa: S105 (an action name)
SHELVE = "shelve"
SHELVE_OFFLOAD = "shelveOffload"
UNSHELVE = "unshelve"
LOCK = "lock"
UNLOCK = "unlock"
BACKUP = "createBackup"
CREATE_IMAGE = "createImage"
EVACUATE = "evacuate"
TRIGGER_CRASH_DUMP = "trigger_crash_dump"
UPDATE = "update"


def start_action(
    s: Session,
    instance_uuid: str,
    action: str,
    request_id: str,
    user_id: str | None,
    project_id: str | None,
) -> InstanceAction:
    """Record that ``action`` started on the server for request ``request_id``."""
    now = utcnow()
    record = InstanceAction(
        action=action,
        instance_uuid=instance_uuid,
        request_id=request_id,
        user_id=user_id,
        project_id=project_id,
        start_time=now,
        updated_at=now,
    )
    s.add(record)
    s.flush()
    _known_actions(s)[(instance_uuid, request_id)] = record
    return record


#: ``Session.info`` key of the actions this transaction started or found.
_ACTIONS = "kumo.instance_actions"


def _known_actions(s: Session) -> dict[tuple[str, str], InstanceAction]:
    known: dict[tuple[str, str], InstanceAction] = s.info.setdefault(_ACTIONS, {})
    return known


def find_action(s: Session, instance_uuid: str, request_id: str) -> InstanceAction:
    """The server's action of request ``request_id`` (Nova's message when missing).

    Remembered for the rest of the transaction: a boot records several events
    under one action in one write transaction (the API's, a conductor step's
    finish and next start), and each query there holds the database's write lock.
    """
    known = _known_actions(s)
    remembered = known.get((instance_uuid, request_id))
    if remembered is not None and remembered in s:  # not rolled back since
        return remembered
    found = s.scalars(
        select(InstanceAction)
        .where(
            InstanceAction.instance_uuid == instance_uuid,
            InstanceAction.request_id == request_id,
        )
        .order_by(InstanceAction.id.desc())
    ).first()
    if found is None:
        raise NotFound(f"Action {request_id} on instance {instance_uuid} not found")
    known[(instance_uuid, request_id)] = found
    return found


def event_start(
    s: Session, instance_uuid: str, request_id: str, event: str, host: str | None = None
) -> InstanceActionEvent:
    """Record that ``event`` of the request's action started on ``host``."""
    action = find_action(s, instance_uuid, request_id)
    now = utcnow()
    record = InstanceActionEvent(action_id=action.id, event=event, start_time=now, host=host)
    s.add(record)
    action.updated_at = now
    s.flush()
    return record


def _open_event(
    s: Session, instance_uuid: str, request_id: str, event: str
) -> tuple[InstanceAction, InstanceActionEvent | None]:
    """The request's action and its newest unfinished ``event``, in one query.

    A finish runs inside a write transaction (the database's write lock held),
    so the action and the event are read together unless the action is known.
    """
    known = _known_actions(s).get((instance_uuid, request_id))
    if known is not None and known in s:
        return known, _open_event_of(s, known.id, event)
    open_event = and_(
        InstanceActionEvent.action_id == InstanceAction.id,
        InstanceActionEvent.event == event,
        InstanceActionEvent.finish_time.is_(None),
    )
    # Per action either open events match (no NULL row) or one NULL row does:
    # the newest action comes first whatever the database's NULL ordering.
    row = s.execute(
        select(InstanceAction, InstanceActionEvent)
        .outerjoin(InstanceActionEvent, open_event)
        .where(
            InstanceAction.instance_uuid == instance_uuid,
            InstanceAction.request_id == request_id,
        )
        .order_by(InstanceAction.id.desc(), InstanceActionEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"Action {request_id} on instance {instance_uuid} not found")
    action, record = row
    _known_actions(s)[(instance_uuid, request_id)] = action
    return action, record


def _open_event_of(s: Session, action_id: int, event: str) -> InstanceActionEvent | None:
    return s.scalars(
        select(InstanceActionEvent)
        .where(
            InstanceActionEvent.action_id == action_id,
            InstanceActionEvent.event == event,
            InstanceActionEvent.finish_time.is_(None),
        )
        .order_by(InstanceActionEvent.id.desc())
    ).first()


def event_finish(
    s: Session,
    instance_uuid: str,
    request_id: str,
    event: str,
    result: str = "Success",
    traceback: str | None = None,
    details: str | None = None,
) -> InstanceActionEvent:
    """Record that ``event`` finished with ``result`` ("Success" or "Error").

    Finishes the newest unfinished event of that name (one is started when
    none was, so a finish alone still shows on the timeline). A failed event
    marks the action's ``message`` "Error" as Nova does.
    """
    action, record = _open_event(s, instance_uuid, request_id, event)
    now = utcnow()
    if record is None:
        record = InstanceActionEvent(action_id=action.id, event=event, start_time=now)
        s.add(record)
    record.finish_time = now
    record.result = result
    record.traceback = traceback
    if details is not None:
        record.details = details
    action.updated_at = now
    action.finish_time = now
    if result.lower() == "error":
        action.message = "Error"
    s.flush()
    return record


@contextmanager
def recorded_event(
    db: Database, instance_uuid: str, request_id: str, event: str, host: str | None = None
) -> Iterator[None]:
    """Record ``event`` around a block: started before, finished after (Error on exception).

    Each record is its own short transaction, so the timeline shows the step as
    running while the block works.
    """
    with db.writer() as s:
        event_start(s, instance_uuid, request_id, event, host)
    try:
        yield
    except BaseException as exc:
        with db.writer() as s:
            event_finish(
                s,
                instance_uuid,
                request_id,
                event,
                result="Error",
                traceback="".join(tb.format_exception(exc)),
            )
        raise
    with db.writer() as s:
        event_finish(s, instance_uuid, request_id, event)


def list_actions(s: Session, instance_uuid: str) -> list[InstanceAction]:
    """The server's actions, newest first (as Nova lists them)."""
    return list(
        s.scalars(
            select(InstanceAction)
            .where(InstanceAction.instance_uuid == instance_uuid)
            .order_by(InstanceAction.start_time.desc(), InstanceAction.id.desc())
        )
    )


def list_events(s: Session, action_id: int) -> list[InstanceActionEvent]:
    """An action's events in the order they started."""
    return list(
        s.scalars(
            select(InstanceActionEvent)
            .where(InstanceActionEvent.action_id == action_id)
            .order_by(InstanceActionEvent.start_time, InstanceActionEvent.id)
        )
    )


def record_event(
    s: Session,
    instance_uuid: str,
    request_id: str,
    event: str,
    host: str | None,
    started: dt.datetime,
    finished: dt.datetime,
    result: str = "Success",
    traceback: str | None = None,
) -> InstanceActionEvent:
    """Record an event that already happened (start and finish known)."""
    action = find_action(s, instance_uuid, request_id)
    record = InstanceActionEvent(
        action_id=action.id,
        event=event,
        start_time=started,
        finish_time=finished,
        result=result,
        traceback=traceback,
        host=host,
    )
    s.add(record)
    action.updated_at = finished
    action.finish_time = finished
    if result.lower() == "error":
        action.message = "Error"
    s.flush()
    return record
