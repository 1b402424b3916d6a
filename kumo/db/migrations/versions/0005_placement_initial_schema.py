"""placement initial schema

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kumo.common.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "placement_consumer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("consumer_type", sa.String(length=255), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_consumer")),
        sa.UniqueConstraint("uuid", name=op.f("uq_placement_consumer_uuid")),
    )
    op.create_index(
        op.f("ix_placement_consumer_project_id"), "placement_consumer", ["project_id"], unique=False
    )
    op.create_index(
        op.f("ix_placement_consumer_user_id"), "placement_consumer", ["user_id"], unique=False
    )
    op.create_table(
        "placement_resource_class",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_resource_class")),
        sa.UniqueConstraint("name", name=op.f("uq_placement_resource_class_name")),
    )
    op.create_table(
        "placement_resource_provider",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("root_provider_id", sa.Integer(), nullable=True),
        sa.Column("parent_provider_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_resource_provider")),
        sa.UniqueConstraint("name", name=op.f("uq_placement_resource_provider_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_placement_resource_provider_uuid")),
    )
    op.create_index(
        op.f("ix_placement_resource_provider_parent_provider_id"),
        "placement_resource_provider",
        ["parent_provider_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_placement_resource_provider_root_provider_id"),
        "placement_resource_provider",
        ["root_provider_id"],
        unique=False,
    )
    op.create_table(
        "placement_trait",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_trait")),
        sa.UniqueConstraint("name", name=op.f("uq_placement_trait_name")),
    )
    op.create_table(
        "placement_allocation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resource_provider_id", sa.Integer(), nullable=False),
        sa.Column("consumer_id", sa.String(length=36), nullable=False),
        sa.Column("resource_class_id", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_provider_id"],
            ["placement_resource_provider.id"],
            name=op.f("fk_placement_allocation_resource_provider_id_placement_resource_provider"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_allocation")),
    )
    op.create_index(
        op.f("ix_placement_allocation_consumer_id"),
        "placement_allocation",
        ["consumer_id"],
        unique=False,
    )
    op.create_index(
        "ix_placement_allocation_rc_rp",
        "placement_allocation",
        ["resource_class_id", "resource_provider_id"],
        unique=False,
    )
    op.create_index(
        "ix_placement_allocation_rp_rc",
        "placement_allocation",
        ["resource_provider_id", "resource_class_id"],
        unique=False,
    )
    op.create_table(
        "placement_inventory",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resource_provider_id", sa.Integer(), nullable=False),
        sa.Column("resource_class_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("min_unit", sa.Integer(), nullable=False),
        sa.Column("max_unit", sa.Integer(), nullable=False),
        sa.Column("step_size", sa.Integer(), nullable=False),
        sa.Column("allocation_ratio", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_provider_id"],
            ["placement_resource_provider.id"],
            name=op.f("fk_placement_inventory_resource_provider_id_placement_resource_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_inventory")),
        sa.UniqueConstraint(
            "resource_provider_id",
            "resource_class_id",
            name=op.f("uq_placement_inventory_resource_provider_id_resource_class_id"),
        ),
    )
    op.create_index(
        "ix_placement_inventory_rc_rp",
        "placement_inventory",
        ["resource_class_id", "resource_provider_id"],
        unique=False,
    )
    op.create_table(
        "placement_provider_aggregate",
        sa.Column("resource_provider_id", sa.Integer(), nullable=False),
        sa.Column("aggregate_uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_provider_id"],
            ["placement_resource_provider.id"],
            name=op.f(
                "fk_placement_provider_aggregate_resource_provider_id_placement_resource_provider"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "resource_provider_id", "aggregate_uuid", name=op.f("pk_placement_provider_aggregate")
        ),
    )
    op.create_index(
        op.f("ix_placement_provider_aggregate_aggregate_uuid"),
        "placement_provider_aggregate",
        ["aggregate_uuid"],
        unique=False,
    )
    op.create_table(
        "placement_provider_trait",
        sa.Column("resource_provider_id", sa.Integer(), nullable=False),
        sa.Column("trait", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_provider_id"],
            ["placement_resource_provider.id"],
            name=op.f(
                "fk_placement_provider_trait_resource_provider_id_placement_resource_provider"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "resource_provider_id", "trait", name=op.f("pk_placement_provider_trait")
        ),
    )
    op.create_index(
        op.f("ix_placement_provider_trait_trait"),
        "placement_provider_trait",
        ["trait"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_placement_provider_trait_trait"), table_name="placement_provider_trait")
    op.drop_table("placement_provider_trait")
    op.drop_index(
        op.f("ix_placement_provider_aggregate_aggregate_uuid"),
        table_name="placement_provider_aggregate",
    )
    op.drop_table("placement_provider_aggregate")
    op.drop_index("ix_placement_inventory_rc_rp", table_name="placement_inventory")
    op.drop_table("placement_inventory")
    op.drop_index("ix_placement_allocation_rp_rc", table_name="placement_allocation")
    op.drop_index("ix_placement_allocation_rc_rp", table_name="placement_allocation")
    op.drop_index(op.f("ix_placement_allocation_consumer_id"), table_name="placement_allocation")
    op.drop_table("placement_allocation")
    op.drop_table("placement_trait")
    op.drop_index(
        op.f("ix_placement_resource_provider_root_provider_id"),
        table_name="placement_resource_provider",
    )
    op.drop_index(
        op.f("ix_placement_resource_provider_parent_provider_id"),
        table_name="placement_resource_provider",
    )
    op.drop_table("placement_resource_provider")
    op.drop_table("placement_resource_class")
    op.drop_index(op.f("ix_placement_consumer_user_id"), table_name="placement_consumer")
    op.drop_index(op.f("ix_placement_consumer_project_id"), table_name="placement_consumer")
    op.drop_table("placement_consumer")
