"""Listing role assignments (GET /v3/role_assignments), direct or effective.

Direct mode lists the grants as stored. Effective mode lists what actually
reaches users, as Keystone computes it: group grants become one assignment per
member, inherited grants land on every project below their target, implied
roles are added, and domain-specific roles (which only imply others) are
dropped. Each expanded assignment remembers where it came from, so the API
can link back to the grant, the membership and the prior role.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from kumo.common.errors import NotFound
from kumo.identity.db.models import (
    NULL_DOMAIN_ID,
    Assignment,
    Group,
    ImpliedRole,
    Membership,
    Project,
    Role,
    User,
)
from kumo.identity.service.core import Identity
from kumo.identity.service.roles import (
    GROUP_DOMAIN,
    GROUP_PROJECT,
    GROUP_SYSTEM,
    SYSTEM_TARGET,
    USER_DOMAIN,
    USER_PROJECT,
    USER_SYSTEM,
    ancestors_of,
    group_ids_of,
    subtree_ids,
)

PROJECT_TYPES = (USER_PROJECT, GROUP_PROJECT)
DOMAIN_TYPES = (USER_DOMAIN, GROUP_DOMAIN)
SYSTEM_TYPES = (USER_SYSTEM, GROUP_SYSTEM)
USER_TYPES = (USER_PROJECT, USER_DOMAIN, USER_SYSTEM)


@dataclass(frozen=True)
class AssignmentQuery:
    """The filters of GET /v3/role_assignments."""

    role_id: str | None = None
    user_id: str | None = None
    group_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    #: True: only inherited grants; False: only non-inherited; None: both.
    inherited: bool | None = None
    effective: bool = False
    include_subtree: bool = False


@dataclass(frozen=True)
class RoleAssignment:
    """One assignment, direct or expanded, with the grant it came from."""

    role_id: str
    user_id: str | None = None
    group_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    inherited: bool = False
    #: Set on effective assignments: the group membership that carried it,
    via_group_id: str | None = None
    #: the domain or project whose inherited grant it came down from,
    via_domain_id: str | None = None
    via_project_id: str | None = None
    #: and the prior role that implies it.
    via_role_id: str | None = None


@dataclass
class Names:
    """Names of everything the listed assignments mention (include_names)."""

    users: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    groups: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    projects: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    roles: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)


def _from_row(row: Assignment) -> RoleAssignment:
    user = row.type in USER_TYPES
    return RoleAssignment(
        row.role_id,
        user_id=row.actor_id if user else None,
        group_id=None if user else row.actor_id,
        project_id=row.target_id if row.type in PROJECT_TYPES else None,
        domain_id=row.target_id if row.type in DOMAIN_TYPES else None,
        system=row.type in SYSTEM_TYPES,
        inherited=row.inherited,
    )


def _rows(
    s: Session,
    *,
    types: Iterable[str],
    role_id: str | None = None,
    actors: list[str] | None = None,
    targets: list[str] | None = None,
    inherited: bool | None = None,
) -> list[RoleAssignment]:
    conditions: list[ColumnElement[bool]] = [Assignment.type.in_(list(types))]
    if role_id:
        conditions.append(Assignment.role_id == role_id)
    if actors is not None:
        conditions.append(Assignment.actor_id.in_(actors))
    if targets is not None:
        conditions.append(Assignment.target_id.in_(targets))
    if inherited is not None:
        conditions.append(Assignment.inherited.is_(inherited))
    query = (
        select(Assignment)
        .where(*conditions)
        .order_by(Assignment.type, Assignment.actor_id, Assignment.target_id, Assignment.role_id)
    )
    return [_from_row(r) for r in s.scalars(query)]


def _types(user: bool, group: bool, project: bool, domain: bool) -> list[str]:
    """Assignment types for actor kinds and target kinds (all kinds when none is named)."""
    kinds = [k for k, on in (("User", user), ("Group", group)) if on] or ["User", "Group"]
    where = [k for k, on in (("Project", project), ("Domain", domain)) if on]
    return [a + t for a in kinds for t in (where or ["Project", "Domain"])]


def _project_ids(s: Session, q: AssignmentQuery) -> list[str] | None:
    if not q.project_id:
        return None
    if q.include_subtree:
        return [q.project_id, *sorted(subtree_ids(s, [q.project_id]))]
    return [q.project_id]


def _direct(s: Session, q: AssignmentQuery) -> list[RoleAssignment]:
    actor = q.user_id or q.group_id
    found: list[RoleAssignment] = []
    if not q.system:
        targets = _project_ids(s, q) or ([q.domain_id] if q.domain_id else None)
        found += _rows(
            s,
            types=_types(bool(q.user_id), bool(q.group_id), bool(q.project_id), bool(q.domain_id)),
            role_id=q.role_id,
            actors=[actor] if actor else None,
            targets=targets,
            inherited=q.inherited,
        )
    # System grants are never inherited; they show unless another scope is asked for.
    if (q.system or not (q.project_id or q.domain_id)) and q.inherited is not True:
        types = [USER_SYSTEM] if q.user_id else [GROUP_SYSTEM] if q.group_id else SYSTEM_TYPES
        found += _rows(
            s,
            types=types,
            role_id=q.role_id,
            actors=[actor] if actor else None,
            targets=[SYSTEM_TARGET],
        )
    return found


def _for_actor(
    s: Session,
    q: AssignmentQuery,
    inherited: bool | None,
    *,
    user_id: str | None,
    group_ids: list[str] | None,
) -> list[RoleAssignment]:
    """Grants that can reach the query's targets, before expansion (Keystone's shape)."""
    actors = group_ids if group_ids is not None else ([user_id] if user_id else None)
    user, group = user_id is not None and group_ids is None, group_ids is not None
    project_ids = _project_ids(s, q)
    found: list[RoleAssignment] = []
    if inherited is not True:
        targets = project_ids or ([q.domain_id] if q.domain_id else None)
        found += _rows(
            s,
            types=_types(user, group, bool(q.project_id), bool(q.domain_id)),
            actors=actors,
            targets=targets,
            inherited=False,
        )
    if inherited is not False:
        if q.project_id and project_ids:
            project = s.get(Project, q.project_id)
            # Inherited grants reach a project from its domain or from its parents
            # (and, with a subtree, from the subtree's own projects).
            sources = [
                p
                for p in ancestors_of(s, q.project_id)
                if project is None or p != project.domain_id
            ]
            if q.include_subtree:
                sources += project_ids
            if project is not None:
                found += _rows(
                    s,
                    types=_types(user, group, False, True),
                    actors=actors,
                    targets=[project.domain_id],
                    inherited=True,
                )
            if sources:
                found += _rows(
                    s,
                    types=_types(user, group, True, False),
                    actors=actors,
                    targets=sources,
                    inherited=True,
                )
        else:
            found += _rows(
                s, types=_types(user, group, False, False), actors=actors, inherited=True
            )
    return found


def _members(s: Session, group_id: str) -> list[str]:
    return list(
        s.scalars(
            select(Membership.user_id)
            .where(Membership.group_id == group_id)
            .order_by(Membership.user_id)
        )
    )


def _expand(
    s: Session, ref: RoleAssignment, q: AssignmentQuery, expand_groups: bool
) -> list[RoleAssignment]:
    """Groups into their members, inherited grants onto the projects below them."""
    if ref.group_id and expand_groups:
        users = [q.user_id] if q.user_id else _members(s, ref.group_id)
        as_users = [
            dataclasses.replace(ref, user_id=u, group_id=None, via_group_id=ref.group_id)
            for u in users
        ]
    else:
        as_users = [ref]
    if not ref.inherited:
        return as_users
    source = ref.project_id or ref.domain_id or ""
    if q.project_id:
        projects = _project_ids(s, q) or []
        if q.include_subtree and ref.project_id in projects:
            # The grant sits inside the subtree: only the projects below it get it.
            projects = sorted(subtree_ids(s, [source]))
    else:
        projects = sorted(subtree_ids(s, [source]))
    via = {"via_project_id": ref.project_id} if ref.project_id else {"via_domain_id": ref.domain_id}
    return [
        dataclasses.replace(a, project_id=p, domain_id=None, inherited=False, **via)
        for a in as_users
        for p in projects
    ]


def _implied(s: Session, refs: list[RoleAssignment]) -> list[RoleAssignment]:
    """Add one assignment per role each assignment's role implies, transitively."""
    rules: dict[str, list[str]] = {}
    for prior, implied in s.execute(select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id)):
        rules.setdefault(prior, []).append(implied)
    result = list(refs)
    for ref in refs:
        seen = {ref.role_id}
        frontier = [ref]
        while frontier:
            current = frontier.pop()
            for implied in sorted(rules.get(current.role_id, [])):
                if implied in seen:
                    continue  # cycles and diamonds are expanded once
                seen.add(implied)
                extra = dataclasses.replace(current, role_id=implied, via_role_id=current.role_id)
                result.append(extra)
                frontier.append(extra)
    return result


def _effective(s: Session, q: AssignmentQuery) -> list[RoleAssignment]:
    if q.group_id or (q.domain_id and q.inherited):
        return []  # groups are expanded away, and domains inherit nothing
    inherited = False if q.domain_id else q.inherited
    refs = _for_actor(s, q, inherited, user_id=q.user_id, group_ids=None)
    if q.user_id:
        groups = group_ids_of(s, q.user_id)
        if groups:
            refs += _for_actor(s, q, inherited, user_id=None, group_ids=groups)
    expanded = [e for ref in refs for e in _expand(s, ref, q, expand_groups=True)]
    with_implied = _implied(s, expanded)
    global_roles = set(s.scalars(select(Role.id).where(Role.domain_id == NULL_DOMAIN_ID)))
    return [
        a
        for a in with_implied
        if a.role_id in global_roles and (q.role_id is None or a.role_id == q.role_id)
    ]


def _domain_of_projects(s: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(s.execute(select(Project.id, Project.domain_id).where(Project.id.in_(ids))).all())


def list_role_assignments(
    ident: Identity, q: AssignmentQuery, *, domain_scope: str | None = None
) -> list[RoleAssignment]:
    """Assignments matching ``q``; with ``domain_scope`` only those within that domain."""
    with ident.db.reader() as s:
        if q.project_id and q.include_subtree and s.get(Project, q.project_id) is None:
            raise NotFound(f"Could not find project: {q.project_id}.")
        found = _effective(s, q) if q.effective else _direct(s, q)
        if domain_scope is None:
            return found
        owners = _domain_of_projects(s, {a.project_id for a in found if a.project_id})
        return [
            a
            for a in found
            if a.domain_id == domain_scope
            or (a.project_id is not None and owners.get(a.project_id) == domain_scope)
        ]


def names_for(ident: Identity, found: list[RoleAssignment]) -> Names:
    """Names (and domains) of the users, groups, projects, domains and roles listed."""
    names = Names()
    with ident.db.reader() as s:
        domains = dict(
            s.execute(select(Project.id, Project.name).where(Project.is_domain.is_(True))).all()
        )
        names.domains = {d: domains.get(d, "") for d in {a.domain_id for a in found if a.domain_id}}
        user_ids = {a.user_id for a in found if a.user_id}
        for u in s.scalars(select(User).where(User.id.in_(user_ids))) if user_ids else []:
            names.users[u.id] = (u.name, u.domain_id, domains.get(u.domain_id, ""))
        group_ids = {a.group_id for a in found if a.group_id}
        for g in s.scalars(select(Group).where(Group.id.in_(group_ids))) if group_ids else []:
            names.groups[g.id] = (g.name, g.domain_id, domains.get(g.domain_id, ""))
        project_ids = {a.project_id for a in found if a.project_id}
        for p in (
            s.scalars(select(Project).where(Project.id.in_(project_ids))) if project_ids else []
        ):
            names.projects[p.id] = (p.name, p.domain_id, domains.get(p.domain_id, ""))
        role_ids = {a.role_id for a in found}
        for r in s.scalars(select(Role).where(Role.id.in_(role_ids))) if role_ids else []:
            own = None if r.domain_id == NULL_DOMAIN_ID else r.domain_id
            names.roles[r.id] = (r.name, own, domains.get(own, "") if own else None)
    return names


def domain_of_project(ident: Identity, project_id: str) -> str | None:
    """The domain of a project, or None when it does not exist (policy targets)."""
    with ident.db.reader() as s:
        project = s.get(Project, project_id)
        return project.domain_id if project and not project.is_domain else None
