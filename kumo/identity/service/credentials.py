"""Credentials (EC2 keys, TOTP secrets, certificates): blobs encrypted at rest.

The blob is encrypted with the credential key repository's Fernet keys (primary
key encrypts, every active key decrypts, so ``rotate-keys`` keeps old blobs
readable). EC2 credentials are addressed by the sha256 of their access key, as
Keystone does, so the ``ec2tokens`` flow can find them from the access key alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.errors import Conflict, Forbidden, KumoError, NotFound, ValidationError
from kumo.identity.db.models import ApplicationCredential, Credential
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters

CREDENTIAL_FIELDS = {"id", "user_id", "project_id", "type", "blob", "links"}
#: Blob keys that tie an EC2 credential to a delegation; an update may not change them.
SCOPING_BLOB_KEYS = ("trust_id", "app_cred_id", "access_token_id", "access_id")


@dataclass
class Delegation:
    """How the caller's token was delegated (only application credentials exist here)."""

    application_credential_id: str | None = None
    project_id: str | None = None


@dataclass
class CredentialInfo:
    """A credential with its decrypted blob."""

    id: str
    user_id: str
    project_id: str | None
    type: str
    blob: str
    extra: dict[str, Any] = field(default_factory=dict)


def _encrypt(ident: Identity, blob: str) -> str:
    return ident.credential_fernet.encrypt(blob.encode()).decode()


def _decrypt(ident: Identity, row: Credential) -> CredentialInfo:
    try:
        blob = ident.credential_fernet.decrypt(row.encrypted_blob.encode()).decode()
    except InvalidToken as exc:
        # The key that encrypted it was rotated out: the blob is lost, say so plainly.
        raise KumoError(
            f"Credential {row.id} could not be decrypted; its encryption key "
            "is no longer in the credential key repository."
        ) from exc
    return CredentialInfo(
        row.id, row.user_id, row.project_id, row.type, blob, dict(row.extra or {})
    )


def ec2_blob(blob: str) -> dict[str, Any]:
    """An EC2 blob parsed: a JSON object with an ``access`` key (400 otherwise)."""
    try:
        parsed = json.loads(blob)
    except ValueError:
        raise ValidationError("Invalid blob in credential") from None
    if not parsed or not isinstance(parsed, dict):
        raise ValidationError(
            "Invalid input for field 'blob': the blob of an ec2 credential must be a JSON object."
        )
    if parsed.get("access") is None:
        raise ValidationError(
            "Invalid input for field 'access': the blob of an ec2 credential needs an access key."
        )
    return parsed


def ec2_credential_id(access: Any) -> str:
    """The id Keystone gives an EC2 credential: sha256 of its access key."""
    return hashlib.sha256(str(access).encode("utf-8")).hexdigest()


def _check_delegation(
    s: Session, delegation: Delegation, project_id: str | None, *, creating_ec2: bool = False
) -> None:
    # A token from an application credential is bound to one project: it may only
    # touch that project's credentials (never user-level ones such as TOTP).
    if delegation.application_credential_id is None:
        return
    if creating_ec2:
        app_cred = s.get(ApplicationCredential, delegation.application_credential_id)
        if app_cred is None or not app_cred.unrestricted:
            raise Forbidden(
                "Using method 'application_credential' is not allowed for "
                "managing additional credentials."
            )
    if project_id != delegation.project_id:
        raise Forbidden(
            "Credential project does not match the project scope of the delegated token."
        )


def visible_to(delegation: Delegation, info: CredentialInfo) -> bool:
    """False when a delegated token may not see ``info`` (other project, or none)."""
    return delegation.application_credential_id is None or info.project_id == delegation.project_id


def create_credential(
    ident: Identity,
    *,
    user_id: str,
    type: str,
    blob: str,
    project_id: str | None = None,
    extra: dict[str, Any] | None = None,
    delegation: Delegation | None = None,
) -> CredentialInfo:
    """Store a credential, its blob encrypted; 409 when an EC2 access key is taken."""
    delegation = delegation or Delegation()
    is_ec2 = type.lower() == "ec2"
    with ident.db.writer() as s:
        _check_delegation(s, delegation, project_id, creating_ec2=is_ec2)
        if is_ec2:
            if not project_id:
                raise ValidationError(
                    "Invalid input for field 'project_id': an ec2 credential requires a project_id."
                )
            parsed = ec2_blob(blob)
            cred_id = ec2_credential_id(parsed["access"])
            if delegation.application_credential_id:
                # So that EC2 authentication with it yields an app-cred-bound token.
                parsed["app_cred_id"] = delegation.application_credential_id
                blob = json.dumps(parsed)
        else:
            cred_id = new_id()
        if s.get(Credential, cred_id) is not None:
            raise Conflict("Conflict occurred attempting to store credential - Duplicate entry.")
        row = Credential(
            id=cred_id,
            user_id=user_id,
            project_id=project_id,
            type=type,
            encrypted_blob=_encrypt(ident, blob),
            extra=extra or {},
        )
        s.add(row)
        s.flush()
        return CredentialInfo(row.id, user_id, project_id, type, blob, dict(row.extra))


def find_credential(ident: Identity, credential_id: str) -> CredentialInfo | None:
    """A credential by id, or None (callers decide between 403 and 404)."""
    with ident.db.reader() as s:
        row = s.get(Credential, credential_id)
        return _decrypt(ident, row) if row else None


def show_credential(
    ident: Identity, credential_id: str, delegation: Delegation | None = None
) -> CredentialInfo:
    """One credential; 404 when missing."""
    info = find_credential(ident, credential_id)
    if info is None:
        raise NotFound(f"Could not find credential: {credential_id}.")
    if delegation is not None and not visible_to(delegation, info):
        raise Forbidden(
            "Credential project does not match the project scope of the delegated token."
        )
    return info


def list_credentials(ident: Identity, params: Mapping[str, str]) -> list[CredentialInfo]:
    """Credentials matching Keystone's filters (``user_id``, ``type``)."""
    with ident.db.reader() as s:
        query = apply_filters(
            select(Credential), params, {"user_id": Credential.user_id, "type": Credential.type}
        )
        return [_decrypt(ident, r) for r in s.scalars(query.order_by(Credential.id))]


def _check_ec2_update(
    current: CredentialInfo, merged: dict[str, Any], changes: Mapping[str, Any]
) -> None:
    if str(merged["type"]).lower() != "ec2":
        return
    if not merged.get("project_id"):
        raise ValidationError(
            "Invalid input for field 'project_id': an ec2 credential requires a project_id."
        )
    new_blob = ec2_blob(merged["blob"])
    if current.type.lower() != "ec2" or "blob" not in changes:
        return
    try:
        old_blob = json.loads(current.blob)
    except ValueError:
        old_blob = {}
    old_blob = old_blob if isinstance(old_blob, dict) else {}
    for key in SCOPING_BLOB_KEYS:
        if old_blob.get(key) != new_blob.get(key):
            raise ValidationError(f"{key} can not be updated for credential")


def merged_credential(current: CredentialInfo, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The credential as it would be after a PATCH (for the second policy check)."""
    return {
        "id": current.id,
        "user_id": current.user_id,
        "project_id": current.project_id,
        "type": current.type,
        "blob": current.blob,
        **current.extra,
        **changes,
    }


def update_credential(
    ident: Identity,
    credential_id: str,
    changes: dict[str, Any],
    delegation: Delegation | None = None,
) -> CredentialInfo:
    """Apply a PATCH; EC2 credentials keep their id and delegation keys."""
    delegation = delegation or Delegation()
    if "id" in changes and changes["id"] != credential_id:
        raise ValidationError("Cannot change the id of a credential.")
    with ident.db.writer() as s:
        row = s.get(Credential, credential_id)
        if row is None:
            raise NotFound(f"Could not find credential: {credential_id}.")
        current = _decrypt(ident, row)
        _check_delegation(s, delegation, current.project_id)
        if "project_id" in changes:
            _check_delegation(s, delegation, changes["project_id"])
        _check_ec2_update(current, merged_credential(current, changes), changes)
        if "user_id" in changes:
            row.user_id = changes["user_id"]
        if "type" in changes:
            row.type = changes["type"]
        if "project_id" in changes:
            row.project_id = changes["project_id"]
        if "blob" in changes:
            row.encrypted_blob = _encrypt(ident, changes["blob"])
        extra = {k: v for k, v in changes.items() if k not in CREDENTIAL_FIELDS}
        if extra:
            row.extra = {**(row.extra or {}), **extra}
        s.flush()
        return _decrypt(ident, row)


def delete_credential(
    ident: Identity, credential_id: str, delegation: Delegation | None = None
) -> None:
    """Delete a credential; 404 when missing."""
    delegation = delegation or Delegation()
    with ident.db.writer() as s:
        row = s.get(Credential, credential_id)
        if row is None:
            raise NotFound(f"Could not find credential: {credential_id}.")
        _check_delegation(s, delegation, row.project_id)
        s.delete(row)
