"""A revoked token stops working at once, on every service, even when it was cached.

The services validate tokens in-process with a per-process cache keyed by the
identity revision; the revocation must bump that revision before the 204 goes
out, and no request may reuse a revision read by an earlier request.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import issue
from tests.security.helpers import PREFIXES, protected_get

TOKENS = "/identity/v3/auth/tokens"
ROUNDS = 8


def _urls() -> list[tuple[str, str]]:
    urls = []
    for prefix in PREFIXES:
        try:
            urls.append((prefix, protected_get(prefix).url()))
        except pytest.skip.Exception:
            continue
    return urls


def test_revoked_token_is_refused_at_once_everywhere(cloud: TestClient) -> None:
    urls = _urls()
    assert urls
    for _ in range(ROUNDS):
        token = issue(cloud)
        # Warm every service's path (and the shared token cache) with the good token.
        for prefix, url in urls:
            resp = cloud.get(url, headers={"X-Auth-Token": token})
            assert resp.status_code != 401, (prefix, resp.text)
        resp = cloud.delete(TOKENS, headers={"X-Auth-Token": token, "X-Subject-Token": token})
        assert resp.status_code == 204, resp.text
        for prefix, url in urls:
            resp = cloud.get(url, headers={"X-Auth-Token": token})
            assert resp.status_code == 401, (prefix, url, resp.text)


def test_token_revoked_by_another_token_is_refused_at_once(cloud: TestClient) -> None:
    """An admin revokes someone's token: the very next call with it gets 401."""
    urls = _urls()
    admin = issue(cloud)
    for _ in range(ROUNDS):
        token = issue(cloud, "demo")
        for prefix, url in urls:
            resp = cloud.get(url, headers={"X-Auth-Token": token})
            assert resp.status_code != 401, (prefix, resp.text)
        resp = cloud.delete(TOKENS, headers={"X-Auth-Token": admin, "X-Subject-Token": token})
        assert resp.status_code == 204, resp.text
        for prefix, url in urls:
            resp = cloud.get(url, headers={"X-Auth-Token": token})
            assert resp.status_code == 401, (prefix, url, resp.text)
