"""Groups of users and their memberships.

Roles granted to a group reach its members, so taking a user out of a group
(or deleting a group that holds roles) revokes the members' tokens, as
Keystone does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.errors import Conflict, NotFound, ValidationError
from kumo.identity.db.models import Assignment, Group, Membership, Password, Project, User
from kumo.identity.service import revocation
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters
from kumo.identity.service.roles import GROUP_DOMAIN, GROUP_PROJECT, GROUP_SYSTEM
from kumo.identity.service.users import UserInfo, get_user_row

GROUP_FIELDS = {"id", "name", "domain_id", "description", "links"}
GROUP_TYPES = (GROUP_PROJECT, GROUP_DOMAIN, GROUP_SYSTEM)


def get_group_row(s: Session, group_id: str) -> Group:
    """A group by id; 404 when missing."""
    group = s.get(Group, group_id)
    if group is None:
        raise NotFound(f"Could not find group: {group_id}.")
    return group


def _duplicate(name: str, domain_id: str) -> Conflict:
    return Conflict(
        "Conflict occurred attempting to store group - Duplicate entry found with name "
        f"{name} at domain ID {domain_id}."
    )


def _name_taken(s: Session, domain_id: str, name: str) -> bool:
    query = select(Group.id).where(Group.domain_id == domain_id, Group.name == name)
    return s.execute(query).first() is not None


def create_group(
    ident: Identity,
    *,
    name: str,
    domain_id: str,
    description: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Group:
    """Create a group in a domain (404 when the domain does not exist)."""
    name = name.strip()
    try:
        with ident.db.writer() as s:
            domain = s.get(Project, domain_id)
            if domain is None or not domain.is_domain:
                raise NotFound(f"Could not find domain: {domain_id}.")
            if _name_taken(s, domain_id, name):
                raise _duplicate(name, domain_id)
            group = Group(
                id=new_id(),
                name=name,
                domain_id=domain_id,
                description=description if description is not None else "",
                extra=extra or {},
            )
            s.add(group)
            s.flush()
            return group
    except IntegrityError as exc:
        # Another request took the name between the check and the insert.
        raise _duplicate(name, domain_id) from exc


def show_group(ident: Identity, group_id: str) -> Group:
    """One group."""
    with ident.db.reader() as s:
        return get_group_row(s, group_id)


def domain_of_group(ident: Identity, group_id: str) -> str | None:
    """The domain of a group, or None when it does not exist (policy targets)."""
    with ident.db.reader() as s:
        group = s.get(Group, group_id)
        return group.domain_id if group else None


def domain_of_user(ident: Identity, user_id: str) -> str | None:
    """The domain of a user, or None when it does not exist (policy targets)."""
    with ident.db.reader() as s:
        user = s.get(User, user_id)
        return user.domain_id if user else None


def list_groups(ident: Identity, params: Mapping[str, str]) -> list[Group]:
    """Groups matching Keystone's list filters (name, domain_id)."""
    with ident.db.reader() as s:
        query = apply_filters(
            select(Group), params, {"name": Group.name, "domain_id": Group.domain_id}
        )
        return list(s.scalars(query.order_by(Group.name, Group.id)))


def update_group(ident: Identity, group_id: str, changes: dict[str, Any]) -> Group:
    """Apply a PATCH to a group; its id and domain cannot change."""
    with ident.db.writer() as s:
        group = get_group_row(s, group_id)
        if "id" in changes and changes["id"] != group.id:
            raise ValidationError("Cannot change the id of a group.")
        if "domain_id" in changes and changes["domain_id"] != group.domain_id:
            raise ValidationError("Cannot change the domain ID of a group.")
        if "name" in changes:
            name = str(changes["name"]).strip()
            if name != group.name:
                if _name_taken(s, group.domain_id, name):
                    raise _duplicate(name, group.domain_id)
                group.name = name
        if "description" in changes:
            group.description = changes["description"]
        extra = {k: v for k, v in changes.items() if k not in GROUP_FIELDS}
        if extra:
            group.extra = {**(group.extra or {}), **extra}
        s.flush()
        return group


def delete_group(ident: Identity, group_id: str) -> None:
    """Delete a group with its memberships and grants.

    When the group held roles, its members lose them: their tokens are revoked.
    """
    with ident.db.writer() as s:
        group = get_group_row(s, group_id)
        had_roles = (
            s.execute(
                select(Assignment.role_id)
                .where(Assignment.actor_id == group.id, Assignment.type.in_(GROUP_TYPES))
                .limit(1)
            ).first()
            is not None
        )
        members = list(s.scalars(select(Membership.user_id).where(Membership.group_id == group.id)))
        s.execute(
            delete(Assignment).where(
                Assignment.actor_id == group.id, Assignment.type.in_(GROUP_TYPES)
            )
        )
        s.execute(delete(Membership).where(Membership.group_id == group.id))
        if had_roles:
            now = ident.clock()
            for user_id in members:
                revocation.revoke(s, now, user_id=user_id)
        s.delete(group)


def _user_infos(s: Session, users: list[User]) -> list[UserInfo]:
    if not users:
        return []
    # The newest password row wins, as in users.list_users.
    expiries = dict(
        s.execute(
            select(Password.user_id, Password.expires_at)
            .where(Password.user_id.in_([u.id for u in users]))
            .order_by(Password.id)
        ).all()
    )
    return [UserInfo(u, expiries.get(u.id)) for u in users]


def list_users_in_group(
    ident: Identity, group_id: str, params: Mapping[str, str]
) -> list[UserInfo]:
    """Members of a group, with Keystone's user filters (name, domain_id, enabled)."""
    with ident.db.reader() as s:
        get_group_row(s, group_id)
        query = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group_id)
        )
        query = apply_filters(
            query,
            params,
            {"name": User.name, "domain_id": User.domain_id, "enabled": User.enabled},
        )
        return _user_infos(s, list(s.scalars(query.order_by(User.name, User.id))))


def list_groups_for_user(ident: Identity, user_id: str, params: Mapping[str, str]) -> list[Group]:
    """Groups a user belongs to (404 when the user does not exist)."""
    with ident.db.reader() as s:
        get_user_row(s, user_id)
        query = (
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id)
        )
        query = apply_filters(query, params, {"name": Group.name})
        return list(s.scalars(query.order_by(Group.name, Group.id)))


def _not_member(user_id: str, group_id: str) -> NotFound:
    return NotFound(f"User '{user_id}' not found in group '{group_id}'")


def add_user_to_group(ident: Identity, group_id: str, user_id: str) -> None:
    """Make a user a member (idempotent). Users of any domain may join, as in Keystone."""
    try:
        with ident.db.writer() as s:
            get_group_row(s, group_id)
            get_user_row(s, user_id)
            if s.get(Membership, (user_id, group_id)) is None:
                s.add(Membership(user_id=user_id, group_id=group_id))
    except IntegrityError:
        # A concurrent PUT added the same membership first (or the user or the
        # group vanished meanwhile, which the check reports as a 404).
        check_user_in_group(ident, group_id, user_id)


def check_user_in_group(ident: Identity, group_id: str, user_id: str) -> None:
    """Raise NotFound unless the user is a member of the group."""
    with ident.db.reader() as s:
        get_group_row(s, group_id)
        get_user_row(s, user_id)
        if s.get(Membership, (user_id, group_id)) is None:
            raise _not_member(user_id, group_id)


def remove_user_from_group(ident: Identity, group_id: str, user_id: str) -> None:
    """End a membership and revoke the user's tokens (the group's roles are gone)."""
    with ident.db.writer() as s:
        membership = s.get(Membership, (user_id, group_id))
        if membership is None:
            get_group_row(s, group_id)
            get_user_row(s, user_id)
            raise _not_member(user_id, group_id)
        s.delete(membership)
        revocation.revoke(s, ident.clock(), user_id=user_id)
