"""Short database transactions for the control plane (scheduler, conductor), off the event loop.

On SQLite every writer takes the one database write lock (``BEGIN
IMMEDIATE``); when many threads ask at once, SQLite's busy handler makes the
losers sleep in growing steps (up to 100 ms), which dominates a boot storm.
Writers of this process therefore queue on a lock of their own first, which
costs nothing on PostgreSQL and MySQL (no lock taken there).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from kumo.common.db import Database

T = TypeVar("T")

_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(db: Database) -> threading.Lock | None:
    if not db.url.startswith("sqlite"):
        return None
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(id(db), threading.Lock())


def write_now(db: Database, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` in one write transaction (queued behind this process's other writers)."""
    lock = _lock_for(db)
    if lock is None:
        with db.writer() as s:
            return fn(s)
    with lock, db.writer() as s:
        return fn(s)


def read_now(db: Database, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` in one read transaction."""
    with db.reader() as s:
        return fn(s)


async def write(db: Database, fn: Callable[[Session], T]) -> T:
    """:func:`write_now` in a worker thread."""
    return await asyncio.to_thread(write_now, db, fn)


async def read(db: Database, fn: Callable[[Session], T]) -> T:
    """:func:`read_now` in a worker thread."""
    return await asyncio.to_thread(read_now, db, fn)
