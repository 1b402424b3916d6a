"""Access rules: the API calls a user's application credentials may be limited to.

As in Keystone, rules belong to the user, are shared by every application
credential naming an identical rule (or the rule's id), and outlive those
credentials; a rule can only be deleted once no credential uses it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.errors import Forbidden, NotFound, ValidationError
from kumo.identity.db.models import AccessRule, ApplicationCredentialAccessRule
from kumo.identity.schemas.credentials import AccessRule as AccessRuleRequest
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters


def _not_found(access_rule_id: str) -> NotFound:
    return NotFound(f"Could not find Access Rule: {access_rule_id}.")


def _get_row(s: Session, user_id: str, access_rule_id: str) -> AccessRule:
    rule = s.get(AccessRule, access_rule_id)
    # Another user's rule does not exist for this user.
    if rule is None or rule.user_id != user_id:
        raise _not_found(access_rule_id)
    return rule


def list_access_rules(ident: Identity, user_id: str, params: Mapping[str, str]) -> list[AccessRule]:
    """A user's access rules, filtered by ``service``, ``path`` and ``method``."""
    with ident.db.reader() as s:
        query = apply_filters(
            select(AccessRule).where(AccessRule.user_id == user_id),
            params,
            {"service": AccessRule.service, "path": AccessRule.path, "method": AccessRule.method},
        )
        return list(
            s.scalars(query.order_by(AccessRule.service, AccessRule.path, AccessRule.method))
        )


def show_access_rule(ident: Identity, user_id: str, access_rule_id: str) -> AccessRule:
    """One of a user's access rules (404 when missing or someone else's)."""
    with ident.db.reader() as s:
        return _get_row(s, user_id, access_rule_id)


def delete_access_rule(ident: Identity, user_id: str, access_rule_id: str) -> None:
    """Delete a user's access rule; 403 while an application credential uses it."""
    with ident.db.writer() as s:
        rule = _get_row(s, user_id, access_rule_id)
        in_use = s.execute(
            select(ApplicationCredentialAccessRule.application_credential_id)
            .where(ApplicationCredentialAccessRule.access_rule_id == rule.id)
            .limit(1)
        ).first()
        if in_use:
            raise Forbidden("May not delete access rule in use.")
        s.delete(rule)


def delete_access_rules_for_user(s: Session, user_id: str) -> None:
    """Within ``s``: drop every rule of a user whose credentials are already gone."""
    owned = select(AccessRule.id).where(AccessRule.user_id == user_id)
    s.execute(
        delete(ApplicationCredentialAccessRule).where(
            ApplicationCredentialAccessRule.access_rule_id.in_(owned)
        )
    )
    s.execute(delete(AccessRule).where(AccessRule.user_id == user_id))


def _find_or_create(s: Session, user_id: str, wanted: AccessRuleRequest) -> AccessRule:
    if wanted.id is not None:
        by_id = s.get(AccessRule, wanted.id)
        if by_id is not None:
            # Naming another user's rule must neither reach it nor reveal it.
            if by_id.user_id != user_id:
                raise _not_found(wanted.id)
            return by_id
    if wanted.service is None or wanted.path is None or wanted.method is None:
        if wanted.id is not None:
            raise _not_found(wanted.id)
        raise ValidationError(
            "Invalid application credential: an access rule needs service, path and method."
        )
    same = s.scalars(
        select(AccessRule).where(
            AccessRule.user_id == user_id,
            AccessRule.service == wanted.service,
            AccessRule.path == wanted.path,
            AccessRule.method == wanted.method,
        )
    ).first()
    if same is not None:
        return same
    rule = AccessRule(
        id=wanted.id or new_id(),
        user_id=user_id,
        service=wanted.service,
        path=wanted.path,
        method=wanted.method,
    )
    s.add(rule)
    s.flush()
    return rule


def attach_access_rules(
    s: Session, user_id: str, app_cred_id: str, wanted: list[AccessRuleRequest]
) -> list[AccessRule]:
    """Within ``s``: link an application credential to its rules, reusing the user's own.

    A rule given by id must be one of the user's (404 otherwise); a rule given by
    service, path and method reuses the user's identical rule or creates one.
    """
    rules: list[AccessRule] = []
    for w in wanted:
        rule = _find_or_create(s, user_id, w)
        if rule not in rules:
            rules.append(rule)
            s.add(
                ApplicationCredentialAccessRule(
                    application_credential_id=app_cred_id, access_rule_id=rule.id
                )
            )
    s.flush()
    return rules


def rules_of(s: Session, app_cred_id: str) -> list[AccessRule]:
    """Within ``s``: the access rules of one application credential."""
    return list(
        s.scalars(
            select(AccessRule)
            .join(
                ApplicationCredentialAccessRule,
                ApplicationCredentialAccessRule.access_rule_id == AccessRule.id,
            )
            .where(ApplicationCredentialAccessRule.application_credential_id == app_cred_id)
            .order_by(AccessRule.service, AccessRule.path, AccessRule.method)
        )
    )


def rule_dict(rule: AccessRule) -> dict[str, str]:
    """A rule as application credentials and tokens show it."""
    return {"id": rule.id, "service": rule.service, "path": rule.path, "method": rule.method}
