"""compute servers: instances, actions and events, metadata, tags, block device mappings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import kumo.common.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("display_description", sa.Text(), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("reservation_id", sa.String(length=255), nullable=False),
        sa.Column("launch_index", sa.Integer(), nullable=False),
        sa.Column("image_ref", sa.String(length=255), nullable=False),
        sa.Column("flavor_id", sa.String(length=255), nullable=False),
        sa.Column(
            "flavor",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "old_flavor",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "new_flavor",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=True,
        ),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("root_gb", sa.Integer(), nullable=False),
        sa.Column("ephemeral_gb", sa.Integer(), nullable=False),
        sa.Column("vm_state", sa.String(length=32), nullable=False),
        sa.Column("task_state", sa.String(length=32), nullable=True),
        sa.Column("power_state", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("node", sa.String(length=255), nullable=True),
        sa.Column("availability_zone", sa.String(length=255), nullable=True),
        sa.Column("pinned_availability_zone", sa.String(length=255), nullable=True),
        sa.Column("requested_host", sa.String(length=255), nullable=True),
        sa.Column("requested_node", sa.String(length=255), nullable=True),
        sa.Column("launched_on", sa.String(length=255), nullable=True),
        sa.Column("key_name", sa.String(length=255), nullable=True),
        sa.Column("key_data", sa.Text(), nullable=True),
        sa.Column("user_data", sa.Text(), nullable=True),
        sa.Column("config_drive", sa.String(length=16), nullable=False),
        sa.Column("auto_disk_config", sa.Boolean(), nullable=False),
        sa.Column("access_ip_v4", sa.String(length=64), nullable=True),
        sa.Column("access_ip_v6", sa.String(length=64), nullable=True),
        sa.Column("root_device_name", sa.String(length=255), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_by", sa.String(length=16), nullable=True),
        sa.Column("locked_reason", sa.String(length=255), nullable=True),
        sa.Column(
            "requested_networks",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "security_groups",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "scheduler_hints",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "trusted_certs",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=True,
        ),
        sa.Column(
            "network_info",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=False,
        ),
        sa.Column(
            "system_metadata",
            sa.JSON().with_variant(mysql.JSON(), "mariadb").with_variant(mysql.JSON(), "mysql"),
            nullable=False,
        ),
        sa.Column("created_at", kumo.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kumo.common.db.UTCDateTime(), nullable=False),
        sa.Column("launched_at", kumo.common.db.UTCDateTime(), nullable=True),
        sa.Column("terminated_at", kumo.common.db.UTCDateTime(), nullable=True),
        sa.Column("deleted_at", kumo.common.db.UTCDateTime(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_instance")),
    )
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.create_index("ix_instance_host_deleted", ["host", "deleted"], unique=False)
        batch_op.create_index(
            "ix_instance_project_deleted", ["project_id", "deleted"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_instance_reservation_id"), ["reservation_id"], unique=False
        )
        batch_op.create_index("ix_instance_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "block_device_mapping",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("source_type", sa.String(length=16), nullable=False),
        sa.Column("destination_type", sa.String(length=16), nullable=True),
        sa.Column("source_uuid", sa.String(length=255), nullable=True),
        sa.Column("volume_id", sa.String(length=255), nullable=True),
        sa.Column("volume_size", sa.Integer(), nullable=True),
        sa.Column("volume_type", sa.String(length=255), nullable=True),
        sa.Column("boot_index", sa.Integer(), nullable=True),
        sa.Column("device_name", sa.String(length=255), nullable=True),
        sa.Column("device_type", sa.String(length=32), nullable=True),
        sa.Column("disk_bus", sa.String(length=32), nullable=True),
        sa.Column("guest_format", sa.String(length=32), nullable=True),
        sa.Column("delete_on_termination", sa.Boolean(), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=True),
        sa.Column("created_at", kumo.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["instance.uuid"],
            name=op.f("fk_block_device_mapping_instance_uuid_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_device_mapping")),
    )
    with op.batch_alter_table("block_device_mapping", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_block_device_mapping_instance_uuid"), ["instance_uuid"], unique=False
        )

    op.create_table(
        "instance_action",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=255), nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("start_time", kumo.common.db.UTCDateTime(), nullable=False),
        sa.Column("finish_time", kumo.common.db.UTCDateTime(), nullable=True),
        sa.Column("message", sa.String(length=255), nullable=True),
        sa.Column("updated_at", kumo.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["instance.uuid"],
            name=op.f("fk_instance_action_instance_uuid_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_action")),
    )
    with op.batch_alter_table("instance_action", schema=None) as batch_op:
        batch_op.create_index(
            "ix_instance_action_uuid_request", ["instance_uuid", "request_id"], unique=False
        )

    op.create_table(
        "instance_fault",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=255), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("created_at", kumo.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["instance.uuid"],
            name=op.f("fk_instance_fault_instance_uuid_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_fault")),
    )
    with op.batch_alter_table("instance_fault", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instance_fault_instance_uuid"), ["instance_uuid"], unique=False
        )

    op.create_table(
        "instance_metadata",
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["instance.uuid"],
            name=op.f("fk_instance_metadata_instance_uuid_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_uuid", "key", name=op.f("pk_instance_metadata")),
    )
    op.create_table(
        "instance_tag",
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_uuid"],
            ["instance.uuid"],
            name=op.f("fk_instance_tag_instance_uuid_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_uuid", "tag", name=op.f("pk_instance_tag")),
    )
    op.create_table(
        "instance_action_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("start_time", kumo.common.db.UTCDateTime(), nullable=False),
        sa.Column("finish_time", kumo.common.db.UTCDateTime(), nullable=True),
        sa.Column("result", sa.String(length=255), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["instance_action.id"],
            name=op.f("fk_instance_action_event_action_id_instance_action"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_action_event")),
    )
    with op.batch_alter_table("instance_action_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instance_action_event_action_id"), ["action_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("instance_action_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instance_action_event_action_id"))

    op.drop_table("instance_action_event")
    op.drop_table("instance_tag")
    op.drop_table("instance_metadata")
    with op.batch_alter_table("instance_fault", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instance_fault_instance_uuid"))

    op.drop_table("instance_fault")
    with op.batch_alter_table("instance_action", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_action_uuid_request")

    op.drop_table("instance_action")
    with op.batch_alter_table("block_device_mapping", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_device_mapping_instance_uuid"))

    op.drop_table("block_device_mapping")
    with op.batch_alter_table("instance", schema=None) as batch_op:
        batch_op.drop_index("ix_instance_updated_at")
        batch_op.drop_index(batch_op.f("ix_instance_reservation_id"))
        batch_op.drop_index("ix_instance_project_deleted")
        batch_op.drop_index("ix_instance_host_deleted")

    op.drop_table("instance")
