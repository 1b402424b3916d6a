"""image initial schema

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kumo.common.db import JSONType, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "image",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("visibility", sa.String(length=20), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("os_hidden", sa.Boolean(), nullable=False),
        sa.Column("disk_format", sa.String(length=20), nullable=True),
        sa.Column("container_format", sa.String(length=20), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("virtual_size", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.String(length=32), nullable=True),
        sa.Column("os_hash_algo", sa.String(length=64), nullable=True),
        sa.Column("os_hash_value", sa.String(length=128), nullable=True),
        sa.Column("min_disk", sa.Integer(), nullable=False),
        sa.Column("min_ram", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image")),
    )
    op.create_index("ix_image_owner_visibility", "image", ["owner", "visibility"])
    op.create_index("ix_image_created_at_id", "image", ["created_at", "id"])
    op.create_index(op.f("ix_image_name"), "image", ["name"])
    op.create_index(op.f("ix_image_status"), "image", ["status"])
    op.create_index(op.f("ix_image_visibility"), "image", ["visibility"])
    op.create_table(
        "image_property",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image.id"],
            name=op.f("fk_image_property_image_id_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "name", name=op.f("pk_image_property")),
    )
    op.create_table(
        "image_tag",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image.id"],
            name=op.f("fk_image_tag_image_id_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "value", name=op.f("pk_image_tag")),
    )
    op.create_table(
        "image_member",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("member", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image.id"],
            name=op.f("fk_image_member_image_id_image"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "member", name=op.f("pk_image_member")),
    )
    op.create_index(op.f("ix_image_member_member"), "image_member", ["member"])
    op.create_table(
        "image_task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("input", JSONType, nullable=False),
        sa.Column("result", JSONType, nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_task")),
    )
    op.create_index(op.f("ix_image_task_image_id"), "image_task", ["image_id"])
    op.create_table(
        "image_metadef_namespace",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("namespace", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("resource_types", JSONType, nullable=False),
        sa.Column("properties", JSONType, nullable=False),
        sa.Column("objects", JSONType, nullable=False),
        sa.Column("tags", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_metadef_namespace")),
        sa.UniqueConstraint("namespace", name=op.f("uq_image_metadef_namespace_namespace")),
    )


def downgrade() -> None:
    op.drop_table("image_metadef_namespace")
    op.drop_index(op.f("ix_image_task_image_id"), table_name="image_task")
    op.drop_table("image_task")
    op.drop_index(op.f("ix_image_member_member"), table_name="image_member")
    op.drop_table("image_member")
    op.drop_table("image_tag")
    op.drop_table("image_property")
    op.drop_index(op.f("ix_image_visibility"), table_name="image")
    op.drop_index(op.f("ix_image_status"), table_name="image")
    op.drop_index(op.f("ix_image_name"), table_name="image")
    op.drop_index("ix_image_created_at_id", table_name="image")
    op.drop_index("ix_image_owner_visibility", table_name="image")
    op.drop_table("image")
