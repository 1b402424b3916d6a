"""Glance's JSON shapes of images and members."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kumo.image.db.models import Image, ImageMember, ImageTask


def isotime(value: dt.datetime) -> str:
    """Glance's timestamps: ``2016-01-02T03:04:05Z`` (UTC, no fraction)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_view(image: Image) -> dict[str, Any]:
    """An image as ``GET /v2/images/{id}`` shows it: properties as top-level fields."""
    view: dict[str, Any] = {p.name: p.value for p in image.properties}
    view.update(
        {
            "id": image.id,
            "name": image.name,
            "disk_format": image.disk_format,
            "container_format": image.container_format,
            "visibility": image.visibility,
            "size": image.size,
            "virtual_size": image.virtual_size,
            "status": image.status,
            "checksum": image.checksum,
            "protected": image.protected,
            "min_ram": image.min_ram,
            "min_disk": image.min_disk,
            "owner": image.owner,
            "os_hidden": image.os_hidden,
            "os_hash_algo": image.os_hash_algo,
            "os_hash_value": image.os_hash_value,
            "created_at": isotime(image.created_at),
            "updated_at": isotime(image.updated_at),
            "tags": sorted(t.value for t in image.tags),
            "self": f"/v2/images/{image.id}",
            "file": f"/v2/images/{image.id}/file",
            "schema": "/v2/schemas/image",
        }
    )
    if image.location is not None and image.status in ("active", "deactivated"):
        view["stores"] = "file"
    return view


def member_view(member: ImageMember) -> dict[str, Any]:
    """A membership as ``/v2/images/{id}/members/{member}`` shows it."""
    return {
        "member_id": member.member,
        "image_id": member.image_id,
        "status": member.status,
        "created_at": isotime(member.created_at),
        "updated_at": isotime(member.updated_at),
        "schema": "/v2/schemas/member",
    }


def task_view(task: ImageTask) -> dict[str, Any]:
    """An import task as ``/v2/images/{id}/tasks`` lists it."""
    return {
        "id": task.id,
        "type": task.type,
        "status": task.status,
        "owner": task.owner,
        "image_id": task.image_id,
        "request_id": task.request_id,
        "user_id": task.user_id,
        "input": task.input,
        "result": task.result,
        "message": task.message,
        "created_at": isotime(task.created_at),
        "updated_at": isotime(task.updated_at),
        "expires_at": isotime(task.expires_at) if task.expires_at else None,
        "deleted": False,
        "deleted_at": None,
    }
