"""Quotas: limits (user → project → default class), usage counters and checks.

Usage is counted, never tracked (Nova's "counting quotas"): each resource has a
counter in :data:`USAGE_COUNTERS` returning what a project (or one user in it)
uses now. Helper S registers ``instances``, ``cores`` and ``ram``; this module
registers ``key_pairs``, ``server_groups`` and ``server_group_members``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kumo.common.errors import BadRequest
from kumo.common.microversion import Version
from kumo.compute.db.keypairs import KeyPair
from kumo.compute.db.quotas import Quota, QuotaClass
from kumo.compute.db.server_groups import ServerGroup
from kumo.compute.service.errors import QuotaExceeded

#: Nova's default limits (``[quota]`` options), in Nova's resource order.
DEFAULTS: dict[str, int] = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "floating_ips": 10,
    "fixed_ips": -1,
    "metadata_items": 128,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "key_pairs": 100,
    "security_groups": 10,
    "security_group_rules": 20,
    "server_groups": 10,
    "server_group_members": 10,
}
NETWORK_QUOTAS = ("floating_ips", "fixed_ips", "security_groups", "security_group_rules")
FILE_QUOTAS = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
#: Resources limited per user only (not summed over the project), as in Nova.
USER_ONLY = ("key_pairs",)
#: Resources counted per server group, not per project.
PER_GROUP = ("server_group_members",)
DEFAULT_CLASS = "default"
MAX_LIMIT = 2**31 - 1

Counter = Callable[[Session, str, str | None], int]

#: resource name → count in use for (project_id, user_id or None for the project).
USAGE_COUNTERS: dict[str, Counter] = {}


def resources_at(version: Version) -> list[str]:
    """The quota resources ``os-quota-sets`` shows at ``version``."""
    names = list(DEFAULTS)
    if version >= Version(2, 36):
        names = [n for n in names if n not in NETWORK_QUOTAS]
    if version >= Version(2, 57):
        names = [n for n in names if n not in FILE_QUOTAS]
    return names


def class_resources_at(version: Version) -> list[str]:
    """The resources ``os-quota-class-sets`` shows at ``version`` (its own history)."""
    names = list(DEFAULTS)
    if version < Version(2, 50):
        return [n for n in names if n not in ("server_groups", "server_group_members")]
    names = [n for n in names if n not in NETWORK_QUOTAS]
    if version >= Version(2, 57):
        names = [n for n in names if n not in FILE_QUOTAS]
    return names


def class_limits(s: Session, class_name: str = DEFAULT_CLASS) -> dict[str, int]:
    """A quota class's limits (Nova's defaults where the class sets none)."""
    limits = dict(DEFAULTS)
    rows = s.scalars(select(QuotaClass).where(QuotaClass.class_name == class_name))
    for row in rows:
        if row.resource in limits:
            limits[row.resource] = row.hard_limit
    return limits


def set_class_limits(s: Session, class_name: str, values: dict[str, int]) -> dict[str, int]:
    """Update a quota class's limits."""
    for resource, value in values.items():
        row = s.get(QuotaClass, (class_name, resource))
        if row is None:
            s.add(QuotaClass(class_name=class_name, resource=resource, hard_limit=value))
        else:
            row.hard_limit = value
    s.flush()
    return class_limits(s, class_name)


def _rows(s: Session, project_id: str, user_id: str) -> dict[str, int]:
    stmt = select(Quota).where(Quota.project_id == project_id, Quota.user_id == user_id)
    return {r.resource: r.hard_limit for r in s.scalars(stmt)}


def project_limits(s: Session, project_id: str) -> dict[str, int]:
    """A project's limits: its own where set, the default class elsewhere."""
    limits = class_limits(s)
    limits.update({k: v for k, v in _rows(s, project_id, "").items() if k in limits})
    return limits


def get_limits(s: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
    """Effective limits of a project, or of one user in it (user rows override)."""
    limits = project_limits(s, project_id)
    if user_id:
        limits.update({k: v for k, v in _rows(s, project_id, user_id).items() if k in limits})
    return limits


Limits = dict[str | None, dict[str, int]]


def scoped_limits(s: Session, project_id: str, user_id: str | None) -> Limits:
    """The project's limits (key None) and, with ``user_id``, the user's: two queries.

    What :func:`get_limits` gives for each scope, read once for a request that
    checks both (a server create checks metadata, instances, cores and RAM).
    """
    project = class_limits(s)
    own: dict[str, int] = {}
    users: dict[str, int] = {}
    wanted = [""] if not user_id else ["", user_id]
    rows = s.execute(
        select(Quota.user_id, Quota.resource, Quota.hard_limit).where(
            Quota.project_id == project_id, Quota.user_id.in_(wanted)
        )
    )
    for row_user, resource, hard_limit in rows:
        (own if row_user == "" else users)[resource] = hard_limit
    project.update({k: v for k, v in own.items() if k in project})
    out: Limits = {None: project}
    if user_id:
        out[user_id] = dict(project, **{k: v for k, v in users.items() if k in project})
    return out


def usage(s: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
    """What the project (or user) uses, for every resource with a counter."""
    used = {name: 0 for name in DEFAULTS}
    for name, counter in USAGE_COUNTERS.items():
        if name in used:
            used[name] = counter(s, project_id, user_id)
    return used


def parse_limit(resource: str, value: Any) -> int:
    """A quota value from a request: an integer (or integer string) from -1 up."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or value < -1 or value > MAX_LIMIT:
        raise BadRequest(
            f"Invalid input for field/attribute {resource}. Value: {value}. "
            f"{value!r} is not valid under any of the given schemas"
        )
    return value


def update_limits(
    s: Session,
    project_id: str,
    user_id: str | None,
    values: dict[str, int],
    *,
    force: bool = False,
) -> dict[str, int]:
    """Set limits of a project (or a user in it), checking them unless ``force``.

    Without ``force`` a limit may not drop below what is in use, and a user's
    limit may not exceed the project's (Nova's 400 messages).
    """
    if not force:
        used = usage(s, project_id, user_id)
        project = project_limits(s, project_id)
        for resource, limit in values.items():
            if limit == -1:
                continue
            minimum = used.get(resource, 0)
            if limit < minimum:
                raise BadRequest(
                    f"Quota limit {limit} for {resource} must be greater than or equal "
                    f"to already used and reserved {minimum}."
                )
            if user_id and project[resource] != -1 and limit > project[resource]:
                raise BadRequest(
                    f"Quota limit {limit} for {resource} must be less than or equal "
                    f"to {project[resource]}."
                )
    key = user_id or ""
    for resource, limit in values.items():
        row = s.scalar(
            select(Quota).where(
                Quota.project_id == project_id, Quota.user_id == key, Quota.resource == resource
            )
        )
        if row is None:
            s.add(Quota(project_id=project_id, user_id=key, resource=resource, hard_limit=limit))
        else:
            row.hard_limit = limit
    s.flush()
    return get_limits(s, project_id, user_id)


def delete_limits(s: Session, project_id: str, user_id: str | None = None) -> None:
    """Forget a project's (or a user's) own limits: the defaults apply again."""
    stmt = delete(Quota).where(Quota.project_id == project_id)
    if user_id:
        stmt = stmt.where(Quota.user_id == user_id)
    s.execute(stmt)


def check_deltas(
    s: Session,
    project_id: str,
    user_id: str | None,
    deltas: dict[str, int],
    *,
    message: str | None = None,
    limits_by_scope: Limits | None = None,
) -> None:
    """Raise :class:`QuotaExceeded` (403) when adding ``deltas`` would pass a limit.

    Checks the project limit against the project's usage and, with ``user_id``,
    the user's limit against the user's usage. The message is Nova's
    ("Quota exceeded for cores: Requested 2, but already used 19 of 20 cores")
    unless ``message`` is given. ``limits_by_scope`` (from :func:`scoped_limits`)
    saves reading the limits again.
    """
    scopes: list[str | None] = [None]
    if user_id:
        scopes.append(user_id)
    for scope in scopes:
        if limits_by_scope is not None and scope in limits_by_scope:
            limits = limits_by_scope[scope]
        else:
            limits = get_limits(s, project_id, scope)
        for resource, delta in deltas.items():
            if delta <= 0 or resource not in limits:
                continue
            if scope is None and resource in USER_ONLY:
                continue
            limit = limits[resource]
            if limit < 0:
                continue
            counter = USAGE_COUNTERS.get(resource)
            used = counter(s, project_id, scope) if counter else 0
            if used + delta > limit:
                raise QuotaExceeded(
                    message
                    or f"Quota exceeded for {resource}: Requested {delta}, but already used "
                    f"{used} of {limit} {resource}"
                )


def _count_key_pairs(s: Session, project_id: str, user_id: str | None) -> int:
    # Key pairs belong to users, not projects: only a user's count is meaningful.
    if not user_id:
        return 0
    return int(s.scalar(select(func.count()).where(KeyPair.user_id == user_id)) or 0)


def _count_server_groups(s: Session, project_id: str, user_id: str | None) -> int:
    stmt = select(func.count()).where(ServerGroup.project_id == project_id)
    if user_id:
        stmt = stmt.where(ServerGroup.user_id == user_id)
    return int(s.scalar(stmt) or 0)


def _count_nothing(s: Session, project_id: str, user_id: str | None) -> int:
    # server_group_members is checked per group (server_groups.add_member).
    return 0


USAGE_COUNTERS["key_pairs"] = _count_key_pairs
USAGE_COUNTERS["server_groups"] = _count_server_groups
USAGE_COUNTERS["server_group_members"] = _count_nothing
