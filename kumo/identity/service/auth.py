"""Authentication and tokens: issue, validate, revoke, and the token body.

Failures while *issuing* are 401 (Keystone never says which part was wrong);
a subject token that does not validate is 404 ("Could not find token").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.errors import BadRequest, Forbidden, NotFound, Unauthorized
from kumo.identity.db.models import (
    ROOT_DOMAIN_ID,
    ApplicationCredential,
    Password,
    Project,
    Role,
    User,
)
from kumo.identity.schemas import (
    ApplicationCredentialMethod,
    AuthRequest,
    AuthScope,
    DomainRef,
    PasswordMethod,
    UserRef,
)
from kumo.identity.service import access_rules, revision, revocation
from kumo.identity.service.catalog import build_catalog
from kumo.identity.service.core import Identity
from kumo.identity.service.passwords import verify_password
from kumo.identity.service.roles import effective_roles
from kumo.identity.service.token_cache import Validated
from kumo.identity.service.tokens import TokenPayload, new_audit_id

AUTH_FAILED = "The request you have made requires authentication."
#: How long after expiry a service may still validate a token with allow_expired.
ALLOW_EXPIRED_WINDOW = dt.timedelta(hours=48)


def iso(moment: dt.datetime) -> str:
    """Keystone's timestamp format: microseconds and a Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TokenInvalid(Exception):
    """The token (or what it points at) is no longer valid."""


class TokenNotFound(NotFound):
    """The token given to the token auth method is not valid (404, as in Keystone)."""


class WrongPassword(Exception):
    """A known user gave a wrong password (counted when lockout is on)."""

    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id


@dataclass
class Scope:
    """The resolved target of a token."""

    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None


# -- looking things up by reference --------------------------------------


def resolve_domain(s: Session, ref: DomainRef) -> Project:
    """A domain by id or name; 401 when it does not exist."""
    if ref.id:
        domain = s.get(Project, ref.id)
    elif ref.name:
        domain = s.scalars(
            select(Project).where(Project.domain_id == ROOT_DOMAIN_ID, Project.name == ref.name)
        ).first()
    else:
        raise BadRequest("Expecting to find id or name in domain.")
    if domain is None or not domain.is_domain:
        raise Unauthorized(AUTH_FAILED)
    return domain


def resolve_user(s: Session, ref: UserRef) -> User:
    """A user by id, or by name within a domain; 401 when it does not exist."""
    if ref.id:
        user = s.get(User, ref.id)
    elif ref.name:
        if ref.domain is None:
            raise BadRequest("Expecting to find domain in user.")
        domain = resolve_domain(s, ref.domain)
        user = s.scalars(
            select(User).where(User.domain_id == domain.id, User.name == ref.name)
        ).first()
    else:
        raise BadRequest("Expecting to find id or name in user.")
    if user is None:
        raise Unauthorized(AUTH_FAILED)
    return user


def current_password(s: Session, user_id: str) -> Password | None:
    """The user's newest password row."""
    return s.scalars(
        select(Password).where(Password.user_id == user_id).order_by(Password.id.desc()).limit(1)
    ).first()


# -- the authentication methods --------------------------------------------


def _check_user_usable(s: Session, ident: Identity, user: User, now: dt.datetime) -> None:
    domain = s.get(Project, user.domain_id)
    if not user.enabled or domain is None or not domain.enabled:
        raise Unauthorized(AUTH_FAILED)


def _password_auth(s: Session, ident: Identity, method: PasswordMethod, now: dt.datetime) -> User:
    user = resolve_user(s, method.user)
    _check_user_usable(s, ident, user, now)
    settings = ident.settings
    if (
        settings.lockout_failure_attempts
        and user.failed_auth_count >= settings.lockout_failure_attempts
        and user.failed_auth_at
        and now - user.failed_auth_at < dt.timedelta(seconds=settings.lockout_duration)
        and not user.options.get("ignore_lockout_failure_attempts")
    ):
        raise Unauthorized(f"The account is locked for user: {user.id}.")
    pw = current_password(s, user.id)
    if (
        method.user.password is None
        or pw is None
        or not verify_password(pw.password_hash, method.user.password)
    ):
        raise WrongPassword(user.id)
    if pw.expires_at and pw.expires_at <= now and not user.options.get("ignore_password_expiry"):
        raise Unauthorized(f"The password is expired and needs to be changed for user: {user.id}.")
    return user


def _application_credential_auth(
    s: Session, ident: Identity, method: ApplicationCredentialMethod, now: dt.datetime
) -> ApplicationCredential:
    if method.id:
        cred = s.get(ApplicationCredential, method.id)
    elif method.name and method.user:
        user = resolve_user(s, method.user)
        cred = s.scalars(
            select(ApplicationCredential).where(
                ApplicationCredential.user_id == user.id,
                ApplicationCredential.name == method.name,
            )
        ).first()
    else:
        raise BadRequest("Expecting to find id, or name and user, in application_credential.")
    if cred is None or not verify_password(cred.secret_hash, method.secret):
        raise Unauthorized(AUTH_FAILED)
    if cred.expires_at and cred.expires_at <= now:
        raise Unauthorized("Application credential has expired.")
    owner = s.get(User, cred.user_id)
    if owner is None:
        raise Unauthorized(AUTH_FAILED)
    _check_user_usable(s, ident, owner, now)
    return cred


def _resolve_scope(s: Session, scope: AuthScope) -> Scope:
    given = [x for x in (scope.project, scope.domain, scope.system, scope.trust) if x]
    if len(given) > 1:
        raise BadRequest("Specify only one of project, domain, system or trust in the scope.")
    if scope.trust is not None:
        raise Forbidden("Trusts (OS-TRUST) are not enabled in this cloud.")
    if scope.project is not None:
        ref = scope.project
        if ref.id:
            project = s.get(Project, ref.id)
        elif ref.name and ref.domain:
            domain = resolve_domain(s, ref.domain)
            project = s.scalars(
                select(Project).where(Project.domain_id == domain.id, Project.name == ref.name)
            ).first()
        else:
            raise BadRequest("Expecting to find id, or name and domain, in project.")
        if project is None or project.is_domain:
            raise Unauthorized(AUTH_FAILED)
        return Scope(project_id=project.id)
    if scope.domain is not None:
        return Scope(domain_id=resolve_domain(s, scope.domain).id)
    if scope.system is not None:
        if not scope.system.all:
            raise BadRequest("Only the 'all' system scope is supported.")
        return Scope(system="all")
    return Scope()


Checked = tuple[User, Project | None, list[Role]]


def authenticate(s: Session, ident: Identity, req: AuthRequest) -> tuple[TokenPayload, Checked]:
    """Check the credentials in an auth request.

    Returns the new token's payload with what it was checked against (user,
    scope target, roles), so the token document is rendered without checking twice.
    """
    now = ident.clock()
    identity = req.auth.identity
    methods = list(dict.fromkeys(identity.methods))
    expires_at = now + dt.timedelta(seconds=ident.settings.token_expiration)
    audit_ids = [new_audit_id()]
    app_cred: ApplicationCredential | None = None
    user: User | None = None
    original: TokenPayload | None = None
    for name in methods:
        if name not in ("password", "token", "application_credential"):
            raise Unauthorized(f"Attempted to authenticate with an unsupported method: {name}.")
        if getattr(identity, name) is None:
            raise BadRequest(f"Expecting to find {name} in identity.")
    if "password" in methods:
        assert identity.password is not None
        user = _password_auth(s, ident, identity.password, now)
    if "application_credential" in methods:
        assert identity.application_credential is not None
        app_cred = _application_credential_auth(s, ident, identity.application_credential, now)
        user = s.get(User, app_cred.user_id)
    if "token" in methods:
        assert identity.token is not None
        try:
            original = validate_payload(s, ident, identity.token.id)
        except NotFound as exc:
            # Keystone answers 404 here, and clients (tempest) tell it from a 401.
            raise TokenNotFound(f"Could not find token: {identity.token.id[:8]}…") from exc
        if original.application_credential_id:
            raise Forbidden("A token created from an application credential cannot be rescoped.")
        if user is not None and user.id != original.user_id:
            raise Unauthorized(AUTH_FAILED)
        user = s.get(User, original.user_id)
        # A rescoped token remembers how the user first proved who they are.
        methods = list(dict.fromkeys([*original.methods, *methods]))
        expires_at = original.expires_at
        audit_ids.append(original.audit_ids[-1])
    assert user is not None

    scope_req = req.auth.scope
    if app_cred is not None:
        if isinstance(scope_req, AuthScope) and (
            _resolve_scope(s, scope_req).project_id not in (None, app_cred.project_id)
            or scope_req.domain
            or scope_req.system
        ):
            raise Unauthorized("Application credentials cannot request a scope.")
        scope = Scope(project_id=app_cred.project_id, system=app_cred.system)
        if app_cred.expires_at:
            expires_at = min(expires_at, app_cred.expires_at)
    elif isinstance(scope_req, AuthScope):
        scope = _resolve_scope(s, scope_req)
    elif scope_req is None and user.default_project_id and original is None:
        # Keystone scopes an unscoped request to the default project when it can.
        scope = Scope(project_id=user.default_project_id)
        if not _scope_roles(s, user.id, scope, None):
            scope = Scope()
    else:
        scope = Scope()

    payload = TokenPayload(
        user_id=user.id,
        methods=methods,
        expires_at=expires_at,
        issued_at=now,
        audit_ids=audit_ids,
        project_id=scope.project_id,
        domain_id=scope.domain_id,
        system=scope.system,
        application_credential_id=app_cred.id if app_cred else None,
    )
    try:
        checked = check_payload(s, payload)
    except TokenInvalid as exc:
        raise Unauthorized(str(exc) or AUTH_FAILED) from exc
    return payload, checked


def issue_token(
    ident: Identity, req: AuthRequest, *, include_catalog: bool = True
) -> tuple[str, dict[str, Any]]:
    """Authenticate and return the new token with its body.

    Reads only, unless lockout is on: then failed attempts are counted (and
    reset after a success) in their own transaction so a 401 cannot roll them back.
    """
    lockout = ident.settings.lockout_failure_attempts is not None
    try:
        with ident.db.reader() as s:
            payload, checked = authenticate(s, ident, req)
            body = render_body(s, payload, *checked, include_catalog=include_catalog)
            reset = lockout and checked[0].failed_auth_count > 0
    except WrongPassword as exc:
        if lockout:
            with ident.db.writer() as s:
                failed = s.get(User, exc.user_id)
                if failed is not None:
                    failed.failed_auth_count = (failed.failed_auth_count or 0) + 1
                    failed.failed_auth_at = ident.clock()
        raise Unauthorized(AUTH_FAILED) from exc
    except TokenNotFound:
        raise
    except NotFound as exc:
        raise Unauthorized(AUTH_FAILED) from exc
    if reset:
        with ident.db.writer() as s:
            ok = s.get(User, payload.user_id)
            if ok is not None:
                ok.failed_auth_count = 0
                ok.failed_auth_at = None
    return ident.sealer.seal(payload), body


def _scope_roles(
    s: Session, user_id: str, scope: Scope, app_cred: ApplicationCredential | None
) -> list[Role]:
    roles = effective_roles(
        s,
        user_id,
        project_id=scope.project_id,
        domain_id=scope.domain_id,
        system=scope.system == "all",
    )
    if app_cred is not None:
        # Always the credential's roles: "unrestricted" only lets it manage
        # other application credentials, it never widens the token's roles.
        allowed = set(app_cred.role_ids)
        roles = [r for r in roles if r.id in allowed]
    return roles


def check_payload(s: Session, p: TokenPayload) -> tuple[User, Project | None, list[Role]]:
    """Check that what a token points at still exists, is enabled, and grants roles."""
    user = s.get(User, p.user_id)
    if user is None or not user.enabled:
        raise TokenInvalid("Could not find user.")
    domain = s.get(Project, user.domain_id)
    if domain is None or not domain.enabled:
        raise TokenInvalid("The user's domain is disabled.")
    app_cred = None
    if p.application_credential_id:
        app_cred = s.get(ApplicationCredential, p.application_credential_id)
        if app_cred is None:
            raise TokenInvalid("Could not find application credential.")
    scope = Scope(p.project_id, p.domain_id, p.system)
    target: Project | None = None
    if p.project_id or p.domain_id:
        target = s.get(Project, p.project_id or p.domain_id or "")
        if target is None or not target.enabled:
            raise TokenInvalid("The scope is disabled or no longer exists.")
        if p.project_id and target.is_domain:
            raise TokenInvalid("Could not find project.")
        if p.project_id:
            owner_domain = s.get(Project, target.domain_id)
            if owner_domain is None or not owner_domain.enabled:
                raise TokenInvalid("The project's domain is disabled.")
    roles: list[Role] = []
    if p.project_id or p.domain_id or p.system:
        roles = _scope_roles(s, user.id, scope, app_cred)
        if not roles:
            raise TokenInvalid(f"User {user.id} has no access to the requested scope.")
    return user, target, roles


def validate_payload(
    s: Session, ident: Identity, token: str, *, allow_expired: bool = False
) -> TokenPayload:
    """Open a token and check expiry and revocation; raise NotFound when invalid."""
    payload = ident.sealer.open(token)
    now = ident.clock()
    limit = payload.expires_at + (ALLOW_EXPIRED_WINDOW if allow_expired else dt.timedelta())
    if limit <= now:
        raise NotFound("The token has expired.")
    if revocation.is_revoked(s, payload):
        raise NotFound("The token has been revoked.")
    return payload


def render_body(
    s: Session,
    p: TokenPayload,
    user: User,
    target: Project | None,
    roles: list[Role],
    *,
    include_catalog: bool = True,
) -> dict[str, Any]:
    """The token document from already-checked parts."""
    user_domain = s.get(Project, user.domain_id)
    assert user_domain is not None
    pw = current_password(s, user.id)
    body: dict[str, Any] = {
        "methods": p.methods,
        "user": {
            "id": user.id,
            "name": user.name,
            "domain": {"id": user_domain.id, "name": user_domain.name},
            "password_expires_at": iso(pw.expires_at) if pw and pw.expires_at else None,
        },
        "audit_ids": p.audit_ids,
        "expires_at": iso(p.expires_at),
        "issued_at": iso(p.issued_at),
    }
    if p.project_id and target is not None:
        owner = s.get(Project, target.domain_id)
        body["project"] = {
            "id": target.id,
            "name": target.name,
            "domain": {"id": target.domain_id, "name": owner.name if owner else ""},
        }
        body["is_domain"] = False
    elif p.domain_id and target is not None:
        body["domain"] = {"id": target.id, "name": target.name}
    elif p.system:
        body["system"] = {"all": True}
    if roles:
        body["roles"] = [{"id": r.id, "name": r.name} for r in roles]
    if p.application_credential_id:
        cred = s.get(ApplicationCredential, p.application_credential_id)
        assert cred is not None
        body["application_credential"] = {
            "id": cred.id,
            "name": cred.name,
            "restricted": not cred.unrestricted,
        }
        # As Keystone's token: services enforce the credential's rules from here.
        rules = access_rules.rules_of(s, cred.id)
        if rules:
            body["application_credential"]["access_rules"] = [
                access_rules.rule_dict(r) for r in rules
            ]
    if include_catalog and (p.project_id or p.domain_id or p.system):
        body["catalog"] = build_catalog(s, p.project_id)
    return {"token": body}


def revoke_token(ident: Identity, token: str) -> None:
    """Revoke one token (by its audit id); NotFound when it is not valid now."""
    with ident.db.writer() as s:
        payload = validate_payload(s, ident, token)
        revocation.revoke(s, ident.clock(), audit_id=payload.audit_ids[0])
    # The revision bump already invalidates every cached validation; dropping this
    # one too means this process never honours the token again, whatever it reads.
    ident.token_cache.drop(token)


def cached(ident: Identity, token: str, rev: int | None = None) -> Validated | None:
    """The cached validation of a token if identity data is unchanged since; else None.

    Cheap enough (one indexed read of the revision, or none when the caller
    read it already in this request) to run on the event loop.
    """
    if rev is None:
        rev = revision.latest(ident.db.read_engine)
    hit = ident.token_cache.get(token, rev)
    if hit is not None and hit.payload.expires_at > ident.clock():
        return hit
    return None


def validated(ident: Identity, token: str, *, allow_expired: bool = False) -> Validated:
    """Validate a token, from the cache when identity data has not changed since.

    NotFound when the token is not valid now (expired, revoked, or what it
    points at is gone or disabled).
    """
    now = ident.clock()
    rev = revision.latest(ident.db.read_engine)
    hit = ident.token_cache.get(token, rev)
    if hit is not None and (allow_expired or hit.payload.expires_at > now):
        return hit
    with ident.db.reader() as s:
        # The entry is tagged with the revision read in the validating transaction
        # itself, before the checks: whatever snapshot the checks see, a change
        # committed after it leaves the entry stale-tagged, never wrongly fresh.
        rev = revision.latest_in(s)
        payload = validate_payload(s, ident, token, allow_expired=allow_expired)
        try:
            user, target, roles = check_payload(s, payload)
        except TokenInvalid as exc:
            raise NotFound(f"Could not find token: {exc}") from exc
        result = Validated(
            payload=payload,
            user_id=user.id,
            user_domain_id=user.domain_id,
            project_domain_id=target.domain_id if payload.project_id and target else None,
            role_names=[r.name for r in roles],
            body=render_body(s, payload, user, target, roles),
        )
    if payload.expires_at > now:
        ident.token_cache.put(token, rev, result)
    return result


def validate_token(
    ident: Identity, token: str, *, allow_expired: bool = False, include_catalog: bool = True
) -> tuple[TokenPayload, dict[str, Any]]:
    """Validate a subject token; NotFound when it is not valid now."""
    v = validated(ident, token, allow_expired=allow_expired)
    return v.payload, v.body if include_catalog else v.body_without_catalog
