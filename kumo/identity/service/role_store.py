"""Roles and implied-role rules: create, read, update, delete.

Effective roles (what a token carries) are computed in
:mod:`kumo.identity.service.roles`; this module only keeps the definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from kumo.common.errors import Conflict, Forbidden, NotFound, ValidationError
from kumo.identity.db.models import (
    NULL_DOMAIN_ID,
    ApplicationCredential,
    Assignment,
    ImpliedRole,
    Membership,
    Project,
    Role,
)
from kumo.identity.service import revocation
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters
from kumo.identity.service.roles import GROUP_DOMAIN, GROUP_PROJECT, GROUP_SYSTEM, USER_PROJECT

#: Keystone's [assignment] prohibited_implied_role default: nothing may imply admin.
PROHIBITED_IMPLIED_ROLES = ("admin",)
ROLE_OPTIONS = {"immutable"}
ROLE_FIELDS = {"id", "name", "domain_id", "description", "options", "links"}
#: Keystone's message when an immutable role would be changed or deleted.
_IMMUTABLE = (
    "Unable to {action} immutable role resource: `{role_id}. "
    'Set resource option "immutable" to false first.'
)
_GROUP_TYPES = (GROUP_PROJECT, GROUP_DOMAIN, GROUP_SYSTEM)


@dataclass
class Inference:
    """A prior role and the roles it directly implies."""

    prior: Role
    implies: list[Role]


def domain_of(role: Role) -> str | None:
    """The role's domain id as the API shows it (None for a global role)."""
    return None if role.domain_id == NULL_DOMAIN_ID else role.domain_id


def is_immutable(role: Role) -> bool:
    """True when the role's ``immutable`` resource option is set."""
    return bool((role.options or {}).get("immutable"))


def get_role_row(s: Session, role_id: str) -> Role:
    """A role by id; 404 when missing."""
    role = s.get(Role, role_id)
    if role is None:
        raise NotFound(f"Could not find role: {role_id}.")
    return role


def _name_taken(s: Session, domain_id: str, name: str, exclude: str | None = None) -> bool:
    query = select(Role.id).where(Role.domain_id == domain_id, Role.name == name)
    if exclude:
        query = query.where(Role.id != exclude)
    return s.execute(query).first() is not None


def _duplicate(name: str) -> Conflict:
    return Conflict(
        f"Conflict occurred attempting to store role - Duplicate entry found with name {name}."
    )


def _merge_options(current: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - ROLE_OPTIONS
    if unknown:
        raise ValidationError(f"Invalid role option(s): {', '.join(sorted(unknown))}.")
    merged = dict(current)
    for key, value in changes.items():
        # A null option is reset, as in Keystone's resource options.
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def create_role(
    ident: Identity,
    *,
    name: str,
    domain_id: str | None = None,
    description: str | None = None,
    options: Mapping[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Role:
    """Create a global role, or with ``domain_id`` a domain-specific one."""
    owner = domain_id or NULL_DOMAIN_ID
    with ident.db.writer() as s:
        if domain_id:
            domain = s.get(Project, domain_id)
            if domain is None or not domain.is_domain:
                raise ValidationError(f"Could not find domain: {domain_id}.")
        if _name_taken(s, owner, name):
            raise _duplicate(name)
        role = Role(
            id=new_id(),
            name=name,
            domain_id=owner,
            description=description,
            options=_merge_options({}, options or {}),
            extra={k: v for k, v in (extra or {}).items() if k not in ROLE_FIELDS},
        )
        s.add(role)
        s.flush()
        return role


def show_role(ident: Identity, role_id: str) -> Role:
    """One role."""
    with ident.db.reader() as s:
        return get_role_row(s, role_id)


def list_roles(ident: Identity, params: Mapping[str, str]) -> list[Role]:
    """Roles matching the filters; without ``domain_id`` only global roles, as Keystone."""
    with ident.db.reader() as s:
        query = select(Role)
        if not any(k.partition("__")[0] == "domain_id" for k in params):
            query = query.where(Role.domain_id == NULL_DOMAIN_ID)
        query = apply_filters(query, params, {"name": Role.name, "domain_id": Role.domain_id})
        return list(s.scalars(query.order_by(Role.name, Role.id)))


def _check_immutable_update(role: Role, changes: Mapping[str, Any]) -> None:
    # Keystone lets an immutable role change in exactly one way: being made mutable.
    if not is_immutable(role):
        return
    options = changes.get("options") or {}
    if (
        set(changes) != {"options"}
        or "immutable" not in options
        or options["immutable"] not in (False, None)
    ):
        raise Forbidden(_IMMUTABLE.format(action="update", role_id=role.id))


def update_role(ident: Identity, role_id: str, changes: dict[str, Any]) -> Role:
    """Apply a PATCH to a role."""
    if not changes:
        raise ValidationError("A role update needs at least one attribute.")
    changes = dict(changes)
    if "id" in changes:
        if changes["id"] != role_id:
            raise ValidationError("Cannot change the ID of a role.")
        del changes["id"]
    changes.pop("links", None)
    with ident.db.writer() as s:
        role = get_role_row(s, role_id)
        _check_immutable_update(role, changes)
        if "domain_id" in changes and changes["domain_id"] != domain_of(role):
            raise ValidationError("Update of `domain_id` is not allowed.")
        if "name" in changes:
            name = changes["name"]
            if name is None:
                raise ValidationError("A role's name cannot be null.")
            if name != role.name and _name_taken(s, role.domain_id, name, exclude=role.id):
                raise _duplicate(name)
            role.name = name
        if "description" in changes:
            role.description = changes["description"]
        if "options" in changes:
            role.options = _merge_options(role.options or {}, changes["options"] or {})
        extra = {k: v for k, v in changes.items() if k not in ROLE_FIELDS}
        if extra:
            role.extra = {**(role.extra or {}), **extra}
        s.flush()
        return role


def _holders(s: Session, role_id: str) -> set[str]:
    """Users holding ``role_id`` directly or through a group."""
    users: set[str] = set()
    groups: set[str] = set()
    for kind, actor in s.execute(
        select(Assignment.type, Assignment.actor_id).where(Assignment.role_id == role_id)
    ):
        (groups if kind in _GROUP_TYPES else users).add(actor)
    if groups:
        users |= set(s.scalars(select(Membership.user_id).where(Membership.group_id.in_(groups))))
    return users


def delete_role(ident: Identity, role_id: str) -> None:
    """Delete a role with its assignments and rules; its holders' tokens are revoked."""
    with ident.db.writer() as s:
        role = get_role_row(s, role_id)
        if is_immutable(role):
            raise Forbidden(_IMMUTABLE.format(action="delete", role_id=role.id))
        now = ident.clock()
        for user_id in sorted(_holders(s, role_id)):
            revocation.revoke(s, now, user_id=user_id)
        # As Keystone: a user's application credentials on a project where the
        # role was granted may carry it, so they go too.
        for user_id, project_id in s.execute(
            select(Assignment.actor_id, Assignment.target_id).where(
                Assignment.role_id == role_id, Assignment.type == USER_PROJECT
            )
        ).all():
            s.execute(
                delete(ApplicationCredential).where(
                    ApplicationCredential.user_id == user_id,
                    ApplicationCredential.project_id == project_id,
                )
            )
        s.execute(delete(Assignment).where(Assignment.role_id == role_id))
        s.execute(
            delete(ImpliedRole).where(
                or_(ImpliedRole.prior_role_id == role_id, ImpliedRole.implied_role_id == role_id)
            )
        )
        s.delete(role)


# -- implied roles -------------------------------------------------------------


def _rule(s: Session, prior_id: str, implied_id: str) -> ImpliedRole:
    rule = s.get(ImpliedRole, (prior_id, implied_id))
    if rule is None:
        raise NotFound(f"{prior_id} does not imply {implied_id}.")
    return rule


def create_implied_role(ident: Identity, prior_id: str, implied_id: str) -> tuple[Role, Role]:
    """Make ``prior_id`` imply ``implied_id``; returns both roles.

    As in Keystone, cycles are allowed (expansion stops at roles already seen),
    but nothing may imply a prohibited role (admin) and a global role may not
    imply a domain-specific one.
    """
    with ident.db.writer() as s:
        prior = get_role_row(s, prior_id)
        implied = get_role_row(s, implied_id)
        if implied.name in PROHIBITED_IMPLIED_ROLES:
            raise Forbidden(f"{implied_id} cannot be an implied roles.")
        if prior.domain_id == NULL_DOMAIN_ID and implied.domain_id != NULL_DOMAIN_ID:
            raise Forbidden(f"Global role cannot imply a domain-specific role: {implied_id}.")
        if s.get(ImpliedRole, (prior_id, implied_id)) is not None:
            raise Conflict(
                "Conflict occurred attempting to store implied_role - Duplicate entry: "
                f"{prior_id} already implies {implied_id}."
            )
        s.add(ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
        return prior, implied


def get_implied_role(ident: Identity, prior_id: str, implied_id: str) -> tuple[Role, Role]:
    """Both roles of an existing rule; 404 when a role or the rule is missing."""
    with ident.db.reader() as s:
        prior = get_role_row(s, prior_id)
        implied = get_role_row(s, implied_id)
        _rule(s, prior_id, implied_id)
        return prior, implied


def delete_implied_role(ident: Identity, prior_id: str, implied_id: str) -> None:
    """Remove a rule; 404 when a role or the rule is missing."""
    with ident.db.writer() as s:
        get_role_row(s, prior_id)
        get_role_row(s, implied_id)
        s.delete(_rule(s, prior_id, implied_id))


def list_implied_roles(ident: Identity, prior_id: str) -> Inference:
    """The roles ``prior_id`` implies directly (not transitively)."""
    with ident.db.reader() as s:
        prior = get_role_row(s, prior_id)
        implied = s.scalars(
            select(Role)
            .join(ImpliedRole, ImpliedRole.implied_role_id == Role.id)
            .where(ImpliedRole.prior_role_id == prior_id)
            .order_by(Role.name, Role.id)
        )
        return Inference(prior, list(implied))


def list_inferences(ident: Identity) -> list[Inference]:
    """Every rule, grouped by prior role."""
    with ident.db.reader() as s:
        rules = list(s.execute(select(ImpliedRole.prior_role_id, ImpliedRole.implied_role_id)))
        ids = {r for rule in rules for r in rule}
        roles = {r.id: r for r in s.scalars(select(Role).where(Role.id.in_(ids)))} if ids else {}
    grouped: dict[str, list[Role]] = {}
    for prior_id, implied_id in rules:
        grouped.setdefault(prior_id, []).append(roles[implied_id])
    return [
        Inference(roles[prior_id], sorted(implied, key=lambda r: (r.name, r.id)))
        for prior_id, implied in sorted(grouped.items(), key=lambda kv: roles[kv[0]].name)
    ]
