"""What a boot's write transactions record, now that they read less under the write lock.

Each write transaction of a boot holds the database's write lock (SQLite: the
one lock of the file), so the instance-action helpers remember the action for
the rest of the transaction and read an action with its open event at once;
the create reads the quota limits once. These tests pin what they record.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import event, select

from kumo.common.db import Database, utcnow
from kumo.common.errors import NotFound
from kumo.compute.db.instance_actions import InstanceAction, InstanceActionEvent
from kumo.compute.db.instances import Instance
from kumo.compute.db.quotas import Quota
from kumo.compute.service import instance_actions, quotas


def _instance(db: Database) -> str:
    instance_uuid = str(uuid.uuid4())
    with db.writer() as s:
        s.add(
            Instance(
                uuid=instance_uuid,
                display_name="vm",
                project_id="p1",
                user_id="u1",
                reservation_id="r-test0001",
                image_ref="",
                flavor_id="1",
                flavor={},
                vcpus=1,
                memory_mb=64,
                root_gb=1,
                vm_state="building",
                task_state="scheduling",
                power_state=0,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    return instance_uuid


def _events(db: Database, action_id: int) -> list[tuple[str, str | None, bool]]:
    with db.reader() as s:
        return [
            (e.event, e.result, e.finish_time is not None)
            for e in instance_actions.list_events(s, action_id)
        ]


def test_finish_closes_the_open_event_of_the_newest_action_with_that_request(
    db: Database,
) -> None:
    uuid_ = _instance(db)
    with db.writer() as s:
        older = instance_actions.start_action(s, uuid_, "create", "req-1", "u1", "p1").id
    with db.writer() as s:
        instance_actions.event_start(s, uuid_, "req-1", "step", "host-a")
        instance_actions.event_start(s, uuid_, "req-1", "other", "host-a")
    with db.writer() as s:
        newer = instance_actions.start_action(s, uuid_, "rebuild", "req-1", "u1", "p1").id
        instance_actions.event_start(s, uuid_, "req-1", "step", "host-b")
    # A fresh transaction: the action and its open event come from the database.
    with db.writer() as s:
        record = instance_actions.event_finish(s, uuid_, "req-1", "step", "Error", "trace")
        assert record.action_id == newer
    assert _events(db, newer) == [("step", "Error", True)]
    assert _events(db, older) == [("step", None, False), ("other", None, False)]
    with db.reader() as s:
        action = s.get(InstanceAction, newer)
        assert action is not None and action.message == "Error" and action.finish_time
    # No open event of that name: a finished one is recorded (the timeline shows it).
    with db.writer() as s:
        instance_actions.event_finish(s, uuid_, "req-1", "never-started")
    assert ("never-started", "Success", True) in _events(db, newer)


def test_a_transaction_reads_its_action_once(db: Database) -> None:
    uuid_ = _instance(db)
    with db.writer() as s:
        instance_actions.start_action(s, uuid_, "create", "req-2", "u1", "p1")
    action_reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM instance_action " in statement:
            action_reads.append(statement)

    event.listen(db.write_engine, "before_cursor_execute", count)
    try:
        # A conductor step boundary: finish one event, start the next.
        with db.writer() as s:
            instance_actions.event_start(s, uuid_, "req-2", "a", "h")
            instance_actions.event_finish(s, uuid_, "req-2", "a")
            instance_actions.event_start(s, uuid_, "req-2", "b", "h")
    finally:
        event.remove(db.write_engine, "before_cursor_execute", count)
    assert len(action_reads) == 1, action_reads
    with db.reader() as s:
        action = s.scalars(select(InstanceAction).where(InstanceAction.request_id == "req-2")).one()
        events = s.scalars(
            select(InstanceActionEvent).where(InstanceActionEvent.action_id == action.id)
        ).all()
    assert sorted((e.event, e.finish_time is not None) for e in events) == [
        ("a", True),
        ("b", False),
    ]


def test_a_rolled_back_action_is_not_remembered(db: Database) -> None:
    uuid_ = _instance(db)
    with db.writer() as s:
        nested = s.begin_nested()
        instance_actions.start_action(s, uuid_, "create", "req-3", "u1", "p1")
        nested.rollback()
        with pytest.raises(NotFound):
            instance_actions.event_start(s, uuid_, "req-3", "a", "h")


def test_scoped_limits_are_what_get_limits_says_for_each_scope(db: Database) -> None:
    with db.writer() as s:
        quotas.set_class_limits(s, quotas.DEFAULT_CLASS, {"cores": 40})
        s.add(Quota(project_id="p1", user_id="", resource="instances", hard_limit=7))
        s.add(Quota(project_id="p1", user_id="", resource="ram", hard_limit=-1))
        s.add(Quota(project_id="p1", user_id="u1", resource="instances", hard_limit=3))
        s.add(Quota(project_id="p1", user_id="u2", resource="cores", hard_limit=1))
        s.add(Quota(project_id="p2", user_id="", resource="instances", hard_limit=99))
    with db.reader() as s:
        scoped = quotas.scoped_limits(s, "p1", "u1")
        assert scoped[None] == quotas.get_limits(s, "p1")
        assert scoped["u1"] == quotas.get_limits(s, "p1", "u1")
        assert scoped[None]["instances"] == 7 and scoped["u1"]["instances"] == 3
        assert scoped["u1"]["cores"] == 40
        assert quotas.scoped_limits(s, "p1", None) == {None: quotas.get_limits(s, "p1")}


def test_writers_of_one_process_take_turns(db: Database) -> None:
    """A second writer does not start its transaction while the first holds one."""
    if not db.url.startswith("sqlite"):
        return  # PostgreSQL and MySQL lock rows, not the database
    inside = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def first() -> None:
        with db.writer():
            order.append("first in")
            inside.set()
            release.wait(timeout=30)
            order.append("first out")

    def second() -> None:
        with db.writer():
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(timeout=30)
    b = threading.Thread(target=second)
    b.start()
    b.join(timeout=0.5)  # without the queue, the second writer's body runs now
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert order == ["first in", "first out", "second in"]
