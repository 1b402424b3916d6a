"""Per-project usage over a period (Nova's ``os-simple-tenant-usage``).

A server counts for the hours it existed between its launch and its
termination, within the period; vCPU, RAM and disk hours follow its flavor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kumo.common.errors import BadRequest
from kumo.compute.db.instances import Instance


def active_in(
    s: Session, start: dt.datetime, stop: dt.datetime, project_id: str | None
) -> list[Instance]:
    """Servers launched before ``stop`` and not terminated before ``start``, oldest first."""
    stmt = (
        select(Instance)
        .where(Instance.launched_at.is_not(None), Instance.launched_at <= stop)
        .where(or_(Instance.terminated_at.is_(None), Instance.terminated_at >= start))
        .order_by(Instance.created_at, Instance.uuid)
    )
    if project_id is not None:
        stmt = stmt.where(Instance.project_id == project_id)
    return list(s.scalars(stmt))


def hours_for(instance: Instance, start: dt.datetime, stop: dt.datetime) -> float:
    """Hours of the period the server existed."""
    launched, terminated = instance.launched_at, instance.terminated_at
    if launched is None or launched > stop or (terminated is not None and terminated < start):
        return 0.0
    begin = max(launched, start)
    end = min(stop, terminated) if terminated else stop
    return max((end - begin).total_seconds() / 3600.0, 0.0)


def _naive(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")


def usages(
    s: Session,
    start: dt.datetime,
    stop: dt.datetime,
    *,
    project_id: str | None = None,
    detailed: bool = True,
    marker: str | None = None,
    limit: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-project summaries (with ``server_usages`` when detailed) and every server usage."""
    now = now or dt.datetime.now(dt.UTC)
    instances = active_in(s, start, stop, project_id)
    if marker is not None:
        ids = [i.uuid for i in instances]
        if marker not in ids:
            raise BadRequest(f"Marker {marker} could not be found.")
        instances = instances[ids.index(marker) + 1 :]
    if limit is not None:
        instances = instances[:limit]
    summaries: dict[str, dict[str, Any]] = {}
    servers: list[dict[str, Any]] = []
    for instance in instances:
        flavor = instance.flavor or {}
        hours = hours_for(instance, start, stop)
        info: dict[str, Any] = {
            "hours": hours,
            "flavor": flavor.get("name", ""),
            "instance_id": instance.uuid,
            "name": instance.display_name,
            "tenant_id": instance.project_id,
            "memory_mb": instance.memory_mb,
            "local_gb": instance.root_gb + instance.ephemeral_gb,
            "vcpus": instance.vcpus,
            "started_at": _naive(instance.launched_at),
            "ended_at": _naive(instance.terminated_at),
            "state": "terminated" if instance.terminated_at else instance.vm_state,
        }
        started = instance.launched_at or now
        ended = instance.terminated_at or now
        info["uptime"] = int((ended - started).total_seconds())
        summary = summaries.get(instance.project_id)
        if summary is None:
            summary = {
                "tenant_id": instance.project_id,
                "total_local_gb_usage": 0.0,
                "total_vcpus_usage": 0.0,
                "total_memory_mb_usage": 0.0,
                "total_hours": 0.0,
                "start": _naive(start),
                "stop": _naive(stop),
            }
            if detailed:
                summary["server_usages"] = []
            summaries[instance.project_id] = summary
        summary["total_local_gb_usage"] += info["local_gb"] * hours
        summary["total_vcpus_usage"] += info["vcpus"] * hours
        summary["total_memory_mb_usage"] += info["memory_mb"] * hours
        summary["total_hours"] += hours
        if detailed:
            summary["server_usages"].append(info)
        servers.append(info)
    return list(summaries.values()), servers
