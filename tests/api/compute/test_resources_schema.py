"""Migration 0006 creates exactly the tables the compute-resources models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kumo.common.db import Base, Database

TABLES = {
    "compute_flavor",
    "compute_flavor_extra_spec",
    "compute_flavor_project",
    "compute_key_pair",
    "compute_quota",
    "compute_quota_class",
    "compute_server_group",
    "compute_server_group_member",
    "compute_aggregate",
    "compute_aggregate_host",
    "compute_aggregate_metadata",
    "compute_service",
    "compute_node",
}


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    assert isinstance(item, tuple)
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str) and part in TABLES:
            return part
        if name in TABLES:
            return str(name)
    return None


def test_models_and_migration_agree(db: Database) -> None:
    import kumo.db.models  # noqa: F401  (every model registered)

    assert set(Base.metadata.tables) >= TABLES
    with db.read_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if _table_of(d) in TABLES]
    assert mine == []
