"""/v3/policies: policy blobs kept for other services, as Keystone keeps them.

Keystone stores and returns these documents and never enforces them (its own
rules come from policy files); Kumo does the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.errors import NotFound
from kumo.identity.db.models import Policy
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters

POLICY_FIELDS = {"id", "type", "blob", "links"}


def _get(s: Session, policy_id: str) -> Policy:
    policy = s.get(Policy, policy_id)
    if policy is None:
        raise NotFound(f"Could not find policy: {policy_id}.")
    return policy


def create_policy(ident: Identity, type_: str, blob: str, extra: dict[str, Any]) -> Policy:
    """Store a policy blob."""
    with ident.db.writer() as s:
        policy = Policy(id=new_id(), type=type_, blob=blob, extra=extra)
        s.add(policy)
        return policy


def show_policy(ident: Identity, policy_id: str) -> Policy:
    """One policy."""
    with ident.db.reader() as s:
        return _get(s, policy_id)


def list_policies(ident: Identity, params: Mapping[str, str]) -> list[Policy]:
    """Policies, filtered by type."""
    with ident.db.reader() as s:
        query = apply_filters(select(Policy), params, {"type": Policy.type})
        return list(s.scalars(query.order_by(Policy.type, Policy.id)))


def update_policy(ident: Identity, policy_id: str, changes: dict[str, Any]) -> Policy:
    """Change a policy's type, blob or extra attributes."""
    with ident.db.writer() as s:
        policy = _get(s, policy_id)
        if changes.get("type") is not None:
            policy.type = changes["type"]
        if changes.get("blob") is not None:
            policy.blob = changes["blob"]
        extra = {k: v for k, v in changes.items() if k not in POLICY_FIELDS}
        if extra:
            policy.extra = {**(policy.extra or {}), **extra}
        return policy


def delete_policy(ident: Identity, policy_id: str) -> None:
    """Delete a policy."""
    with ident.db.writer() as s:
        s.delete(_get(s, policy_id))
