"""Server groups (affinity policies) and their members."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, JSONType, UTCDateTime, utcnow


class ServerGroup(Base):
    """A server group with one policy and its rules."""

    __tablename__ = "compute_server_group"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(64))
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServerGroupMember(Base):
    """An instance in a server group (an instance is in at most one group)."""

    __tablename__ = "compute_server_group_member"

    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("compute_server_group.id", ondelete="CASCADE"), primary_key=True
    )
    instance_uuid: Mapped[str] = mapped_column(String(36), primary_key=True, unique=True)
