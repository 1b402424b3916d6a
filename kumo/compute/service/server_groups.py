"""Server groups: policies, rules and membership."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kumo.common.db import utcnow
from kumo.common.errors import NotFound
from kumo.compute.db.server_groups import ServerGroup, ServerGroupMember
from kumo.compute.service import quotas
from kumo.compute.service.errors import QuotaExceeded

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


def not_found(group_id: str) -> NotFound:
    """Nova's InstanceGroupNotFound."""
    return NotFound(f"Instance group {group_id} could not be found.")


def get_group(s: Session, group_id: str) -> ServerGroup:
    """A server group by uuid (404 with Nova's message)."""
    group = s.get(ServerGroup, group_id)
    if group is None:
        raise not_found(group_id)
    return group


def create_group(
    s: Session,
    *,
    name: str,
    project_id: str,
    user_id: str,
    policy: str,
    rules: dict[str, Any] | None = None,
) -> ServerGroup:
    """Create a server group, within the ``server_groups`` quota (403 beyond it)."""
    quotas.check_deltas(
        s,
        project_id,
        user_id,
        {"server_groups": 1},
        message="Quota exceeded, too many server groups.",
    )
    group = ServerGroup(
        id=str(uuid.uuid4()),
        name=name,
        project_id=project_id,
        user_id=user_id,
        policy=policy,
        rules=rules or {},
        created_at=utcnow(),
    )
    s.add(group)
    s.flush()
    return group


def list_groups(s: Session, project_id: str | None) -> list[ServerGroup]:
    """Server groups of a project (every project's with ``None``), oldest first."""
    stmt = select(ServerGroup).order_by(ServerGroup.created_at, ServerGroup.id)
    if project_id is not None:
        stmt = stmt.where(ServerGroup.project_id == project_id)
    return list(s.scalars(stmt))


def delete_group(s: Session, group_id: str) -> None:
    """Delete a server group (its memberships go with it)."""
    group = get_group(s, group_id)
    s.execute(delete(ServerGroupMember).where(ServerGroupMember.group_id == group_id))
    s.delete(group)


def members(s: Session, group_id: str) -> list[str]:
    """Instance uuids in a group."""
    stmt = (
        select(ServerGroupMember.instance_uuid)
        .where(ServerGroupMember.group_id == group_id)
        .order_by(ServerGroupMember.instance_uuid)
    )
    return list(s.scalars(stmt))


def members_of_groups(s: Session, group_ids: list[str]) -> dict[str, list[str]]:
    """Instance uuids of many groups at once."""
    out: dict[str, list[str]] = {g: [] for g in group_ids}
    if group_ids:
        stmt = select(ServerGroupMember).where(ServerGroupMember.group_id.in_(group_ids))
        for row in s.scalars(stmt):
            out[row.group_id].append(row.instance_uuid)
    return out


def add_member(s: Session, group_id: str, instance_uuid: str) -> None:
    """Put an instance in a group, within ``server_group_members`` (403 beyond it)."""
    group = get_group(s, group_id)
    count = int(s.scalar(select(func.count()).where(ServerGroupMember.group_id == group_id)) or 0)
    limit = quotas.get_limits(s, group.project_id, group.user_id)["server_group_members"]
    if 0 <= limit < count + 1:
        raise QuotaExceeded("Quota exceeded, too many servers in group")
    if s.get(ServerGroupMember, (group_id, instance_uuid)) is None:
        s.add(ServerGroupMember(group_id=group_id, instance_uuid=instance_uuid))
        s.flush()


def remove_member(s: Session, instance_uuid: str) -> None:
    """Take an instance out of its group (when it is deleted)."""
    s.execute(delete(ServerGroupMember).where(ServerGroupMember.instance_uuid == instance_uuid))


def group_of(s: Session, instance_uuid: str) -> ServerGroup | None:
    """The group an instance belongs to, if any."""
    stmt = (
        select(ServerGroup)
        .join(ServerGroupMember, ServerGroupMember.group_id == ServerGroup.id)
        .where(ServerGroupMember.instance_uuid == instance_uuid)
    )
    return s.scalars(stmt).first()
