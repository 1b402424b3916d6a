"""Host aggregates, their hosts and metadata (``availability_zone`` among them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, UTCDateTime, utcnow


class Aggregate(Base):
    """A named group of hosts."""

    __tablename__ = "compute_aggregate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AggregateHost(Base):
    """A host (compute service host name) in an aggregate."""

    __tablename__ = "compute_aggregate_host"

    aggregate_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("compute_aggregate.id", ondelete="CASCADE"), primary_key=True
    )
    host: Mapped[str] = mapped_column(String(255), primary_key=True)


class AggregateMetadata(Base):
    """One ``key=value`` of an aggregate's metadata."""

    __tablename__ = "compute_aggregate_metadata"

    aggregate_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("compute_aggregate.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
