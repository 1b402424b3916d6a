"""The placement service's tables.

Standard resource classes and traits (os-resource-classes, os-traits) live in
code, not in tables: only custom ones (``CUSTOM_*``) are rows. A resource
class is referred to by an integer id everywhere (standard: its index in
os-resource-classes; custom: :data:`CUSTOM_RC_OFFSET` + row id), a trait by
its name.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, UTCDateTime, utcnow

#: Custom resource class ids start here (as in Placement).
CUSTOM_RC_OFFSET = 10000

UUID = String(36)
NAME = String(255)


class ResourceClass(Base):
    """A custom resource class (``CUSTOM_*``)."""

    __tablename__ = "placement_resource_class"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Trait(Base):
    """A custom trait (``CUSTOM_*``)."""

    __tablename__ = "placement_trait"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ResourceProvider(Base):
    """A resource provider; ``root_provider_id`` is its own id for a root."""

    __tablename__ = "placement_resource_provider"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(UUID, unique=True)
    name: Mapped[str] = mapped_column(NAME, unique=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    # No self-referencing foreign keys (as upstream): MySQL checks them row by row,
    # so a root (which points at itself) could never be deleted in bulk. The
    # service keeps the tree consistent (no delete while children exist).
    root_provider_id: Mapped[int | None] = mapped_column(Integer, index=True)
    parent_provider_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Inventory(Base):
    """One resource class's inventory on one provider."""

    __tablename__ = "placement_inventory"
    __table_args__ = (
        UniqueConstraint("resource_provider_id", "resource_class_id"),
        Index("ix_placement_inventory_rc_rp", "resource_class_id", "resource_provider_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_provider_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("placement_resource_provider.id", ondelete="CASCADE")
    )
    resource_class_id: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    min_unit: Mapped[int] = mapped_column(Integer, default=1)
    max_unit: Mapped[int] = mapped_column(Integer)
    step_size: Mapped[int] = mapped_column(Integer, default=1)
    allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Consumer(Base):
    """A consumer of resources (an instance, a migration, …)."""

    __tablename__ = "placement_consumer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(UUID, unique=True)
    project_id: Mapped[str] = mapped_column(NAME, index=True)
    user_id: Mapped[str] = mapped_column(NAME, index=True)
    consumer_type: Mapped[str | None] = mapped_column(NAME)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Allocation(Base):
    """Resources of one class that one consumer uses on one provider."""

    __tablename__ = "placement_allocation"
    __table_args__ = (
        Index("ix_placement_allocation_rp_rc", "resource_provider_id", "resource_class_id"),
        Index("ix_placement_allocation_rc_rp", "resource_class_id", "resource_provider_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_provider_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("placement_resource_provider.id")
    )
    consumer_id: Mapped[str] = mapped_column(UUID, index=True)
    resource_class_id: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ProviderAggregate(Base):
    """A provider's membership in an aggregate."""

    __tablename__ = "placement_provider_aggregate"

    resource_provider_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("placement_resource_provider.id", ondelete="CASCADE"),
        primary_key=True,
    )
    aggregate_uuid: Mapped[str] = mapped_column(UUID, primary_key=True, index=True)


class ProviderTrait(Base):
    """A trait a provider has."""

    __tablename__ = "placement_provider_trait"

    resource_provider_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("placement_resource_provider.id", ondelete="CASCADE"),
        primary_key=True,
    )
    trait: Mapped[str] = mapped_column(NAME, primary_key=True, index=True)
