"""The image models and migration 0004 describe the same tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kumo.common.db import Base, Database

IMAGE_TABLES = {
    "image",
    "image_property",
    "image_tag",
    "image_member",
    "image_task",
    "image_metadef_namespace",
}


def _table_of(diff: object) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item if isinstance(item, tuple) else ():
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name in IMAGE_TABLES:
            return str(name)
        if isinstance(part, str) and part in IMAGE_TABLES:
            return part
    return None


def test_migration_matches_models(db: Database) -> None:
    with db.write_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if _table_of(d) in IMAGE_TABLES]
    assert mine == []
