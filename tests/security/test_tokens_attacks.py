"""Every service refuses tokens it must not honour: expired, revoked, tampered, foreign.

One token-protected GET per service (picked from the route table, so a service is
covered as soon as it serves one) gets each bad token and must answer 401 in the
service's own error format; the same call with a good token must get past
authentication, which shows the refusal is about the token and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kumo.identity.service.core import Identity
from kumo.identity.service.keys import KeyRepository
from kumo.identity.service.tokens import TokenSealer
from tests.conftest import issue
from tests.security.helpers import PREFIXES, protected_get
from tools.fuzz.routes import error_format_problem

TOKENS = "/identity/v3/auth/tokens"


def expired(cloud: TestClient, ident: Identity, tmp_path: Path) -> str:
    """A genuine token, resealed with the real key but an expiry an hour ago."""
    payload = ident.sealer.open(issue(cloud))
    payload.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    payload.issued_at = payload.expires_at - dt.timedelta(hours=1)
    return ident.sealer.seal(payload)


def revoked(cloud: TestClient, ident: Identity, tmp_path: Path) -> str:
    """A token revoked with DELETE /v3/auth/tokens."""
    token = issue(cloud)
    resp = cloud.delete(TOKENS, headers={"X-Auth-Token": token, "X-Subject-Token": token})
    assert resp.status_code == 204, resp.text
    return token


def tampered(cloud: TestClient, ident: Identity, tmp_path: Path) -> str:
    """A genuine token with one character of its ciphertext changed."""
    token = issue(cloud)
    middle = len(token) // 2
    flipped = "B" if token[middle] != "B" else "C"
    return token[:middle] + flipped + token[middle + 1 :]


def wrong_key(cloud: TestClient, ident: Identity, tmp_path: Path) -> str:
    """A well-formed token for a real user, sealed with another key repository."""
    repo = KeyRepository(tmp_path / "someone-elses-keys")
    repo.setup()
    payload = ident.sealer.open(issue(cloud))
    return TokenSealer(repo.fernet()).seal(payload)


def garbage(cloud: TestClient, ident: Identity, tmp_path: Path) -> str:
    """Not a token at all."""
    return "gAAAAA-not-a-token"


MAKERS: dict[str, Callable[[TestClient, Identity, Path], str]] = {
    "expired": expired,
    "revoked": revoked,
    "tampered": tampered,
    "wrong_key": wrong_key,
    "garbage": garbage,
}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("kind", list(MAKERS))
def test_bad_token_is_refused_by_every_service(
    cloud: TestClient, ident: Identity, tmp_path: Path, prefix: str, kind: str
) -> None:
    op = protected_get(prefix)
    url = op.url()
    good = cloud.get(url, headers={"X-Auth-Token": issue(cloud)})
    assert good.status_code != 401, (op.label, good.text)
    bad = MAKERS[kind](cloud, ident, tmp_path)
    resp = cloud.get(url, headers={"X-Auth-Token": bad})
    assert resp.status_code == 401, (op.label, kind, resp.text)
    assert error_format_problem(prefix, 401, resp.content) is None, resp.text


@pytest.mark.parametrize("prefix", PREFIXES)
def test_missing_token_is_refused_by_every_service(cloud: TestClient, prefix: str) -> None:
    op = protected_get(prefix)
    resp = cloud.get(op.url())
    assert resp.status_code == 401, (op.label, resp.text)
    assert error_format_problem(prefix, 401, resp.content) is None, resp.text


def test_expired_token_is_refused_as_subject_too(cloud: TestClient, ident: Identity) -> None:
    """Keystone's own validation call says 404 for a subject token that has expired."""
    admin = issue(cloud)
    subject = expired(cloud, ident, Path())
    resp = cloud.get(TOKENS, headers={"X-Auth-Token": admin, "X-Subject-Token": subject})
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"]["code"] == 404
