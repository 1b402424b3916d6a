"""Block device mappings requested at boot (``block_device_mapping_v2``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, UTCDateTime, utcnow

UUID = String(36)
NAME = String(255)


class BlockDeviceMapping(Base):
    """One disk of a server: where it comes from and what it becomes."""

    __tablename__ = "block_device_mapping"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(
        UUID, ForeignKey("instance.uuid", ondelete="CASCADE"), index=True
    )
    #: image, volume, snapshot or blank.
    source_type: Mapped[str] = mapped_column(String(16))
    #: local or volume.
    destination_type: Mapped[str | None] = mapped_column(String(16))
    #: The image, volume or snapshot id of the source.
    source_uuid: Mapped[str | None] = mapped_column(NAME)
    volume_id: Mapped[str | None] = mapped_column(NAME)
    volume_size: Mapped[int | None] = mapped_column(Integer)
    volume_type: Mapped[str | None] = mapped_column(NAME)
    boot_index: Mapped[int | None] = mapped_column(Integer)
    device_name: Mapped[str | None] = mapped_column(NAME)
    device_type: Mapped[str | None] = mapped_column(String(32))
    disk_bus: Mapped[str | None] = mapped_column(String(32))
    guest_format: Mapped[str | None] = mapped_column(String(32))
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    tag: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
