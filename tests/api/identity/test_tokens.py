"""POST/GET/HEAD/DELETE /v3/auth/tokens and /v3/auth/*, as the API reference describes."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from kumo.identity.service.core import Identity
from tests.conftest import ADMIN_PASSWORD, issue, password_auth

TOKENS = "/identity/v3/auth/tokens"


def validate(client: TestClient, caller: str, subject: str, **params: str):  # type: ignore[no-untyped-def]
    return client.get(
        TOKENS, params=params, headers={"X-Auth-Token": caller, "X-Subject-Token": subject}
    )


def test_password_by_name_and_domain_project_scope(client: TestClient) -> None:
    resp = client.post(TOKENS, json=password_auth("demo", ADMIN_PASSWORD, project="demo"))
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == "demo"
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["project"]["name"] == "demo"
    assert token["project"]["domain"]["id"] == "default"
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}
    assert len(token["audit_ids"]) == 1
    assert token["expires_at"].endswith("Z")
    assert token["catalog"]


def test_password_by_user_id_unscoped(client: TestClient, admin: TestClient) -> None:
    user_id = admin.get("/identity/v3/users", params={"name": "demo"}).json()["users"][0]["id"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"id": user_id, "password": ADMIN_PASSWORD}},
            }
        }
    }
    resp = client.post(TOKENS, json=body, headers={"X-Auth-Token": ""})
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert "project" not in token and "roles" not in token and "catalog" not in token


def test_domain_and_system_scope(client: TestClient) -> None:
    resp = client.post(TOKENS, json=password_auth("admin", ADMIN_PASSWORD, domain="default"))
    assert resp.status_code == 201
    assert resp.json()["token"]["domain"] == {"id": "default", "name": "Default"}
    resp = client.post(TOKENS, json=password_auth("admin", ADMIN_PASSWORD, system=True))
    assert resp.status_code == 201
    assert resp.json()["token"]["system"] == {"all": True}
    assert "admin" in {r["name"] for r in resp.json()["token"]["roles"]}
    # demo holds no role on the system or the domain: 401, as Keystone.
    assert (
        client.post(TOKENS, json=password_auth("demo", ADMIN_PASSWORD, system=True)).status_code
        == 401
    )
    assert (
        client.post(
            TOKENS, json=password_auth("demo", ADMIN_PASSWORD, domain="default")
        ).status_code
        == 401
    )


def test_wrong_password_and_unknown_user_are_401_with_header(client: TestClient) -> None:
    for user, pw in (("demo", "wrong"), ("nobody", ADMIN_PASSWORD)):
        resp = client.post(TOKENS, json=password_auth(user, pw, project="demo"))
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == 401
        assert resp.json()["error"]["title"] == "Unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith('Keystone uri="http://')


def test_no_role_on_project_is_401(client: TestClient) -> None:
    resp = client.post(TOKENS, json=password_auth("demo", ADMIN_PASSWORD, project="alt_demo"))
    assert resp.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"auth": {}}',
        b'{"auth": {"identity": {"methods": []}}}',
        b'{"auth": {"identity": {"methods": ["password"]}}}',
        b'{"auth": {"identity": {"methods": ["password"], "password": {"user": "x"}}}}',
        b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", '
        b'"password": "x"}}}}}',
        b"[]",
    ],
)
def test_malformed_auth_requests_are_400(client: TestClient, body: bytes) -> None:
    resp = client.post(TOKENS, content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == 400


def test_unknown_method_is_401(client: TestClient) -> None:
    body = {"auth": {"identity": {"methods": ["kerberos"], "kerberos": {}}}}
    assert client.post(TOKENS, json=body).status_code == 401


def test_token_method_rescopes_and_keeps_expiry_and_audit_chain(client: TestClient) -> None:
    unscoped = client.post(TOKENS, json=password_auth("admin", ADMIN_PASSWORD))
    first = unscoped.json()["token"]
    body = {
        "auth": {
            "identity": {
                "methods": ["token"],
                "token": {"id": unscoped.headers["X-Subject-Token"]},
            },
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}},
        }
    }
    resp = client.post(TOKENS, json=body)
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert set(token["methods"]) == {"password", "token"}
    assert token["project"]["name"] == "demo"
    assert token["expires_at"] == first["expires_at"]
    assert token["audit_ids"][1] == first["audit_ids"][0]


def test_validate_check_revoke(client: TestClient, admin_token: str) -> None:
    subject = issue(client, "demo", project="demo")
    assert validate(client, admin_token, subject).headers["X-Subject-Token"] == subject
    head = client.head(TOKENS, headers={"X-Auth-Token": admin_token, "X-Subject-Token": subject})
    assert head.status_code == 200
    nocat = validate(client, admin_token, subject, nocatalog="")
    assert "catalog" not in nocat.json()["token"]
    # A user may validate and revoke their own token.
    assert validate(client, subject, subject).status_code == 200
    resp = client.delete(TOKENS, headers={"X-Auth-Token": admin_token, "X-Subject-Token": subject})
    assert resp.status_code == 204
    assert validate(client, admin_token, subject).status_code == 404
    assert (
        client.head(
            TOKENS, headers={"X-Auth-Token": admin_token, "X-Subject-Token": subject}
        ).status_code
        == 404
    )
    # A revoked token cannot be exchanged for another (404, as Keystone answers)…
    rescope = {"auth": {"identity": {"methods": ["token"], "token": {"id": subject}}}}
    assert client.post(TOKENS, json=rescope).status_code == 404
    # …and no longer authenticates anything.
    assert (
        client.get("/identity/v3/auth/projects", headers={"X-Auth-Token": subject}).status_code
        == 401
    )


def test_member_cannot_validate_someone_elses_token(client: TestClient, admin_token: str) -> None:
    demo = issue(client, "demo", project="demo")
    resp = validate(client, demo, admin_token)
    assert resp.status_code == 403
    assert resp.json()["error"]["title"] == "Forbidden"


def test_missing_or_garbage_tokens(client: TestClient, admin_token: str) -> None:
    assert client.get(TOKENS, headers={"X-Auth-Token": admin_token}).status_code == 400
    assert validate(client, admin_token, "garbage").status_code == 404
    tampered = admin_token[:-6] + ("AAAAAA" if not admin_token.endswith("AAAAAA") else "BBBBBB")
    assert validate(client, admin_token, tampered).status_code == 404
    assert client.get("/identity/v3/users", headers={"X-Auth-Token": tampered}).status_code == 401
    assert client.get("/identity/v3/users").status_code == 401


def test_expired_token(client: TestClient, ident: Identity, admin_token: str) -> None:
    subject = issue(client, "demo", project="demo")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ident.settings.token_expiration + 5)
    ident.clock = lambda: later
    assert client.get("/identity/v3/users", headers={"X-Auth-Token": subject}).status_code == 401
    # A service may still validate it with allow_expired (within the window).
    admin_again = issue(client)
    assert validate(client, admin_again, subject).status_code == 404
    assert validate(client, admin_again, subject, allow_expired="1").status_code == 200
    del admin_token


def test_rotated_keys_still_validate_and_unknown_keys_do_not(
    client: TestClient, ident: Identity
) -> None:
    old = issue(client)
    ident.token_keys.rotate()
    ident._sealer = None  # the server checks the key directory once a second
    new = issue(client)
    assert validate(client, new, old).status_code == 200
    for _ in range(ident.settings.fernet_max_active_keys):
        ident.token_keys.rotate()
    ident._sealer = None
    fresh = issue(client)
    assert validate(client, fresh, old).status_code == 404


def test_disabling_user_revokes_tokens(
    client: TestClient, admin: TestClient, admin_token: str
) -> None:
    subject = issue(client, "demo", project="demo")
    demo_id = admin.get("/identity/v3/users", params={"name": "demo"}).json()["users"][0]["id"]
    assert (
        admin.patch(f"/identity/v3/users/{demo_id}", json={"user": {"enabled": False}}).status_code
        == 200
    )
    assert validate(client, admin_token, subject).status_code == 404
    assert (
        client.post(TOKENS, json=password_auth("demo", ADMIN_PASSWORD, project="demo")).status_code
        == 401
    )


def test_disabling_project_revokes_tokens(
    client: TestClient, admin: TestClient, admin_token: str
) -> None:
    subject = issue(client, "demo", project="demo")
    demo = admin.get("/identity/v3/projects", params={"name": "demo"}).json()["projects"][0]
    assert (
        admin.patch(
            f"/identity/v3/projects/{demo['id']}", json={"project": {"enabled": False}}
        ).status_code
        == 200
    )
    assert validate(client, admin_token, subject).status_code == 404


def test_auth_projects_domains_system_catalog(client: TestClient) -> None:
    token = issue(client)
    headers = {"X-Auth-Token": token}
    names = {
        p["name"]
        for p in client.get("/identity/v3/auth/projects", headers=headers).json()["projects"]
    }
    assert names == {"admin", "demo", "alt_demo"}
    domains = client.get("/identity/v3/auth/domains", headers=headers).json()["domains"]
    assert [d["id"] for d in domains] == ["default"]
    assert client.get("/identity/v3/auth/system", headers=headers).json()["system"] == [
        {"all": True}
    ]
    catalog = client.get("/identity/v3/auth/catalog", headers=headers).json()["catalog"]
    identity = next(s for s in catalog if s["type"] == "identity")
    assert identity["endpoints"][0]["url"] == "http://127.0.0.1:8780/identity"
    demo = {"X-Auth-Token": issue(client, "demo", project="demo")}
    assert client.get("/identity/v3/auth/system", headers=demo).json()["system"] == []
    unscoped = client.post(TOKENS, json=password_auth("demo", ADMIN_PASSWORD))
    resp = client.get(
        "/identity/v3/auth/catalog", headers={"X-Auth-Token": unscoped.headers["X-Subject-Token"]}
    )
    assert resp.status_code == 403
