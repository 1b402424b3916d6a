"""EC2 credentials under /v3/users/{user_id}/credentials/OS-EC2 (Keystone's OS-EC2).

These are ordinary ``ec2`` credentials of the credentials store (blobs encrypted
at rest, ids the sha256 of the access key); this module only adds what the
OS-EC2 API does on top: generating the key pair, checking that the user and
project exist, and addressing a credential by its access key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kumo.common.errors import NotFound
from kumo.identity.service import credentials
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.credentials import CredentialInfo, Delegation
from kumo.identity.service.projects import get_project_row
from kumo.identity.service.users import get_user_row

EC2 = "ec2"


@dataclass
class EC2Credential:
    """An EC2 key pair as the OS-EC2 API shows it."""

    user_id: str
    tenant_id: str | None
    access: str | None
    secret: str | None
    trust_id: str | None


def as_ec2(info: CredentialInfo) -> EC2Credential:
    """The OS-EC2 view of a stored ``ec2`` credential."""
    try:
        blob = json.loads(info.blob)
    except ValueError:
        blob = {}
    blob = blob if isinstance(blob, dict) else {}
    return EC2Credential(
        user_id=info.user_id,
        tenant_id=info.project_id,
        access=blob.get("access"),
        secret=blob.get("secret"),
        trust_id=blob.get("trust_id"),
    )


def check_user(ident: Identity, user_id: str) -> None:
    """404 unless the user exists."""
    with ident.db.reader() as s:
        get_user_row(s, user_id)


def find_by_access(ident: Identity, access: str) -> CredentialInfo | None:
    """The ``ec2`` credential whose access key is ``access``, or None."""
    info = credentials.find_credential(ident, credentials.ec2_credential_id(access))
    # Another type under the same id cannot really happen (other ids are 32 hex
    # digits, these 64), but an OS-EC2 route must never expose one.
    return info if info is not None and info.type == EC2 else None


def get_by_access(ident: Identity, access: str) -> CredentialInfo:
    """The ``ec2`` credential for ``access``; 404 naming the hashed id, as Keystone."""
    info = find_by_access(ident, access)
    if info is None:
        raise NotFound(f"Could not find credential: {credentials.ec2_credential_id(access)}.")
    return info


def create_ec2_credential(
    ident: Identity,
    user_id: str,
    tenant_id: str | None,
    delegation: Delegation | None = None,
    make_key: Callable[[], str] = new_id,
) -> EC2Credential:
    """Generate and store a key pair for ``user_id`` on project ``tenant_id``."""
    with ident.db.reader() as s:
        get_user_row(s, user_id)
        # Keystone looks the project up as given, so a missing one reads "None".
        get_project_row(s, str(tenant_id))
    blob: dict[str, Any] = {"access": make_key(), "secret": make_key(), "trust_id": None}
    info = credentials.create_credential(
        ident,
        user_id=user_id,
        type=EC2,
        blob=json.dumps(blob),
        project_id=tenant_id,
        delegation=delegation,
    )
    return as_ec2(info)


def list_ec2_credentials(
    ident: Identity, user_id: str, delegation: Delegation | None = None
) -> list[EC2Credential]:
    """The user's EC2 key pairs (a delegated token sees only its project's)."""
    check_user(ident, user_id)
    delegation = delegation or Delegation()
    found = credentials.list_credentials(ident, {"user_id": user_id, "type": EC2})
    return [as_ec2(c) for c in found if credentials.visible_to(delegation, c)]


def show_ec2_credential(
    ident: Identity, user_id: str, access: str, delegation: Delegation | None = None
) -> EC2Credential:
    """One key pair by its access key; 404 when the user or the key is missing."""
    check_user(ident, user_id)
    info = get_by_access(ident, access)
    return as_ec2(credentials.show_credential(ident, info.id, delegation))


def delete_ec2_credential(
    ident: Identity, user_id: str, access: str, delegation: Delegation | None = None
) -> None:
    """Delete a key pair by its access key; 404 when the user or the key is missing."""
    check_user(ident, user_id)
    info = get_by_access(ident, access)
    credentials.delete_credential(ident, info.id, delegation)
