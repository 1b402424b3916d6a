"""The identity revision: bumped by any write to identity's tables.

The bump is automatic (session events on the write sessions), so no service
function can forget it: a flush that touched an identity model, or a bulk
INSERT/UPDATE/DELETE on an identity table, marks the session, and the
transaction then bumps the counter before it commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from kumo.common.db import Base
from kumo.identity.db import models
from kumo.identity.db.models import IdentityRevision

_DIRTY = "kumo_identity_dirty"
IDENTITY_TABLES = frozenset(
    str(mapper.class_.__tablename__)
    for mapper in Base.registry.mappers
    if mapper.class_.__module__ == models.__name__
) - {"identity_revision"}


def _touches_identity(objects: Any) -> bool:
    return any(getattr(o, "__tablename__", None) in IDENTITY_TABLES for o in objects)


def _after_flush(session: Session, flush_context: Any) -> None:
    if (
        _touches_identity(session.new)
        or _touches_identity(session.dirty)
        or _touches_identity(session.deleted)
    ):
        session.info[_DIRTY] = True


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in IDENTITY_TABLES:
        state.session.info[_DIRTY] = True


def _before_commit(session: Session) -> None:
    session.flush()
    if session.info.pop(_DIRTY, False):
        bumped = session.execute(
            update(IdentityRevision)
            .where(IdentityRevision.id == 1)
            .values(value=IdentityRevision.value + 1)
        )
        if not bumped.rowcount:  # type: ignore[attr-defined]
            session.add(IdentityRevision(id=1, value=1))
            session.flush()


def track_writes(factory: sessionmaker[Session]) -> None:
    """Make every write session from ``factory`` bump the revision when it changes identity."""
    if event.contains(factory, "before_commit", _before_commit):
        return
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "do_orm_execute", _on_execute)
    event.listen(factory, "before_commit", _before_commit)


_QUERY = select(IdentityRevision.value).where(IdentityRevision.id == 1)


def latest(engine: Engine) -> int:
    """The committed revision, read without an ORM session (the token cache's hot path)."""
    with engine.connect() as conn:
        return conn.execute(_QUERY).scalar() or 0


def latest_in(s: Session) -> int:
    """The revision as the transaction of ``s`` sees it."""
    return s.execute(_QUERY).scalar() or 0
