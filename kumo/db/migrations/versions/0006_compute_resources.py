"""compute resources: flavors, keypairs, quotas, server groups, aggregates, services, compute nodes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kumo.common.db import JSONType, UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compute_flavor",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("root_gb", sa.Integer(), nullable=False),
        sa.Column("ephemeral_gb", sa.Integer(), nullable=False),
        sa.Column("swap", sa.Integer(), nullable=False),
        sa.Column("rxtx_factor", sa.Float(), nullable=False),
        sa.Column("vcpu_weight", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_flavor")),
        sa.UniqueConstraint("name", name=op.f("uq_compute_flavor_name")),
    )
    op.create_table(
        "compute_flavor_extra_spec",
        sa.Column("flavor_id", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(
            ["flavor_id"],
            ["compute_flavor.id"],
            name=op.f("fk_compute_flavor_extra_spec_flavor_id_compute_flavor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flavor_id", "key", name=op.f("pk_compute_flavor_extra_spec")),
    )
    op.create_table(
        "compute_flavor_project",
        sa.Column("flavor_id", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["flavor_id"],
            ["compute_flavor.id"],
            name=op.f("fk_compute_flavor_project_flavor_id_compute_flavor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flavor_id", "project_id", name=op.f("pk_compute_flavor_project")),
    )
    op.create_table(
        "compute_key_pair",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_key_pair")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_compute_key_pair_user_id_name")),
    )
    op.create_index(op.f("ix_compute_key_pair_user_id"), "compute_key_pair", ["user_id"])
    op.create_table(
        "compute_quota",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_quota")),
        sa.UniqueConstraint(
            "project_id",
            "user_id",
            "resource",
            name=op.f("uq_compute_quota_project_id_user_id_resource"),
        ),
    )
    op.create_index(op.f("ix_compute_quota_project_id"), "compute_quota", ["project_id"])
    op.create_table(
        "compute_quota_class",
        sa.Column("class_name", sa.String(255), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("class_name", "resource", name=op.f("pk_compute_quota_class")),
    )
    op.create_table(
        "compute_server_group",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("rules", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_server_group")),
    )
    op.create_index(
        op.f("ix_compute_server_group_project_id"), "compute_server_group", ["project_id"]
    )
    op.create_table(
        "compute_server_group_member",
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.Column("instance_uuid", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["compute_server_group.id"],
            name=op.f("fk_compute_server_group_member_group_id_compute_server_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "instance_uuid", name=op.f("pk_compute_server_group_member")
        ),
        sa.UniqueConstraint(
            "instance_uuid", name=op.f("uq_compute_server_group_member_instance_uuid")
        ),
    )
    op.create_table(
        "compute_aggregate",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_aggregate")),
        sa.UniqueConstraint("name", name=op.f("uq_compute_aggregate_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_aggregate_uuid")),
    )
    for table, extra in (
        ("compute_aggregate_host", [sa.Column("host", sa.String(255), nullable=False)]),
        (
            "compute_aggregate_metadata",
            [
                sa.Column("key", sa.String(255), nullable=False),
                sa.Column("value", sa.String(255), nullable=False),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("aggregate_id", sa.Integer(), nullable=False),
            *extra,
            sa.ForeignKeyConstraint(
                ["aggregate_id"],
                ["compute_aggregate.id"],
                name=op.f(f"fk_{table}_aggregate_id_compute_aggregate"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("aggregate_id", extra[0].name, name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "compute_service",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("binary", sa.String(255), nullable=False),
        sa.Column("topic", sa.String(255), nullable=True),
        sa.Column("zone", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(255), nullable=True),
        sa.Column("forced_down", sa.Boolean(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("last_seen_up", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_service")),
        sa.UniqueConstraint("host", "binary", name=op.f("uq_compute_service_host_binary")),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_service_uuid")),
    )
    op.create_index(op.f("ix_compute_service_host"), "compute_service", ["host"])
    op.create_table(
        "compute_node",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("hypervisor_hostname", sa.String(255), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("local_gb", sa.Integer(), nullable=False),
        sa.Column("vcpus_used", sa.Integer(), nullable=False),
        sa.Column("memory_mb_used", sa.Integer(), nullable=False),
        sa.Column("local_gb_used", sa.Integer(), nullable=False),
        sa.Column("running_vms", sa.Integer(), nullable=False),
        sa.Column("hypervisor_type", sa.String(255), nullable=False),
        sa.Column("hypervisor_version", sa.Integer(), nullable=False),
        sa.Column("host_ip", sa.String(64), nullable=True),
        sa.Column("cpu_info", sa.Text(), nullable=False),
        sa.Column("current_workload", sa.Integer(), nullable=False),
        sa.Column("disk_available_least", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["compute_service.id"],
            name=op.f("fk_compute_node_service_id_compute_service"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_node")),
        sa.UniqueConstraint(
            "hypervisor_hostname", name=op.f("uq_compute_node_hypervisor_hostname")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_compute_node_uuid")),
    )
    op.create_index(op.f("ix_compute_node_host"), "compute_node", ["host"])
    op.create_index(op.f("ix_compute_node_service_id"), "compute_node", ["service_id"])


def downgrade() -> None:
    for table in (
        "compute_node",
        "compute_service",
        "compute_aggregate_metadata",
        "compute_aggregate_host",
        "compute_aggregate",
        "compute_server_group_member",
        "compute_server_group",
        "compute_quota_class",
        "compute_quota",
        "compute_key_pair",
        "compute_flavor_project",
        "compute_flavor_extra_spec",
        "compute_flavor",
    ):
        op.drop_table(table)
