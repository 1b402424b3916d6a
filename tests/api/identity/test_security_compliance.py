"""Keystone's [security_compliance] options: lockout, password expiry, password history;
and secrets never reach the logs."""

import datetime as dt
import logging

import pytest
from fastapi.testclient import TestClient

from kumo.identity.service.core import Identity
from tests.conftest import ADMIN_PASSWORD, password_auth, unique

TOKENS = "/identity/v3/auth/tokens"


def _new_user(admin: TestClient, password: str) -> dict[str, str]:
    name = unique("sec")
    user: dict[str, str] = admin.post(
        "/identity/v3/users", json={"user": {"name": name, "password": password}}
    ).json()["user"]
    return user


def test_lockout_after_failed_attempts(
    admin: TestClient, client: TestClient, ident: Identity
) -> None:
    ident.settings.lockout_failure_attempts = 3
    ident.settings.lockout_duration = 600
    user = _new_user(admin, "right-pw")
    for _ in range(3):
        assert client.post(TOKENS, json=password_auth(user["name"], "wrong")).status_code == 401
    locked = client.post(TOKENS, json=password_auth(user["name"], "right-pw"))
    assert locked.status_code == 401
    assert "locked" in locked.json()["error"]["message"]
    # After the lockout duration, the right password works again and resets the count.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=601)
    ident.clock = lambda: later
    assert client.post(TOKENS, json=password_auth(user["name"], "right-pw")).status_code == 201


def test_lockout_is_off_by_default(admin: TestClient, client: TestClient) -> None:
    user = _new_user(admin, "right-pw")
    for _ in range(6):
        client.post(TOKENS, json=password_auth(user["name"], "wrong"))
    assert client.post(TOKENS, json=password_auth(user["name"], "right-pw")).status_code == 201


def test_password_expiry(admin: TestClient, client: TestClient, ident: Identity) -> None:
    ident.settings.password_expires_days = 1
    user = _new_user(admin, "expiring-pw")
    assert user["password_expires_at"] is not None
    assert client.post(TOKENS, json=password_auth(user["name"], "expiring-pw")).status_code == 201
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    ident.clock = lambda: later
    resp = client.post(TOKENS, json=password_auth(user["name"], "expiring-pw"))
    assert resp.status_code == 401
    assert "expired" in resp.json()["error"]["message"]


def test_unique_last_passwords(admin: TestClient, client: TestClient, ident: Identity) -> None:
    ident.settings.unique_last_password_count = 2
    user = _new_user(admin, "first-pw")
    url = f"/identity/v3/users/{user['id']}/password"
    assert (
        client.post(
            url, json={"user": {"original_password": "first-pw", "password": "second-pw"}}
        ).status_code
        == 204
    )
    again = client.post(
        url, json={"user": {"original_password": "second-pw", "password": "first-pw"}}
    )
    assert again.status_code == 400
    # An admin's reset is not held to the history (Keystone's rule).
    reset = admin.patch(f"/identity/v3/users/{user['id']}", json={"user": {"password": "first-pw"}})
    assert reset.status_code == 200


def test_no_secret_in_logs(
    client: TestClient, admin: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_pw = "s3cr3t-do-not-log"
    user = _new_user(admin, secret_pw)
    resp = client.post(TOKENS, json=password_auth(user["name"], secret_pw))
    token = resp.headers["X-Subject-Token"]
    client.post(TOKENS, json=password_auth(user["name"], secret_pw + "-wrong"))
    client.get("/identity/v3/users", headers={"X-Auth-Token": token})
    text = caplog.text
    assert "POST /identity/v3/auth/tokens" in text  # the requests were logged…
    for secret in (secret_pw, token, ADMIN_PASSWORD):
        assert secret not in text  # …but never their secrets
