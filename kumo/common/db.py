"""Database engine, sessions and migrations (SQLAlchemy 2 + Alembic).

The embedded default is a SQLite file in WAL mode. SQLite lets a deferred
transaction that later writes fail at once with "database is locked" when
another writer got there first, whatever the busy timeout; so every
transaction that may write starts with ``BEGIN IMMEDIATE`` (through
:meth:`Database.writer`), and readers use plain deferred transactions that WAL
never blocks. Writers of one process queue on a lock of their own before
``BEGIN IMMEDIATE`` (see :meth:`Database.writer`). PostgreSQL and MariaDB/MySQL
are used by URL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, inspect
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DataError, OperationalError, StatementError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from kumo.common.errors import ServiceUnavailable, ValidationError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "db" / "migrations"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: SQLite's busy timeout (seconds): how long a writer waits for the write lock.
SQLITE_BUSY_TIMEOUT = 30


class Base(DeclarativeBase):
    """Declarative base of every Kumo model."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as naive UTC (microseconds kept on MySQL) and read back aware."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


#: JSON column type used for free-form attributes ("extra", options, blobs).
JSONType = JSON().with_variant(mysql.JSON(), "mysql", "mariadb")


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}, pool_size=8
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transaction start (pysqlite's own
        # implicit BEGIN is deferred and cannot be made IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Engines and session factories for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._write_lock: threading.RLock | None = None
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
            self._write_lock = threading.RLock()
        else:
            self.write_engine = create_engine(
                url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=3600
            )
            self.read_engine = self.write_engine
        self.writer_factory = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def writer(self) -> Iterator[Session]:
        """A session for a transaction that writes; committed on success.

        On SQLite the process's writers take turns on a lock first: SQLite's
        busy handler makes a writer that finds the file locked sleep in growing
        steps (up to 100 ms), so under load (a boot storm: API, Placement,
        scheduler and conductor writing at once) the lock sat idle while
        writers slept, and a writer could starve. Past the busy timeout the
        writer goes on without the lock, so a stuck holder still fails the
        others with SQLite's own "database is locked", as before.
        """
        lock = self._write_lock
        queued = lock is not None and lock.acquire(timeout=SQLITE_BUSY_TIMEOUT)
        try:
            with _unavailable_on_disconnect(), self.writer_factory.begin() as session:
                yield session
        finally:
            if queued:
                assert lock is not None
                lock.release()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for a read-only transaction."""
        with _unavailable_on_disconnect(), self._reader() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command

        with self.write_engine.connect() as conn:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()

    def current_revision(self) -> str | None:
        """The schema's Alembic revision, or None for an empty database."""
        with self.read_engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
            return str(row[0]) if row else None

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def alembic_config(url: str) -> Any:
    """An Alembic configuration for Kumo's migrations at ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def _unavailable_on_disconnect() -> Iterator[None]:
    """Map database failures to what they mean for the client.

    A lost connection is a 503 (retry later). Data the database cannot store,
    such as a NUL character for PostgreSQL or a lone UTF-16 surrogate for any
    driver, came from the client: a 400, never a 500.
    """
    try:
        yield
    except OperationalError as exc:
        if exc.connection_invalidated or "connect" in str(exc.orig).lower():
            raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc
        raise
    except DataError as exc:
        raise ValidationError(_UNSTORABLE) from exc
    except StatementError as exc:
        if isinstance(exc.orig, UnicodeError):
            raise ValidationError(_UNSTORABLE) from exc
        raise
    except UnicodeError as exc:
        raise ValidationError(_UNSTORABLE) from exc


_UNSTORABLE = (
    "The request contains a value that cannot be stored (for example a NUL character or an "
    "invalid Unicode sequence)."
)
