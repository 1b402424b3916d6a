"""Fernet tokens: what they carry, and how they are sealed and opened.

A token carries only who, how, which scope and when (as Keystone's Fernet
tokens do); roles and the catalog are computed when it is validated, so a
token never outlives the assignments it was issued on.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass, field

import msgpack
from cryptography.fernet import InvalidToken, MultiFernet

from kumo.common.errors import NotFound

PAYLOAD_VERSION = 1
METHODS = ("password", "token", "application_credential", "totp", "external", "mapped")


def new_audit_id() -> str:
    """A random 22-character audit id, URL-safe."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass
class TokenPayload:
    """What a token says: the user, the methods, the scope and the lifetime."""

    user_id: str
    methods: list[str]
    expires_at: dt.datetime
    issued_at: dt.datetime
    audit_ids: list[str]
    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    application_credential_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _pack_id(value: str | None) -> bytes | str | None:
    # uuid4 hex ids shrink to 16 bytes, which keeps tokens short.
    if value and len(value) == 32:
        try:
            return uuid.UUID(hex=value).bytes
        except ValueError:
            return value
    return value


def _unpack_id(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return uuid.UUID(bytes=value).hex
    return value


def _methods_to_int(methods: list[str]) -> int:
    return sum(1 << METHODS.index(m) for m in methods)


def _int_to_methods(bits: int) -> list[str]:
    return [m for i, m in enumerate(METHODS) if bits & (1 << i)]


def _ts(moment: dt.datetime) -> float:
    return moment.timestamp()


def _dt(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class TokenSealer:
    """Turns payloads into Fernet tokens and back."""

    def __init__(self, fernet: MultiFernet) -> None:
        self.fernet = fernet

    def seal(self, p: TokenPayload) -> str:
        """Encrypt and sign a payload."""
        audit = [base64.urlsafe_b64decode(a + "==") for a in p.audit_ids]
        packed = msgpack.packb(
            [
                PAYLOAD_VERSION,
                _pack_id(p.user_id),
                _methods_to_int(p.methods),
                _pack_id(p.project_id),
                _pack_id(p.domain_id),
                p.system,
                _ts(p.expires_at),
                _ts(p.issued_at),
                audit,
                _pack_id(p.application_credential_id),
            ],
            use_bin_type=True,
        )
        # Fernet pads with '='; strip it like Keystone so tokens are URL-safe.
        return self.fernet.encrypt(packed).decode().rstrip("=")

    def open(self, token: str) -> TokenPayload:
        """Decrypt and verify a token; raise NotFound when it is not one of ours."""
        padded = token + "=" * (-len(token) % 4)
        try:
            raw = self.fernet.decrypt(padded.encode())
            fields = msgpack.unpackb(raw, raw=False)
            (version, user, methods, project, domain, system, exp, iat, audit, appcred) = fields
        except (InvalidToken, ValueError, TypeError, msgpack.UnpackException) as exc:
            raise NotFound("Could not recognize Fernet token") from exc
        if version != PAYLOAD_VERSION:
            raise NotFound("Could not recognize Fernet token")
        return TokenPayload(
            user_id=_unpack_id(user) or "",
            methods=_int_to_methods(methods),
            project_id=_unpack_id(project),
            domain_id=_unpack_id(domain),
            system=system,
            expires_at=_dt(exp),
            issued_at=_dt(iat),
            audit_ids=[base64.urlsafe_b64encode(a).decode().rstrip("=") for a in audit],
            application_credential_id=_unpack_id(appcred),
        )
