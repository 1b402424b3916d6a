"""Migration 0008 creates exactly the tables (and indexes) the servers models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kumo.common.db import Base, Database

TABLES = {
    "instance",
    "instance_fault",
    "instance_metadata",
    "instance_tag",
    "instance_action",
    "instance_action_event",
    "block_device_mapping",
}


def _tables(diff: Any) -> set[str]:
    """Every table name a compare_metadata entry mentions."""
    items = diff if isinstance(diff, list) else [diff]
    found: set[str] = set()
    for item in items:
        for part in item[1:]:
            if isinstance(part, str):
                found.add(part)
            for attr in ("name", "table"):
                value = getattr(part, attr, None)
                if isinstance(value, str):
                    found.add(value)
                elif value is not None and isinstance(getattr(value, "name", None), str):
                    found.add(value.name)
    return found


def test_servers_models_and_migration_agree(db: Database) -> None:
    import kumo.db.models  # noqa: F401  (every model registered)

    assert set(Base.metadata.tables) >= TABLES
    with db.read_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if _tables(d) & TABLES]
    assert mine == []
