"""Key pairs: import (validated, fingerprinted) or generate, per user."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.db import utcnow
from kumo.common.errors import BadRequest, Conflict, NotFound
from kumo.compute.db.keypairs import KeyPair
from kumo.compute.service import quotas

#: The comment Nova puts on the public keys it generates.
GENERATED_COMMENT = "Generated-by-Nova"


def not_found(name: str, user_id: str) -> NotFound:
    """Nova's KeypairNotFound."""
    return NotFound(f"Keypair {name} not found for user {user_id}")


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def ssh_fingerprint(public_key: str) -> str:
    """Nova's fingerprint of an SSH public key: MD5 of the key blob, colon hex.

    The key must parse as an OpenSSH public key (ssh-rsa, ssh-ed25519, ecdsa-…);
    otherwise 400 with Nova's message.
    """
    text = public_key.strip()
    try:
        serialization.load_ssh_public_key(text.encode())
        blob = base64.b64decode(text.split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from exc
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate: str) -> str:
    """Nova's fingerprint of an x509 certificate: SHA-1 of the DER form, colon hex."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError as exc:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from exc
    return _colon_hex(cert.fingerprint(hashes.SHA1()))  # noqa: S303 (Nova's format)


def generate_ssh_key() -> tuple[str, str]:
    """A new RSA key: (private key PEM, OpenSSH public key), as Nova generates them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, f"{public} {GENERATED_COMMENT}"


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    if len(data) < 128:
        return bytes([0x0C, len(data)]) + data
    size = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(size)]) + size + data


def generate_x509(user_id: str) -> tuple[str, str]:
    """A new client certificate for WinRM, as Nova makes one: (base64 PKCS#12, PEM cert).

    Subject ``CN=<user_id>``, ten years, client-auth usage and the UPN
    ``<user_id>@localhost`` as a subject alternative name.
    """
    import datetime as dt

    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    now = dt.datetime.now(dt.UTC)
    upn = x509.OtherName(
        ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), _der_utf8(f"{user_id}@localhost")
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([upn]), critical=False)
        .sign(key, hashes.SHA256())
    )
    bundle = pkcs12.serialize_key_and_certificates(
        None, key, cert, None, serialization.NoEncryption()
    )
    return base64.b64encode(bundle).decode(), cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Created:
    """A new key pair and, when Kumo generated it, its private key (shown once)."""

    keypair: KeyPair
    private_key: str | None


def create_keypair(
    s: Session,
    *,
    user_id: str,
    project_id: str,
    name: str,
    key_type: str = "ssh",
    public_key: str | None = None,
) -> Created:
    """Import ``public_key`` or generate a key pair for ``user_id``.

    403 beyond the ``key_pairs`` quota, 409 when the name is taken, 400 for a key
    that does not parse.
    """
    quotas.check_deltas(
        s, project_id, user_id, {"key_pairs": 1}, message="Quota exceeded, too many key pairs."
    )
    private_key: str | None = None
    if public_key is None:
        if key_type == "x509":
            private_key, public_key = generate_x509(user_id)
        else:
            private_key, public_key = generate_ssh_key()
    if key_type == "x509":
        fingerprint = x509_fingerprint(public_key)
    else:
        fingerprint = ssh_fingerprint(public_key)
    exists = s.scalar(select(KeyPair.id).where(KeyPair.user_id == user_id, KeyPair.name == name))
    if exists is not None:
        raise Conflict(f"Key pair '{name}' already exists.")
    keypair = KeyPair(
        user_id=user_id,
        name=name,
        fingerprint=fingerprint,
        public_key=public_key,
        type=key_type,
        created_at=utcnow(),
    )
    s.add(keypair)
    try:
        s.flush()
    except IntegrityError as exc:  # a concurrent create of the same name
        raise Conflict(f"Key pair '{name}' already exists.") from exc
    return Created(keypair, private_key)


def get_keypair(s: Session, user_id: str, name: str) -> KeyPair:
    """A user's key pair by name (404 with Nova's message)."""
    found = s.scalar(select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == name))
    if found is None:
        raise not_found(name, user_id)
    return found


def list_keypairs(
    s: Session, user_id: str, *, marker: str | None = None, limit: int | None = None
) -> list[KeyPair]:
    """A user's key pairs by name, after ``marker`` (a name), at most ``limit``."""
    stmt = select(KeyPair).where(KeyPair.user_id == user_id).order_by(KeyPair.name)
    if marker is not None:
        get_keypair_marker(s, user_id, marker)
        stmt = stmt.where(KeyPair.name > marker)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(s.scalars(stmt))


def get_keypair_marker(s: Session, user_id: str, marker: str) -> None:
    """400 unless ``marker`` names one of the user's key pairs (Nova's MarkerNotFound)."""
    found = s.scalar(select(KeyPair.id).where(KeyPair.user_id == user_id, KeyPair.name == marker))
    if found is None:
        raise BadRequest(f"Marker {marker} could not be found.")


def delete_keypair(s: Session, user_id: str, name: str) -> None:
    """Delete a user's key pair."""
    s.delete(get_keypair(s, user_id, name))


def key_data(s: Session, user_id: str, name: str) -> tuple[str, str, str]:
    """(public key, fingerprint, type) for injecting a key into a server."""
    found = get_keypair(s, user_id, name)
    return found.public_key, found.fingerprint, found.type
