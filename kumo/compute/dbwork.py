"""Short database transactions for the control plane (scheduler, conductor), off the event loop.

On SQLite, writers of one process already queue on :meth:`Database.writer`'s
lock before ``BEGIN IMMEDIATE``, so these helpers only move the work to a
worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from kumo.common.db import Database

T = TypeVar("T")


def write_now(db: Database, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` in one write transaction."""
    with db.writer() as s:
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
