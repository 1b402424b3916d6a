"""Passwords and tokens never reach the logs.

A representative run through the whole API (logins with the admin and the
service password, a failed login, a user created and its password changed,
tokens validated and revoked, bad requests carrying secrets) is captured at
DEBUG level from every logger, then every secret it used is searched for in
the formatted messages, their arguments and any traceback text.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, SERVICE_PASSWORD, issue, password_auth, unique

TOKENS = "/identity/v3/auth/tokens"


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), record.exc_text or ""]
    return "\n".join(parts)


def test_no_secret_reaches_the_logs(cloud: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin = issue(cloud)
    service = issue(cloud, "kumo", SERVICE_PASSWORD, project="service")
    demo = issue(cloud, "demo")
    secrets = {"admin password": ADMIN_PASSWORD, "service password": SERVICE_PASSWORD}
    secrets |= {"admin token": admin, "service token": service, "demo token": demo}

    wrong = password_auth("admin", "not-the-" + ADMIN_PASSWORD, project="admin")
    assert cloud.post(TOKENS, json=wrong).status_code == 401

    h = {"X-Auth-Token": admin}
    first, second = unique("first-pw"), unique("second-pw")
    secrets |= {"new user's password": first, "changed password": second}
    body = {"user": {"name": unique("u"), "password": first, "domain_id": "default"}}
    made = cloud.post("/identity/v3/users", json=body, headers=h)
    assert made.status_code == 201, made.text
    uid = made.json()["user"]["id"]
    change = {"user": {"original_password": first, "password": second}}
    resp = cloud.post(f"/identity/v3/users/{uid}/password", json=change)
    assert resp.status_code == 204, resp.text
    # A malformed body holding a secret: the refusal must not echo it into the logs.
    bad = {"auth": {"identity": {"methods": ["password"], "password": {"user": second}}}}
    assert 400 <= cloud.post(TOKENS, json=bad).status_code < 500

    for subject in (demo, service):
        resp = cloud.get(TOKENS, headers={"X-Auth-Token": admin, "X-Subject-Token": subject})
        assert resp.status_code == 200, resp.text
    assert cloud.delete(TOKENS, headers=h | {"X-Subject-Token": demo}).status_code == 204
    assert cloud.get("/identity/v3/projects", headers={"X-Auth-Token": demo}).status_code == 401
    for prefix in ("/compute", "/image", "/networking", "/placement"):
        cloud.get(f"{prefix}/", headers={"X-Auth-Token": service})

    logged = _everything_logged(caplog)
    assert len(caplog.records) > 10, "the run logged nothing: is logging captured?"
    leaked = [name for name, secret in secrets.items() if secret in logged]
    assert not leaked, f"secrets found in the logs: {leaked}"
