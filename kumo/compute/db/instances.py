"""Servers' tables: the instance, its faults, metadata and tags (Nova's ``instances`` & co).

Instances are soft-deleted (``deleted`` set, ``vm_state`` "deleted") like Nova's,
so admins can list deleted servers, ``os-instance-actions`` still answers for them
and ``os-simple-tenant-usage`` can count their lifetime. Flavor data is
snapshotted on the instance (Nova's ``instance.flavor``) so later flavor edits or
deletes do not change a running server.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, JSONType, UTCDateTime, utcnow

UUID = String(36)
ID = String(64)
NAME = String(255)


class Instance(Base):
    """A server: who owns it, where it runs, its states and what it was booted with."""

    __tablename__ = "instance"
    __table_args__ = (
        Index("ix_instance_project_deleted", "project_id", "deleted"),
        Index("ix_instance_host_deleted", "host", "deleted"),
        Index("ix_instance_updated_at", "updated_at"),
    )

    uuid: Mapped[str] = mapped_column(UUID, primary_key=True)
    display_name: Mapped[str] = mapped_column(NAME, default="")
    display_description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    hostname: Mapped[str] = mapped_column(NAME, default="")
    reservation_id: Mapped[str] = mapped_column(NAME, index=True)
    launch_index: Mapped[int] = mapped_column(Integer, default=0)

    image_ref: Mapped[str] = mapped_column(NAME, default="")
    flavor_id: Mapped[str] = mapped_column(NAME)
    #: The flavor as booted (id, flavorid, name, vcpus, memory_mb, root_gb,
    #: ephemeral_gb, swap, rxtx_factor, is_public, extra_specs, description).
    flavor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    old_flavor: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    new_flavor: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    vcpus: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    root_gb: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)

    vm_state: Mapped[str] = mapped_column(String(32), default="building")
    task_state: Mapped[str | None] = mapped_column(String(32))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)

    host: Mapped[str | None] = mapped_column(NAME)
    node: Mapped[str | None] = mapped_column(NAME)
    availability_zone: Mapped[str | None] = mapped_column(NAME)
    pinned_availability_zone: Mapped[str | None] = mapped_column(NAME)
    requested_host: Mapped[str | None] = mapped_column(NAME)
    requested_node: Mapped[str | None] = mapped_column(NAME)
    launched_on: Mapped[str | None] = mapped_column(NAME)

    key_name: Mapped[str | None] = mapped_column(NAME)
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)
    config_drive: Mapped[str] = mapped_column(String(16), default="")
    auto_disk_config: Mapped[bool] = mapped_column(Boolean, default=False)
    access_ip_v4: Mapped[str | None] = mapped_column(String(64))
    access_ip_v6: Mapped[str | None] = mapped_column(String(64))
    root_device_name: Mapped[str | None] = mapped_column(NAME)

    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "owner" or "admin", like Nova: an admin's lock binds the owner too.
    locked_by: Mapped[str | None] = mapped_column(String(16))
    locked_reason: Mapped[str | None] = mapped_column(NAME)

    #: What the user asked for: ``"auto"``/``"none"`` or a list of
    #: ``{"uuid"|"port"|"fixed_ip"|"tag": …}`` dicts.
    requested_networks: Mapped[Any] = mapped_column(JSONType, default=list)
    #: Security group names asked for (``default`` when none).
    security_groups: Mapped[list[str]] = mapped_column(JSONType, default=list)
    scheduler_hints: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    trusted_certs: Mapped[list[str] | None] = mapped_column(JSONType)
    #: Addresses the compute host reports: ``{label: [{"addr", "version",
    #: "OS-EXT-IPS:type", "OS-EXT-IPS-MAC:mac_addr"}]}``.
    network_info: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    system_metadata: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    launched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    terminated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class InstanceFault(Base):
    """Why a server went to ERROR (the newest one is shown as ``fault``)."""

    __tablename__ = "instance_fault"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("instance.uuid", ondelete="CASCADE"), index=True
    )
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(NAME)
    details: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(NAME)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstanceMetadata(Base):
    """One user metadata item of a server."""

    __tablename__ = "instance_metadata"

    instance_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("instance.uuid", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(NAME, primary_key=True)
    value: Mapped[str] = mapped_column(NAME, default="")


class InstanceTag(Base):
    """One tag of a server (≥2.26)."""

    __tablename__ = "instance_tag"

    instance_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("instance.uuid", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
