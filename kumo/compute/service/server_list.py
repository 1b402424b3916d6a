"""Listing servers: Nova's filters, sorting and marker pagination.

Exact-match filters run in SQL; regular-expression filters (``name``, ``ip``),
``status`` and tag filters need Python, so the filtered, sorted list is paged
in Python (marker = a server uuid).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.errors import BadRequest
from kumo.compute import states
from kumo.compute.db.instances import Instance, InstanceTag

#: sort_key → Instance attribute (Nova's instance column names).
SORT_KEYS: dict[str, str] = {
    "access_ip_v4": "access_ip_v4",
    "access_ip_v6": "access_ip_v6",
    "auto_disk_config": "auto_disk_config",
    "availability_zone": "availability_zone",
    "config_drive": "config_drive",
    "created_at": "created_at",
    "display_description": "display_description",
    "display_name": "display_name",
    "host": "host",
    "hostname": "hostname",
    "image_ref": "image_ref",
    "instance_type_id": "flavor_id",
    "kernel_id": "uuid",
    "key_name": "key_name",
    "launch_index": "launch_index",
    "launched_at": "launched_at",
    "locked": "locked",
    "locked_by": "locked_by",
    "node": "node",
    "power_state": "power_state",
    "progress": "progress",
    "project_id": "project_id",
    "ramdisk_id": "uuid",
    "reservation_id": "reservation_id",
    "root_device_name": "root_device_name",
    "task_state": "task_state",
    "terminated_at": "terminated_at",
    "updated_at": "updated_at",
    "user_id": "user_id",
    "uuid": "uuid",
    "vm_state": "vm_state",
}
#: Sort keys only admins may use (others' are ignored, as Nova does).
ADMIN_SORT_KEYS = frozenset({"host", "node"})


@dataclass
class ServerQuery:
    """What to list: scope, filters, order and page."""

    project_id: str | None = None
    user_id: str | None = None
    deleted: bool | None = False
    name: str | None = None
    statuses: list[str] = field(default_factory=list)
    image: str | None = None
    flavor: str | None = None
    host: str | None = None
    node: str | None = None
    ip: str | None = None
    ip6: str | None = None
    reservation_id: str | None = None
    changes_since: dt.datetime | None = None
    changes_before: dt.datetime | None = None
    tags: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    locked: bool | None = None
    exact: dict[str, Any] = field(default_factory=dict)
    sort: list[tuple[str, str]] = field(default_factory=list)
    marker: str | None = None
    limit: int | None = None


def _regex(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise BadRequest(f"Invalid filter field: {what}.") from exc


def _addresses(instance: Instance, version: int | None) -> list[str]:
    found = []
    for entries in (instance.network_info or {}).values():
        for entry in entries:
            if version is None or entry.get("version") == version:
                found.append(str(entry.get("addr", "")))
    return found


def _sort_value(value: Any) -> tuple[int, Any]:
    # None sorts first ascending (as SQL NULLs do on SQLite/MySQL).
    return (0, "") if value is None else (1, value)


def list_servers(s: Session, q: ServerQuery) -> list[Instance]:
    """The servers matching ``q``, sorted and paged."""
    stmt = select(Instance)
    if q.project_id is not None:
        stmt = stmt.where(Instance.project_id == q.project_id)
    if q.user_id is not None:
        stmt = stmt.where(Instance.user_id == q.user_id)
    if q.deleted is not None:
        stmt = stmt.where(Instance.deleted.is_(q.deleted))
    if q.image is not None:
        stmt = stmt.where(Instance.image_ref == q.image)
    if q.flavor is not None:
        stmt = stmt.where(Instance.flavor_id == q.flavor)
    if q.host is not None:
        stmt = stmt.where(Instance.host == q.host)
    if q.node is not None:
        stmt = stmt.where(Instance.node == q.node)
    if q.reservation_id is not None:
        stmt = stmt.where(Instance.reservation_id == q.reservation_id)
    if q.changes_since is not None:
        stmt = stmt.where(Instance.updated_at >= q.changes_since)
    if q.changes_before is not None:
        stmt = stmt.where(Instance.updated_at <= q.changes_before)
    if q.locked is not None:
        stmt = stmt.where(Instance.locked.is_(q.locked))
    for attr, value in q.exact.items():
        stmt = stmt.where(getattr(Instance, attr) == value)
    rows = list(s.scalars(stmt))

    if q.name is not None:
        pattern = _regex(q.name, "name")
        rows = [r for r in rows if pattern.search(r.display_name or "")]
    if q.statuses:
        wanted = {x.upper() for x in q.statuses}
        rows = [r for r in rows if _status(r) in wanted]
    for ip, version, what in ((q.ip, 4, "ip"), (q.ip6, 6, "ip6")):
        if ip is not None:
            pattern = _regex(ip, what)
            rows = [r for r in rows if any(pattern.search(a) for a in _addresses(r, version))]
    if q.tags or q.tags_any or q.not_tags or q.not_tags_any:
        rows = _filter_tags(s, rows, q)

    rows = _sorted(rows, q.sort or [("created_at", "desc")])
    if q.marker is not None:
        ids = [r.uuid for r in rows]
        if q.marker not in ids:
            raise BadRequest(f"marker [{q.marker}] not found")
        rows = rows[ids.index(q.marker) + 1 :]
    if q.limit is not None:
        rows = rows[: q.limit]
    return rows


def _status(instance: Instance) -> str:
    if instance.deleted:
        return "DELETED"
    return states.status_of(instance.vm_state, instance.task_state)


def _filter_tags(s: Session, rows: list[Instance], q: ServerQuery) -> list[Instance]:
    uuids = [r.uuid for r in rows]
    tags: dict[str, set[str]] = {u: set() for u in uuids}
    if uuids:
        for row in s.scalars(select(InstanceTag).where(InstanceTag.instance_uuid.in_(uuids))):
            tags[row.instance_uuid].add(row.tag)
    out = []
    for r in rows:
        have = tags[r.uuid]
        if q.tags and not set(q.tags) <= have:
            continue
        if q.tags_any and not set(q.tags_any) & have:
            continue
        if q.not_tags and set(q.not_tags) <= have:
            continue
        if q.not_tags_any and set(q.not_tags_any) & have:
            continue
        out.append(r)
    return out


def _sorted(rows: list[Instance], sort: list[tuple[str, str]]) -> list[Instance]:
    # Stable sorts from the last key to the first; uuid breaks ties like Nova's id.
    keys = [*sort, ("uuid", sort[0][1] if sort else "desc")]
    for key, direction in reversed(keys):
        attr = SORT_KEYS[key]
        rows = sorted(
            rows,
            key=lambda r, a=attr: _sort_value(getattr(r, a)),  # type: ignore[misc]
            reverse=direction == "desc",
        )
    return rows
