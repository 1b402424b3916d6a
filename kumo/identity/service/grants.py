"""Role grants: a role given to a user or group on a project, a domain or the system.

An inherited grant (OS-INHERIT) on a domain or project applies to every
project below it, not to the domain or project itself.

Removing a grant does not record a revocation event: as in Keystone, a token's
roles are computed when it is validated, so existing tokens lose the role at
once (and a token left with no role on its scope stops validating).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.errors import Forbidden, NotFound, ValidationError
from kumo.identity.db.models import NULL_DOMAIN_ID, Assignment, Group, Project, Role, User
from kumo.identity.service.core import Identity
from kumo.identity.service.role_store import get_role_row
from kumo.identity.service.roles import SYSTEM_TARGET, roles_by_ids

Actor = Literal["user", "group"]
TargetKind = Literal["project", "domain", "system"]


@dataclass(frozen=True)
class Grant:
    """Who (a user or group) holds roles where (a project, a domain or the system)."""

    actor: Actor
    actor_id: str
    target: TargetKind
    target_id: str = SYSTEM_TARGET
    inherited: bool = False

    @property
    def type(self) -> str:
        """The assignment row's type, e.g. ``UserProject``."""
        return self.actor.capitalize() + self.target.capitalize()


@dataclass(frozen=True)
class GrantParties:
    """The domains of a grant's parties, for policy targets (None when missing)."""

    actor_domain_id: str | None
    project_domain_id: str | None
    domain_id: str | None
    role_domain_id: str | None


def _actor_domain(s: Session, grant: Grant, *, required: bool) -> str | None:
    row: User | Group | None
    row = s.get(User, grant.actor_id) if grant.actor == "user" else s.get(Group, grant.actor_id)
    if row is None and required:
        raise NotFound(f"Could not find {grant.actor}: {grant.actor_id}.")
    return row.domain_id if row else None


def _target_row(s: Session, grant: Grant) -> Project | None:
    """The project or domain a grant is on (404 when missing); None for the system."""
    if grant.target == "system":
        return None
    row = s.get(Project, grant.target_id)
    if row is None or row.is_domain != (grant.target == "domain"):
        raise NotFound(f"Could not find {grant.target}: {grant.target_id}.")
    return row


def parties(
    ident: Identity, grant: Grant, role_id: str | None = None, *, actor_required: bool = True
) -> GrantParties:
    """Check the grant's role, actor and target exist (404) and say which domains they are in.

    Keystone looks these up before enforcing policy, so a missing one is a 404
    even for callers the policy would refuse.
    """
    with ident.db.reader() as s:
        role_domain = None
        if role_id is not None:
            role = get_role_row(s, role_id)
            role_domain = None if role.domain_id == NULL_DOMAIN_ID else role.domain_id
        actor_domain = _actor_domain(s, grant, required=actor_required)
        target = _target_row(s, grant)
        return GrantParties(
            actor_domain_id=actor_domain,
            project_domain_id=target.domain_id if target and not target.is_domain else None,
            domain_id=target.id if target and target.is_domain else None,
            role_domain_id=role_domain,
        )


def _row(s: Session, grant: Grant, role_id: str) -> Assignment | None:
    return s.get(
        Assignment, (grant.type, grant.actor_id, grant.target_id, role_id, grant.inherited)
    )


def _not_found(grant: Grant, role_id: str) -> NotFound:
    return NotFound(
        f"Could not find role assignment with role: {role_id}, user or group: "
        f"{grant.actor_id}, project, domain, or system: {grant.target_id}."
    )


def create_grant(ident: Identity, grant: Grant, role_id: str) -> None:
    """Grant a role (idempotent, as Keystone's PUT is).

    A domain-specific role may be granted only on projects of its own domain
    (403) and never on the system (400).
    """
    if grant.inherited and grant.target == "system":
        raise ValidationError("System grants cannot be inherited.")
    try:
        _store_grant(ident, grant, role_id)
    except IntegrityError:
        # A concurrent PUT stored the same grant first: that is the wanted outcome.
        check_grant(ident, grant, role_id)


def _store_grant(ident: Identity, grant: Grant, role_id: str) -> None:
    with ident.db.writer() as s:
        role = get_role_row(s, role_id)
        target = _target_row(s, grant)
        _actor_domain(s, grant, required=True)
        if role.domain_id != NULL_DOMAIN_ID:
            if grant.target == "system":
                raise ValidationError(
                    f"Role {role_id} is a domain-specific role. Unable to use a "
                    "domain-specific role in a system assignment."
                )
            if target is not None and not target.is_domain and target.domain_id != role.domain_id:
                raise Forbidden(
                    f"Project {target.id} must be in the same domain as the role "
                    f"{role_id} being assigned."
                )
        if _row(s, grant, role_id) is None:
            s.add(
                Assignment(
                    type=grant.type,
                    actor_id=grant.actor_id,
                    target_id=grant.target_id,
                    role_id=role_id,
                    inherited=grant.inherited,
                )
            )


def check_grant(ident: Identity, grant: Grant, role_id: str) -> None:
    """Raise NotFound unless the role is granted exactly so."""
    with ident.db.reader() as s:
        get_role_row(s, role_id)
        _target_row(s, grant)
        if _row(s, grant, role_id) is None:
            raise _not_found(grant, role_id)


def list_grants(ident: Identity, grant: Grant) -> list[Role]:
    """The roles granted directly to the actor on the target, by name."""
    with ident.db.reader() as s:
        _target_row(s, grant)
        role_ids = s.scalars(
            select(Assignment.role_id).where(
                Assignment.type == grant.type,
                Assignment.actor_id == grant.actor_id,
                Assignment.target_id == grant.target_id,
                Assignment.inherited.is_(grant.inherited),
            )
        )
        return roles_by_ids(s, role_ids)


def revoke_grant(ident: Identity, grant: Grant, role_id: str) -> None:
    """Remove a grant; 404 when there is no such grant.

    The actor need not exist any more, so grants left behind can be cleaned up.
    """
    with ident.db.writer() as s:
        get_role_row(s, role_id)
        _target_row(s, grant)
        row = _row(s, grant, role_id)
        if row is None:
            raise _not_found(grant, role_id)
        s.delete(row)
