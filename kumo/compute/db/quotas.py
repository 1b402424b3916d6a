"""Quota limits: per project, per user within a project, and per quota class."""

from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base


class Quota(Base):
    """A hard limit for one resource of a project (``user_id`` "" = the whole project)."""

    __tablename__ = "compute_quota"
    __table_args__ = (UniqueConstraint("project_id", "user_id", "resource"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    #: "" for a project-wide limit (not NULL, so the unique constraint holds everywhere).
    user_id: Mapped[str] = mapped_column(String(64), default="")
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaClass(Base):
    """A hard limit of a quota class (only ``default`` is used, as in Nova)."""

    __tablename__ = "compute_quota_class"

    class_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)
