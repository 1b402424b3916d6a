"""The image service's tables: Glance's data model without soft deletion.

An image row holds Glance's base attributes; arbitrary user properties live in
``image_property`` (one row per key, shown as top-level fields), tags in
``image_tag`` and the projects a ``shared`` image is offered to in
``image_member``. Deleted images are removed (rows and data), so a deleted
image is simply not found.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kumo.common.db import Base, JSONType, UTCDateTime, utcnow

ID = String(64)


class Image(Base):
    """An image: its metadata, its data's checksums and where it lives."""

    __tablename__ = "image"
    __table_args__ = (
        Index("ix_image_owner_visibility", "owner", "visibility"),
        Index("ix_image_created_at_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), index=True)
    owner: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(30), index=True)
    visibility: Mapped[str] = mapped_column(String(20), index=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    os_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    disk_format: Mapped[str | None] = mapped_column(String(20))
    container_format: Mapped[str | None] = mapped_column(String(20))
    size: Mapped[int | None] = mapped_column(BigInteger)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(32))
    os_hash_algo: Mapped[str | None] = mapped_column(String(64))
    os_hash_value: Mapped[str | None] = mapped_column(String(128))
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    #: Relative path of the data file in the store (None until uploaded).
    location: Mapped[str | None] = mapped_column(String(255))
    #: Why the image was killed (shown in logs; kept for operators).
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    properties: Mapped[list[ImageProperty]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )
    tags: Mapped[list[ImageTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class ImageProperty(Base):
    """A user-defined property of an image (``hw_disk_bus``, ``os_distro``, …)."""

    __tablename__ = "image_property"

    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("image.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class ImageTag(Base):
    """A tag on an image."""

    __tablename__ = "image_tag"

    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("image.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImageMember(Base):
    """A project a shared image is offered to, and whether it accepted."""

    __tablename__ = "image_member"

    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("image.id", ondelete="CASCADE"), primary_key=True
    )
    member: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImageTask(Base):
    """An import of an image (Glance's ``api_image_import`` task), kept for its history."""

    __tablename__ = "image_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    image_id: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30))
    owner: Mapped[str | None] = mapped_column(ID)
    user_id: Mapped[str | None] = mapped_column(ID)
    request_id: Mapped[str | None] = mapped_column(String(64))
    input: Mapped[dict[str, Any]] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class MetadefNamespace(Base):
    """A metadata definition namespace (Glance's metadefs catalog).

    Glance keeps objects, properties, tags and resource type associations in
    tables of their own; they are only ever read and written through their
    namespace, so here they live in JSON members of the namespace row, keyed by
    name (``resource_types`` by resource type name).
    """

    __tablename__ = "image_metadef_namespace"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(32), default="private")
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(ID)
    resource_types: Mapped[dict[str, Any]] = mapped_column(JSONType)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType)
    objects: Mapped[dict[str, Any]] = mapped_column(JSONType)
    tags: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
