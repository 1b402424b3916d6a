"""Per-project quotas: limits, defaults, usage details."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from kumo.common.db import Database
from kumo.network.db.models import Quota
from kumo.network.service import core

#: The resources a quota may be set for, in the order Neutron shows them.
QUOTA_RESOURCES = (
    "network",
    "subnet",
    "subnetpool",
    "port",
    "router",
    "floatingip",
    "security_group",
    "security_group_rule",
)


def limits(db: Database, project_id: str) -> dict[str, int]:
    """The project's effective limits."""
    with db.reader() as session:
        all_limits = core.quota_limits(session, project_id)
    return {r: all_limits[r] for r in QUOTA_RESOURCES}


def defaults() -> dict[str, int]:
    """Every resource's default limit."""
    return {r: core.DEFAULT_QUOTAS[r] for r in QUOTA_RESOURCES}


def details(db: Database, project_id: str) -> dict[str, dict[str, int]]:
    """Limit, usage and reservations per resource."""
    with db.reader() as session:
        all_limits = core.quota_limits(session, project_id)
        return {
            r: {"limit": all_limits[r], "used": core.usage(session, project_id, r), "reserved": 0}
            for r in QUOTA_RESOURCES
        }


def projects_with_quotas(db: Database) -> list[dict[str, Any]]:
    """Each project that has a non-default limit, with its limits."""
    with db.reader() as session:
        projects = sorted(set(session.scalars(select(Quota.project_id))))
    out = []
    for project in projects:
        item: dict[str, Any] = dict(limits(db, project))
        item["project_id"] = project
        item["tenant_id"] = project
        out.append(item)
    return out


def update(db: Database, project_id: str, values: dict[str, int]) -> dict[str, int]:
    """Set some limits of a project."""
    with db.writer() as session:
        for resource, limit in values.items():
            row = session.get(Quota, (project_id, resource))
            if row is None:
                session.add(Quota(project_id=project_id, resource=resource, hard_limit=limit))
            else:
                row.hard_limit = limit
    return limits(db, project_id)


def reset(db: Database, project_id: str) -> bool:
    """Back to the defaults; False when the project had no limits of its own."""
    with db.writer() as session:
        result = session.execute(delete(Quota).where(Quota.project_id == project_id))
        return bool(getattr(result, "rowcount", 0))
