"""Revocation events: the record that makes already-issued tokens invalid.

A token is revoked when some event matches every field the event sets and the
token was issued no later than the event's ``issued_before``. Events outlive
the longest token only briefly, then are pruned.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kumo.identity.db.models import RevocationEvent
from kumo.identity.service.tokens import TokenPayload


def revoke(
    s: Session,
    now: dt.datetime,
    *,
    user_id: str | None = None,
    project_id: str | None = None,
    domain_id: str | None = None,
    audit_id: str | None = None,
    audit_chain_id: str | None = None,
    application_credential_id: str | None = None,
    keep_for: dt.timedelta = dt.timedelta(days=3),
) -> None:
    """Record an event revoking every token issued until now that matches the fields."""
    if not any(
        (user_id, project_id, domain_id, audit_id, audit_chain_id, application_credential_id)
    ):
        raise ValueError("a revocation event needs at least one field")
    s.add(
        RevocationEvent(
            user_id=user_id,
            project_id=project_id,
            domain_id=domain_id,
            audit_id=audit_id,
            audit_chain_id=audit_chain_id,
            application_credential_id=application_credential_id,
            issued_before=now,
            revoked_at=now,
        )
    )
    s.execute(delete(RevocationEvent).where(RevocationEvent.revoked_at < now - keep_for))


def _matches(column: InstrumentedAttribute[str | None], value: str | None) -> ColumnElement[bool]:
    # An event field left empty matches every token; a set field must match.
    return or_(column.is_(None), column == value) if value else column.is_(None)


def is_revoked(s: Session, p: TokenPayload) -> bool:
    """True when some revocation event covers the token."""
    audit_id = p.audit_ids[0] if p.audit_ids else None
    chain_id = p.audit_ids[-1] if p.audit_ids else None
    query = (
        select(RevocationEvent.id)
        # An event naming the token's audit id revokes that very token whatever the
        # clocks say; only broader events need the time bound (which wall clocks
        # stepping backwards could otherwise defeat).
        .where(
            or_(
                RevocationEvent.audit_id.is_not(None),
                RevocationEvent.issued_before >= p.issued_at,
            )
        )
        .where(_matches(RevocationEvent.user_id, p.user_id))
        .where(_matches(RevocationEvent.project_id, p.project_id))
        .where(_matches(RevocationEvent.domain_id, p.domain_id))
        .where(_matches(RevocationEvent.audit_id, audit_id))
        .where(_matches(RevocationEvent.audit_chain_id, chain_id))
        .where(_matches(RevocationEvent.application_credential_id, p.application_credential_id))
        .limit(1)
    )
    return s.execute(query).first() is not None
