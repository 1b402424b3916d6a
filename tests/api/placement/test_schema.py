"""The migration creates exactly the placement tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kumo.common.db import Base, Database


def test_models_match_migration(db: Database) -> None:
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    ours = [d for d in diff if "placement_" in repr(d)]
    assert ours == []
