"""Application credentials: a user's secret for one project with a subset of their roles.

The secret is shown once, at creation, and stored only as an argon2id hash.
Authenticating with one (see ``service/auth.py``) yields a token scoped to the
credential's project carrying only the credential's roles that the user still
holds there. A *restricted* credential (the default) cannot be used to create
or delete application credentials, so a leaked one cannot mint more.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.errors import Conflict, Forbidden, NotFound, ValidationError
from kumo.identity.db.models import (
    NULL_DOMAIN_ID,
    ApplicationCredential,
    ApplicationCredentialAccessRule,
    Role,
)
from kumo.identity.schemas.credentials import AccessRule, RoleRef
from kumo.identity.service import access_rules as rules_service
from kumo.identity.service import revocation
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters
from kumo.identity.service.passwords import hash_password
from kumo.identity.service.roles import effective_roles, implied_closure, roles_by_ids

#: Random bytes in a generated secret (Keystone's length: 86 URL-safe characters).
SECRET_BYTES = 64


@dataclass
class AppCredInfo:
    """An application credential, its roles and access rules, and its secret when just created."""

    cred: ApplicationCredential
    roles: list[Role]
    access_rules: list[dict[str, str]]
    secret: str | None = None


def parse_expiry(value: str, now: dt.datetime) -> dt.datetime:
    """An ISO 8601 ``expires_at`` (naive means UTC) that must lie in the future (400)."""
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            "Timestamp not in expected format. The server could not "
            "comply with the request since it is either malformed or "
            "otherwise incorrect. The client is assumed to be in "
            "error."
        ) from None
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    if moment <= now:
        raise ValidationError(
            "The 'expires_at' must not be before now. The server could "
            "not comply with the request since it is either malformed "
            "or otherwise incorrect. The client is assumed to be in "
            "error."
        )
    return moment


def check_may_manage(s: Session, caller_app_cred_id: str | None) -> None:
    """403 when the caller's token came from a restricted application credential."""
    if caller_app_cred_id is None:
        return
    caller = s.get(ApplicationCredential, caller_app_cred_id)
    if caller is None or not caller.unrestricted:
        raise Forbidden(
            "Using method 'application_credential' is not allowed for managing "
            "additional application credentials."
        )


def _token_role_ids(
    s: Session, user_id: str, project_id: str, caller_app_cred_id: str | None
) -> set[str]:
    # The roles the caller's token carries: effective roles on the project,
    # narrowed to its own application credential's roles when it came from one.
    ids = {r.id for r in effective_roles(s, user_id, project_id=project_id)}
    if caller_app_cred_id is not None:
        caller = s.get(ApplicationCredential, caller_app_cred_id)
        ids &= set(caller.role_ids if caller else [])
    return ids


def _requested_role_ids(s: Session, refs: list[RoleRef], token_role_ids: set[str]) -> set[str]:
    ids: set[str] = set()
    for ref in refs:
        if ref.id is not None:
            ids.add(ref.id)
            continue
        role = s.scalars(
            select(Role).where(Role.name == ref.name, Role.domain_id == NULL_DOMAIN_ID)
        ).first()
        if role is None:
            raise NotFound(f"Could not find role: {ref.name}.")
        ids.add(role.id)
    # As Keystone: roles implied by the requested ones come along.
    ids = implied_closure(s, ids)
    if not ids <= token_role_ids:
        raise ValidationError(
            "Invalid application credential: Cannot create an "
            "application credential with unassigned role"
        )
    return ids


def _info(s: Session, cred: ApplicationCredential, secret: str | None = None) -> AppCredInfo:
    # Roles deleted since are dropped from the view (as Keystone's list does).
    rules = [rules_service.rule_dict(r) for r in rules_service.rules_of(s, cred.id)]
    return AppCredInfo(cred, roles_by_ids(s, cred.role_ids or []), rules, secret)


def create_application_credential(
    ident: Identity,
    *,
    user_id: str,
    project_id: str | None,
    name: str,
    secret: str | None = None,
    description: str | None = None,
    expires_at: str | None = None,
    roles: list[RoleRef] | None = None,
    unrestricted: bool = False,
    access_rules: list[AccessRule] | None = None,
    caller_app_cred_id: str | None = None,
) -> AppCredInfo:
    """Create an application credential on the caller's project; returns its secret once."""
    if project_id is None:
        raise Forbidden(
            "An application credential can only be created with a project-scoped token."
        )
    now = ident.clock()
    expiry = parse_expiry(expires_at, now) if expires_at else None
    secret = secret or secrets.token_urlsafe(SECRET_BYTES)
    with ident.db.writer() as s:
        check_may_manage(s, caller_app_cred_id)
        token_roles = _token_role_ids(s, user_id, project_id, caller_app_cred_id)
        role_ids = _requested_role_ids(s, roles, token_roles) if roles else token_roles
        if not role_ids:
            raise ValidationError(
                "Invalid application credential: the token carries no role to delegate."
            )
        if s.execute(
            select(ApplicationCredential.id).where(
                ApplicationCredential.user_id == user_id, ApplicationCredential.name == name
            )
        ).first():
            raise Conflict(
                "Conflict occurred attempting to store application_credential "
                f"- Duplicate entry found with name {name}."
            )
        cred = ApplicationCredential(
            id=new_id(),
            name=name,
            user_id=user_id,
            project_id=project_id,
            system=None,
            secret_hash=hash_password(secret),
            description=description,
            expires_at=expiry,
            unrestricted=unrestricted,
            role_ids=sorted(role_ids),
            access_rules=[],
            created_at=now,
        )
        s.add(cred)
        s.flush()
        rules_service.attach_access_rules(s, user_id, cred.id, access_rules or [])
        return _info(s, cred, secret)


def find_application_credential(ident: Identity, app_cred_id: str) -> str | None:
    """The owner's user id of an application credential, or None when it does not exist."""
    with ident.db.reader() as s:
        cred = s.get(ApplicationCredential, app_cred_id)
        return cred.user_id if cred else None


def _get_row(s: Session, user_id: str, app_cred_id: str) -> ApplicationCredential:
    cred = s.get(ApplicationCredential, app_cred_id)
    # Reached through another user's URL it does not exist, whoever asks.
    if cred is None or cred.user_id != user_id:
        raise NotFound(f"Could not find Application Credential: {app_cred_id}.")
    return cred


def show_application_credential(ident: Identity, user_id: str, app_cred_id: str) -> AppCredInfo:
    """One of a user's application credentials (never its secret)."""
    with ident.db.reader() as s:
        return _info(s, _get_row(s, user_id, app_cred_id))


def list_application_credentials(
    ident: Identity, user_id: str, params: Mapping[str, str]
) -> list[AppCredInfo]:
    """A user's application credentials, filtered by ``name``."""
    with ident.db.reader() as s:
        query = apply_filters(
            select(ApplicationCredential).where(ApplicationCredential.user_id == user_id),
            params,
            {"name": ApplicationCredential.name},
        )
        rows = s.scalars(
            query.order_by(ApplicationCredential.created_at, ApplicationCredential.name)
        )
        return [_info(s, c) for c in rows]


def delete_application_credential(
    ident: Identity, user_id: str, app_cred_id: str, *, caller_app_cred_id: str | None = None
) -> None:
    """Delete an application credential and revoke every token issued from it."""
    with ident.db.writer() as s:
        cred = _get_row(s, user_id, app_cred_id)
        check_may_manage(s, caller_app_cred_id)
        # The links go; the rules stay with the user (as in Keystone).
        s.execute(
            delete(ApplicationCredentialAccessRule).where(
                ApplicationCredentialAccessRule.application_credential_id == cred.id
            )
        )
        s.delete(cred)
        revocation.revoke(s, ident.clock(), application_credential_id=app_cred_id)
