"""Import tasks: the record of each ``glance-direct`` import (``/v2/images/{id}/tasks``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from kumo.common.db import Database, utcnow
from kumo.image.db.models import ImageTask

#: How long a finished task stays listed (Glance's ``task_time_to_live``: 48 h).
TASK_TTL = dt.timedelta(hours=48)


def start_import(
    db: Database,
    image_id: str,
    *,
    owner: str | None,
    user_id: str | None,
    request_id: str | None,
    method: dict[str, Any],
) -> str:
    """Record a started import; returns the task id."""
    now = utcnow()
    task = ImageTask(
        id=str(uuid.uuid4()),
        image_id=image_id,
        type="api_image_import",
        status="processing",
        owner=owner,
        user_id=user_id,
        request_id=request_id,
        input={
            "image_id": image_id,
            "import_req": {"method": method},
            "backend": ["file"],
        },
        result=None,
        message="",
        created_at=now,
        updated_at=now,
    )
    with db.writer() as session:
        session.add(task)
    return task.id


def finish(db: Database, task_id: str, status: str, message: str = "") -> None:
    """Mark a task ``success`` or ``failure``."""
    now = utcnow()
    with db.writer() as session:
        task = session.get(ImageTask, task_id)
        if task is None:
            return
        task.status = status
        task.message = message
        task.result = {"image_id": task.image_id} if status == "success" else None
        task.updated_at = now
        task.expires_at = now + TASK_TTL


def for_image(db: Database, image_id: str) -> list[ImageTask]:
    """The tasks of an image, oldest first."""
    with db.reader() as session:
        stmt = select(ImageTask).where(ImageTask.image_id == image_id)
        return list(session.scalars(stmt.order_by(ImageTask.created_at, ImageTask.id)))
