"""Users and their passwords."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.errors import Conflict, NotFound, Unauthorized, ValidationError
from kumo.identity.db.models import (
    ApplicationCredential,
    Assignment,
    Credential,
    Membership,
    Password,
    Project,
    User,
)
from kumo.identity.service import access_rules, revocation
from kumo.identity.service.auth import current_password
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters
from kumo.identity.service.passwords import hash_password, verify_password

USER_FIELDS = {
    "id",
    "name",
    "domain_id",
    "enabled",
    "default_project_id",
    "password",
    "options",
    "links",
    "password_expires_at",
}
USER_OPTIONS = {
    "ignore_change_password_upon_first_use",
    "ignore_password_expiry",
    "ignore_lockout_failure_attempts",
    "lock_password",
    "multi_factor_auth_rules",
    "multi_factor_auth_enabled",
    "ignore_user_inactivity",
}


@dataclass
class UserInfo:
    """A user row and when its password expires."""

    user: User
    password_expires_at: dt.datetime | None


def get_user_row(s: Session, user_id: str) -> User:
    """A user by id; 404 when missing."""
    user = s.get(User, user_id)
    if user is None:
        raise NotFound(f"Could not find user: {user_id}.")
    return user


def _check_options(options: dict[str, Any] | None) -> dict[str, Any]:
    options = options or {}
    unknown = set(options) - USER_OPTIONS
    if unknown:
        raise ValidationError(f"Invalid user option(s): {', '.join(sorted(unknown))}.")
    return options


def _set_password(
    s: Session, ident: Identity, user: User, password: str, *, self_service: bool
) -> None:
    settings = ident.settings
    # Keystone enforces the history on the user's own changes, not on an admin's reset.
    if self_service and settings.unique_last_password_count > 0:
        recent = s.scalars(
            select(Password)
            .where(Password.user_id == user.id)
            .order_by(Password.id.desc())
            .limit(settings.unique_last_password_count)
        )
        if any(verify_password(p.password_hash, password) for p in recent):
            raise ValidationError(
                "The new password cannot be identical to a previous password. The number "
                f"of previous passwords that must be unique is: "
                f"{settings.unique_last_password_count}."
            )
    now = ident.clock()
    expires = None
    if settings.password_expires_days and not (user.options or {}).get("ignore_password_expiry"):
        expires = now + dt.timedelta(days=settings.password_expires_days)
    s.add(
        Password(
            user_id=user.id,
            password_hash=hash_password(password),
            created_at=now,
            expires_at=expires,
            self_service=self_service,
        )
    )


def _info(s: Session, user: User) -> UserInfo:
    pw = current_password(s, user.id)
    return UserInfo(user, pw.expires_at if pw else None)


def create_user(
    ident: Identity,
    *,
    name: str,
    domain_id: str,
    password: str | None = None,
    enabled: bool = True,
    default_project_id: str | None = None,
    options: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    user_id: str | None = None,
) -> UserInfo:
    """Create a user in a domain, with an optional password."""
    opts = _check_options(options)
    with ident.db.writer() as s:
        domain = s.get(Project, domain_id)
        if domain is None or not domain.is_domain:
            raise NotFound(f"Could not find domain: {domain_id}.")
        if default_project_id is not None:
            _check_default_project(s, default_project_id)
        if s.execute(select(User.id).where(User.domain_id == domain_id, User.name == name)).first():
            raise Conflict(
                f"Conflict occurred attempting to store user - Duplicate entry "
                f"found with name {name} at domain ID {domain_id}."
            )
        user = User(
            id=user_id or new_id(),
            name=name,
            domain_id=domain_id,
            enabled=enabled,
            default_project_id=default_project_id,
            options=opts,
            extra=extra or {},
            created_at=ident.clock(),
        )
        s.add(user)
        s.flush()
        if password is not None:
            _set_password(s, ident, user, password, self_service=False)
        s.flush()
        return _info(s, user)


def _check_default_project(s: Session, project_id: str) -> None:
    project = s.get(Project, project_id)
    if project is None or project.is_domain:
        raise ValidationError(f"Could not find the default project: {project_id}.")


def show_user(ident: Identity, user_id: str) -> UserInfo:
    """One user."""
    with ident.db.reader() as s:
        return _info(s, get_user_row(s, user_id))


def list_users(ident: Identity, params: Mapping[str, str]) -> list[UserInfo]:
    """Users matching Keystone's list filters."""
    with ident.db.reader() as s:
        query = apply_filters(
            select(User),
            params,
            {
                "name": User.name,
                "domain_id": User.domain_id,
                "enabled": User.enabled,
                "id": User.id,
            },
        )
        rows = list(s.scalars(query.order_by(User.name)))
        expiries = (
            dict(
                s.execute(
                    select(Password.user_id, Password.expires_at)
                    .where(Password.user_id.in_([u.id for u in rows]))
                    .order_by(Password.id)
                ).all()
            )
            if rows
            else {}
        )
        return [UserInfo(u, expiries.get(u.id)) for u in rows]


def update_user(ident: Identity, user_id: str, changes: dict[str, Any]) -> UserInfo:
    """Apply a PATCH to a user; a new password or disabling revokes their tokens."""
    with ident.db.writer() as s:
        user = get_user_row(s, user_id)
        if "domain_id" in changes and changes["domain_id"] != user.domain_id:
            raise ValidationError("Cannot change the domain_id of a user.")
        if "id" in changes and changes["id"] != user.id:
            raise ValidationError("Cannot change the id of a user.")
        revoke = False
        if "name" in changes and changes["name"] != user.name:
            if s.execute(
                select(User.id).where(
                    User.domain_id == user.domain_id, User.name == changes["name"]
                )
            ).first():
                raise Conflict(
                    f"Conflict occurred attempting to store user - Duplicate "
                    f"entry found with name {changes['name']} at domain ID "
                    f"{user.domain_id}."
                )
            user.name = changes["name"]
        if "enabled" in changes and changes["enabled"] != user.enabled:
            user.enabled = bool(changes["enabled"])
            revoke = not user.enabled
        if "default_project_id" in changes:
            if changes["default_project_id"] is not None:
                _check_default_project(s, changes["default_project_id"])
            user.default_project_id = changes["default_project_id"]
        if "options" in changes:
            merged = {**(user.options or {}), **_check_options(changes["options"])}
            user.options = {k: v for k, v in merged.items() if v is not None}
        if changes.get("password") is not None:
            _set_password(s, ident, user, changes["password"], self_service=False)
            revoke = True
        extra = {k: v for k, v in changes.items() if k not in USER_FIELDS}
        if extra:
            user.extra = {**(user.extra or {}), **extra}
        if revoke:
            revocation.revoke(s, ident.clock(), user_id=user.id)
        s.flush()
        return _info(s, user)


def change_password(ident: Identity, user_id: str, original: str, new: str) -> None:
    """A user changes their own password, proving the original one (401 if wrong)."""
    with ident.db.writer() as s:
        user = s.get(User, user_id)
        pw = current_password(s, user_id) if user else None
        if user is None or pw is None or not verify_password(pw.password_hash, original):
            raise Unauthorized("The request you have made requires authentication.")
        if (user.options or {}).get("lock_password"):
            raise ValidationError(
                "You cannot change your password at this time because the password is locked."
            )
        if new == original:
            raise ValidationError("The new password must differ from the original password.")
        _set_password(s, ident, user, new, self_service=True)
        revocation.revoke(s, ident.clock(), user_id=user.id)


def delete_user(ident: Identity, user_id: str) -> None:
    """Delete a user with their grants, memberships and credentials; revoke their tokens."""
    with ident.db.writer() as s:
        user = get_user_row(s, user_id)
        s.execute(
            delete(Assignment).where(
                Assignment.actor_id == user.id,
                Assignment.type.in_(["UserProject", "UserDomain", "UserSystem"]),
            )
        )
        s.execute(delete(Membership).where(Membership.user_id == user.id))
        s.execute(delete(Credential).where(Credential.user_id == user.id))
        s.execute(delete(ApplicationCredential).where(ApplicationCredential.user_id == user.id))
        access_rules.delete_access_rules_for_user(s, user.id)
        s.execute(delete(Password).where(Password.user_id == user.id))
        revocation.revoke(s, ident.clock(), user_id=user.id)
        s.delete(user)


def domain_of_user(ident: Identity, user_id: str) -> str:
    """The domain id of a user (404 when missing)."""
    with ident.db.reader() as s:
        return get_user_row(s, user_id).domain_id
