"""Effective roles: direct, through groups, inherited down the tree, and implied."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from kumo.identity.db.models import (
    NULL_DOMAIN_ID,
    Assignment,
    ImpliedRole,
    Membership,
    Project,
    Role,
)

USER_PROJECT, GROUP_PROJECT = "UserProject", "GroupProject"
USER_DOMAIN, GROUP_DOMAIN = "UserDomain", "GroupDomain"
USER_SYSTEM, GROUP_SYSTEM = "UserSystem", "GroupSystem"
SYSTEM_TARGET = "system"


def group_ids_of(s: Session, user_id: str) -> list[str]:
    """Ids of the groups ``user_id`` belongs to."""
    return list(s.scalars(select(Membership.group_id).where(Membership.user_id == user_id)))


def ancestors_of(s: Session, project_id: str) -> list[str]:
    """Parent chain of a project, nearest first, ending with its domain."""
    chain: list[str] = []
    current = s.get(Project, project_id)
    seen = {project_id}
    while current is not None and current.parent_id and current.parent_id not in seen:
        chain.append(current.parent_id)
        seen.add(current.parent_id)
        current = s.get(Project, current.parent_id)
    return chain


def implied_closure(s: Session, role_ids: Iterable[str]) -> set[str]:
    """``role_ids`` plus every role they imply, transitively."""
    result = set(role_ids)
    frontier = set(result)
    while frontier:
        implied = set(
            s.scalars(
                select(ImpliedRole.implied_role_id).where(ImpliedRole.prior_role_id.in_(frontier))
            )
        )
        frontier = implied - result
        result |= implied
    return result


def _actor_clause(
    user_id: str, group_ids: list[str], user_type: str, group_type: str
) -> ColumnElement[bool]:
    clause = (Assignment.type == user_type) & (Assignment.actor_id == user_id)
    if group_ids:
        clause = clause | ((Assignment.type == group_type) & Assignment.actor_id.in_(group_ids))
    return clause


def direct_project_role_ids(s: Session, user_id: str, project_id: str) -> set[str]:
    """Roles on a project from assignments, before implication."""
    groups = group_ids_of(s, user_id)
    ancestors = ancestors_of(s, project_id)
    on_project = _actor_clause(user_id, groups, USER_PROJECT, GROUP_PROJECT)
    conditions = [(Assignment.target_id == project_id) & on_project]
    if ancestors:
        # Inherited grants flow down from parent projects and from the domain.
        inherited = Assignment.inherited.is_(True) & Assignment.target_id.in_(ancestors)
        either = on_project | _actor_clause(user_id, groups, USER_DOMAIN, GROUP_DOMAIN)
        conditions.append(inherited & either)
    rows = s.scalars(
        select(Assignment.role_id)
        .where(or_(*conditions))
        .where(~((Assignment.target_id == project_id) & Assignment.inherited.is_(True)))
    )
    return set(rows)


def direct_domain_role_ids(s: Session, user_id: str, domain_id: str) -> set[str]:
    """Roles on a domain itself (inherited-only grants do not count)."""
    groups = group_ids_of(s, user_id)
    clause = _actor_clause(user_id, groups, USER_DOMAIN, GROUP_DOMAIN)
    rows = s.scalars(
        select(Assignment.role_id)
        .where(clause)
        .where(Assignment.target_id == domain_id, Assignment.inherited.is_(False))
    )
    return set(rows)


def direct_system_role_ids(s: Session, user_id: str) -> set[str]:
    """Roles on the system."""
    groups = group_ids_of(s, user_id)
    clause = _actor_clause(user_id, groups, USER_SYSTEM, GROUP_SYSTEM)
    rows = s.scalars(
        select(Assignment.role_id).where(clause).where(Assignment.target_id == SYSTEM_TARGET)
    )
    return set(rows)


def roles_by_ids(s: Session, role_ids: Iterable[str]) -> list[Role]:
    """Role rows for ``role_ids``, sorted by name for stable output."""
    ids = list(role_ids)
    if not ids:
        return []
    return sorted(s.scalars(select(Role).where(Role.id.in_(ids))), key=lambda r: r.name)


def effective_roles(
    s: Session,
    user_id: str,
    *,
    project_id: str | None = None,
    domain_id: str | None = None,
    system: bool = False,
) -> list[Role]:
    """The roles ``user_id`` holds on one scope, with implied roles expanded.

    Domain-specific roles only carry the roles they imply, as in Keystone: they
    never appear in a token themselves.
    """
    if project_id:
        direct = direct_project_role_ids(s, user_id, project_id)
    elif domain_id:
        direct = direct_domain_role_ids(s, user_id, domain_id)
    elif system:
        direct = direct_system_role_ids(s, user_id)
    else:
        return []
    roles = roles_by_ids(s, implied_closure(s, direct))
    return [r for r in roles if r.domain_id == NULL_DOMAIN_ID]


def projects_with_roles(s: Session, user_id: str) -> set[str]:
    """Ids of every project where the user holds some role (for /v3/auth/projects)."""
    groups = group_ids_of(s, user_id)
    direct = set(
        s.scalars(
            select(Assignment.target_id)
            .where(_actor_clause(user_id, groups, USER_PROJECT, GROUP_PROJECT))
            .where(Assignment.inherited.is_(False))
        )
    )
    inherited_from = set(
        s.scalars(
            select(Assignment.target_id)
            .where(
                or_(
                    _actor_clause(user_id, groups, USER_PROJECT, GROUP_PROJECT),
                    _actor_clause(user_id, groups, USER_DOMAIN, GROUP_DOMAIN),
                )
            )
            .where(Assignment.inherited.is_(True))
        )
    )
    if inherited_from:
        direct |= subtree_ids(s, inherited_from)
    return direct


def subtree_ids(s: Session, roots: Iterable[str]) -> set[str]:
    """Every non-domain project below ``roots`` (not the roots themselves)."""
    found: set[str] = set()
    frontier = set(roots)
    while frontier:
        children = set(
            s.scalars(
                select(Project.id).where(
                    Project.parent_id.in_(frontier), Project.is_domain.is_(False)
                )
            )
        )
        frontier = children - found
        found |= children
    return found


def domains_with_roles(s: Session, user_id: str) -> set[str]:
    """Ids of every domain where the user holds a (non-inherited) role."""
    groups = group_ids_of(s, user_id)
    return set(
        s.scalars(
            select(Assignment.target_id)
            .where(_actor_clause(user_id, groups, USER_DOMAIN, GROUP_DOMAIN))
            .where(Assignment.inherited.is_(False))
        )
    )
