"""Instance actions and their events: the per-server timeline (``os-instance-actions``).

Every request that changes a server records an action (keyed by the request id)
and the services that do the work record events under it; event names of the
boot follow the booklet's journey steps (:mod:`kumo.compute.journey`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, UTCDateTime, utcnow

UUID = String(36)
ID = String(64)
NAME = String(255)


class InstanceAction(Base):
    """One user-visible action on a server (create, stop, reboot, …)."""

    __tablename__ = "instance_action"
    __table_args__ = (Index("ix_instance_action_uuid_request", "instance_uuid", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(NAME)
    instance_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("instance.uuid", ondelete="CASCADE")
    )
    request_id: Mapped[str] = mapped_column(NAME)
    user_id: Mapped[str | None] = mapped_column(ID)
    project_id: Mapped[str | None] = mapped_column(ID)
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finish_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str | None] = mapped_column(NAME)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstanceActionEvent(Base):
    """One step of an action, done by one service on one host."""

    __tablename__ = "instance_action_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("instance_action.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(NAME)
    start_time: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finish_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(NAME)
    traceback: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(NAME)
    details: Mapped[str | None] = mapped_column(Text)
