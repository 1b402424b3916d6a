"""Shared service plumbing: Neutron's errors, standard attributes, tags, quotas, retries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, NotFound
from kumo.network.db.models import (
    FloatingIP,
    Network,
    Port,
    Quota,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    SubnetPool,
    Tag,
)

T = TypeVar("T")

#: Neutron's default quotas (``[quotas]`` in neutron.conf); -1 is unlimited.
DEFAULT_QUOTAS: dict[str, int] = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "subnetpool": -1,
    "rbac_policy": 10,
}

#: The model counted for each quota resource.
QUOTA_MODELS: dict[str, Any] = {
    "network": Network,
    "subnet": Subnet,
    "port": Port,
    "router": Router,
    "floatingip": FloatingIP,
    "security_group": SecurityGroup,
    "security_group_rule": SecurityGroupRule,
    "subnetpool": SubnetPool,
}


def new_id() -> str:
    """A new resource id."""
    return str(uuid.uuid4())


def iso(when: dt.datetime) -> str:
    """Neutron's timestamp format (``2016-03-08T20:19:41Z``)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def not_found(code: str, message: str) -> NotFound:
    """A 404 with Neutron's exception name as ``type``."""
    return NotFound(message, code=code)


def conflict(code: str, message: str) -> Conflict:
    """A 409 with Neutron's exception name as ``type``."""
    return Conflict(message, code=code)


def bad(code: str, message: str) -> BadRequest:
    """A 400 with Neutron's exception name as ``type``."""
    return BadRequest(message, code=code)


def invalid_input(message: str) -> BadRequest:
    """Neutron's ``InvalidInput``."""
    return BadRequest(f"Invalid input for operation: {message}.", code="InvalidInput")


def network_not_found(net_id: str) -> NotFound:
    """``NetworkNotFound``."""
    return not_found("NetworkNotFound", f"Network {net_id} could not be found.")


def subnet_not_found(subnet_id: str) -> NotFound:
    """``SubnetNotFound``."""
    return not_found("SubnetNotFound", f"Subnet {subnet_id} could not be found.")


def port_not_found(port_id: str) -> NotFound:
    """``PortNotFound``."""
    return not_found("PortNotFound", f"Port {port_id} could not be found.")


def router_not_found(router_id: str) -> NotFound:
    """``RouterNotFound``."""
    return not_found("RouterNotFound", f"Router {router_id} could not be found")


def standard(row: Any, resource_type: str, tags: Iterable[str]) -> dict[str, Any]:
    """Neutron's standard attributes and project ids of a row."""
    return {
        "description": row.description,
        "revision_number": row.revision_number,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "tags": sorted(tags),
        "project_id": row.project_id,
        "tenant_id": row.project_id,
    }


def touch(row: Any) -> None:
    """Bump the revision and update time of a changed row."""
    row.revision_number = (row.revision_number or 0) + 1
    row.updated_at = utcnow()


def tags_of(session: Session, resource_type: str, ids: Iterable[str]) -> dict[str, list[str]]:
    """The tags of each resource id (one query)."""
    id_list = list(ids)
    out: dict[str, list[str]] = {i: [] for i in id_list}
    if not id_list:
        return out
    rows = session.execute(
        select(Tag.resource_id, Tag.tag).where(
            Tag.resource_type == resource_type, Tag.resource_id.in_(id_list)
        )
    )
    for rid, tag in rows:
        out.setdefault(rid, []).append(tag)
    return out


def set_tags(session: Session, resource_type: str, resource_id: str, tags: Iterable[str]) -> None:
    """Replace a resource's tags."""
    session.execute(
        delete(Tag).where(Tag.resource_type == resource_type, Tag.resource_id == resource_id)
    )
    for tag in sorted(set(tags)):
        session.add(Tag(resource_type=resource_type, resource_id=resource_id, tag=tag))


def drop_tags(session: Session, resource_type: str, resource_id: str) -> None:
    """Forget a deleted resource's tags."""
    session.execute(
        delete(Tag).where(Tag.resource_type == resource_type, Tag.resource_id == resource_id)
    )


def quota_limits(session: Session, project_id: str) -> dict[str, int]:
    """The project's limit for every resource (defaults where none is set)."""
    limits = dict(DEFAULT_QUOTAS)
    for resource, limit in session.execute(
        select(Quota.resource, Quota.hard_limit).where(Quota.project_id == project_id)
    ):
        limits[resource] = limit
    return limits


def usage(session: Session, project_id: str, resource: str) -> int:
    """How many of ``resource`` the project has."""
    model = QUOTA_MODELS.get(resource)
    if model is None:
        return 0
    count = session.scalar(
        select(func.count()).select_from(model).where(model.project_id == project_id)
    )
    return int(count or 0)


def check_quota(session: Session, project_id: str, resource: str, adding: int = 1) -> None:
    """409 ``OverQuota`` when adding ``adding`` of ``resource`` would pass the limit."""
    if not project_id:
        return
    limit = quota_limits(session, project_id).get(resource, -1)
    if limit < 0:
        return
    if usage(session, project_id, resource) + adding > limit:
        raise conflict("OverQuota", f"Quota exceeded for resources: ['{resource}'].")


def retrying(db: Database, work: Callable[[Session], T], attempts: int = 4) -> T:
    """Run ``work`` in a write transaction, again if a unique constraint raced.

    Concurrent creators (e.g. two ports picking the same free address on
    PostgreSQL) lose with an IntegrityError; the retry sees the winner's row and
    picks another, or reports the conflict in Neutron's terms.
    """
    for attempt in range(attempts):
        try:
            with db.writer() as session:
                return work(session)
        except IntegrityError as exc:
            if attempt == attempts - 1:
                raise conflict(
                    "Conflict", "A concurrent request changed the same resource; retry."
                ) from exc
    raise AssertionError("unreachable")
