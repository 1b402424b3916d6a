"""/v3/users/{user_id}/application_credentials, and authenticating with them end to end."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kumo.identity.db.models import ApplicationCredential
from kumo.identity.service.core import Identity
from tests.conftest import ADMIN_PASSWORD, issue, password_auth, unique

TOKENS = "/identity/v3/auth/tokens"


@dataclass
class Login:
    token: str
    user_id: str
    project_id: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}

    @property
    def url(self) -> str:
        return f"/identity/v3/users/{self.user_id}/application_credentials"


def login(client: TestClient, user: str, **scope: Any) -> Login:
    if not scope:
        scope = {"project": user}
    resp = client.post(TOKENS, json=password_auth(user, ADMIN_PASSWORD, **scope))
    assert resp.status_code == 201, resp.text
    body = resp.json()["token"]
    return Login(
        resp.headers["X-Subject-Token"], body["user"]["id"], body.get("project", {}).get("id")
    )


def create(client: TestClient, who: Login, **fields: Any) -> Any:
    fields.setdefault("name", unique("appcred"))
    return client.post(who.url, json={"application_credential": fields}, headers=who.headers)


def app_cred_auth(client: TestClient, **method: Any) -> Any:
    return client.post(
        TOKENS,
        json={
            "auth": {
                "identity": {
                    "methods": ["application_credential"],
                    "application_credential": method,
                }
            }
        },
    )


def validate(client: TestClient, subject: str) -> Any:
    caller = issue(client)
    return client.get(TOKENS, headers={"X-Auth-Token": caller, "X-Subject-Token": subject})


@pytest.fixture
def demo(client: TestClient) -> Login:
    return login(client, "demo")


def test_create_show_list_delete(client: TestClient, demo: Login) -> None:
    resp = create(client, demo, name="backup", description="Nightly backups")
    assert resp.status_code == 201, resp.text
    cred = resp.json()["application_credential"]
    # The generated secret is returned once (Keystone's 64 random bytes, URL-safe).
    assert len(cred["secret"]) == 86
    assert cred["name"] == "backup" and cred["description"] == "Nightly backups"
    assert cred["user_id"] == demo.user_id and cred["project_id"] == demo.project_id
    assert cred["unrestricted"] is False and cred["expires_at"] is None
    assert cred["system"] is None and cred["access_rules"] == []
    # Default roles: all of the token's roles.
    assert {r["name"] for r in cred["roles"]} == {"member", "reader"}
    assert all(r["domain_id"] is None for r in cred["roles"])
    assert cred["links"]["self"] == f"http://127.0.0.1:8780{demo.url}/{cred['id']}"

    shown = client.get(f"{demo.url}/{cred['id']}", headers=demo.headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json()["application_credential"]
    assert shown.json()["application_credential"]["roles"] == cred["roles"]

    other = create(client, demo).json()["application_credential"]
    listed = client.get(demo.url, headers=demo.headers).json()
    assert {c["id"] for c in listed["application_credentials"]} == {cred["id"], other["id"]}
    assert all("secret" not in c for c in listed["application_credentials"])
    by_name = client.get(demo.url, params={"name": "backup"}, headers=demo.headers).json()
    assert [c["id"] for c in by_name["application_credentials"]] == [cred["id"]]

    assert client.delete(f"{demo.url}/{cred['id']}", headers=demo.headers).status_code == 204
    assert client.get(f"{demo.url}/{cred['id']}", headers=demo.headers).status_code == 404
    assert client.delete(f"{demo.url}/{cred['id']}", headers=demo.headers).status_code == 404


def test_secret_is_stored_hashed(client: TestClient, ident: Identity, demo: Login) -> None:
    cred = create(client, demo, secret="my-chosen-secret").json()["application_credential"]
    assert cred["secret"] == "my-chosen-secret"
    with ident.db.reader() as s:
        stored = s.scalars(
            select(ApplicationCredential.secret_hash).where(ApplicationCredential.id == cred["id"])
        ).one()
    assert stored.startswith("$argon2id$") and "my-chosen-secret" not in stored


def test_authenticate_by_id_and_by_name(client: TestClient, demo: Login) -> None:
    cred = create(client, demo, roles=[{"name": "reader"}]).json()["application_credential"]
    assert [r["name"] for r in cred["roles"]] == ["reader"]

    by_id = app_cred_auth(client, id=cred["id"], secret=cred["secret"])
    assert by_id.status_code == 201, by_id.text
    token = by_id.json()["token"]
    assert token["methods"] == ["application_credential"]
    assert token["project"]["id"] == demo.project_id
    # Only the credential's roles, though demo is also a member of the project.
    assert [r["name"] for r in token["roles"]] == ["reader"]
    assert token["application_credential"] == {
        "id": cred["id"],
        "name": cred["name"],
        "restricted": True,
    }

    by_name = app_cred_auth(
        client,
        name=cred["name"],
        secret=cred["secret"],
        user={"name": "demo", "domain": {"id": "default"}},
    )
    assert by_name.status_code == 201, by_name.text
    assert by_name.json()["token"]["project"]["id"] == demo.project_id
    by_user_id = app_cred_auth(
        client, name=cred["name"], secret=cred["secret"], user={"id": demo.user_id}
    )
    assert by_user_id.status_code == 201

    # The token works against the API with just those roles.
    subject = by_id.headers["X-Subject-Token"]
    assert validate(client, subject).json()["token"]["roles"][0]["name"] == "reader"


def test_roles_by_id_bring_their_implied_roles(client: TestClient, demo: Login) -> None:
    member = next(
        r
        for r in create(client, demo).json()["application_credential"]["roles"]
        if r["name"] == "member"
    )
    cred = create(client, demo, roles=[{"id": member["id"]}]).json()["application_credential"]
    assert {r["name"] for r in cred["roles"]} == {"member", "reader"}


def test_wrong_secret_unknown_id_and_missing_fields(client: TestClient, demo: Login) -> None:
    cred = create(client, demo).json()["application_credential"]
    assert app_cred_auth(client, id=cred["id"], secret="wrong").status_code == 401
    assert app_cred_auth(client, id="nope", secret=cred["secret"]).status_code == 401
    resp = app_cred_auth(
        client,
        name=cred["name"],
        secret="wrong",
        user={"name": "demo", "domain": {"id": "default"}},
    )
    assert resp.status_code == 401
    assert "WWW-Authenticate" in resp.headers
    # A name without its user cannot be resolved.
    assert app_cred_auth(client, name=cred["name"], secret=cred["secret"]).status_code == 400


def test_expired_credential_is_401(client: TestClient, ident: Identity, demo: Login) -> None:
    now = dt.datetime.now(dt.UTC)
    expires = (now + dt.timedelta(minutes=10)).replace(tzinfo=None)
    resp = create(client, demo, expires_at=expires.isoformat())
    assert resp.status_code == 201, resp.text
    cred = resp.json()["application_credential"]
    # Keystone's format, which tempest compares with isoformat() of a naive UTC time.
    assert cred["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%S.%f")
    ok = app_cred_auth(client, id=cred["id"], secret=cred["secret"])
    assert ok.status_code == 201
    # Its tokens never outlive it.
    assert ok.json()["token"]["expires_at"] <= expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    ident.clock = lambda: now + dt.timedelta(minutes=11)
    assert app_cred_auth(client, id=cred["id"], secret=cred["secret"]).status_code == 401


@pytest.mark.parametrize(
    "expires_at",
    [
        "next tuesday",
        "2001-01-01T00:00:00Z",
        "1999-12-31T23:59:59",
        "",
        "2030-13-01T00:00:00",
    ],
)
def test_bad_expiry_is_400(client: TestClient, demo: Login, expires_at: str) -> None:
    resp = create(client, demo, expires_at=expires_at)
    # "" means "no expiry" to Keystone (falsy), the rest are 400.
    if expires_at == "":
        assert resp.status_code == 201
        assert resp.json()["application_credential"]["expires_at"] is None
    else:
        assert resp.status_code == 400, resp.text


def test_expiry_with_offset_is_stored_in_utc(client: TestClient, demo: Login) -> None:
    resp = create(client, demo, expires_at="2099-06-01T12:00:00+02:00")
    assert resp.status_code == 201
    assert resp.json()["application_credential"]["expires_at"] == "2099-06-01T10:00:00.000000"


def test_delete_revokes_its_tokens(client: TestClient, demo: Login) -> None:
    cred = create(client, demo).json()["application_credential"]
    token = app_cred_auth(client, id=cred["id"], secret=cred["secret"]).headers["X-Subject-Token"]
    assert validate(client, token).status_code == 200
    assert client.delete(f"{demo.url}/{cred['id']}", headers=demo.headers).status_code == 204
    assert validate(client, token).status_code == 404
    assert client.get(demo.url, headers={"X-Auth-Token": token}).status_code == 401
    assert app_cred_auth(client, id=cred["id"], secret=cred["secret"]).status_code == 401


def test_restricted_credential_cannot_manage_credentials(client: TestClient, demo: Login) -> None:
    cred = create(client, demo).json()["application_credential"]
    token = app_cred_auth(client, id=cred["id"], secret=cred["secret"]).headers["X-Subject-Token"]
    via = Login(token, demo.user_id, demo.project_id)
    resp = create(client, via)
    assert resp.status_code == 403, resp.text
    assert client.delete(f"{demo.url}/{cred['id']}", headers=via.headers).status_code == 403
    # Reading is allowed.
    assert client.get(demo.url, headers=via.headers).status_code == 200


def test_unrestricted_credential_may_create_within_its_roles(
    client: TestClient, demo: Login
) -> None:
    cred = create(client, demo, unrestricted=True, roles=[{"name": "reader"}]).json()[
        "application_credential"
    ]
    assert cred["unrestricted"] is True
    auth = app_cred_auth(client, id=cred["id"], secret=cred["secret"])
    body = auth.json()["token"]
    # Unrestricted does not widen the token's roles.
    assert [r["name"] for r in body["roles"]] == ["reader"]
    assert body["application_credential"]["restricted"] is False
    via = Login(auth.headers["X-Subject-Token"], demo.user_id, demo.project_id)
    child = create(client, via)
    assert child.status_code == 201, child.text
    assert [r["name"] for r in child.json()["application_credential"]["roles"]] == ["reader"]
    # Not beyond them: member is demo's, but not this token's.
    assert create(client, via, roles=[{"name": "member"}]).status_code == 400


def test_duplicate_name_is_409(client: TestClient, demo: Login) -> None:
    assert create(client, demo, name="dup").status_code == 201
    resp = create(client, demo, name="dup")
    assert resp.status_code == 409
    # Another user may reuse the name.
    assert create(client, login(client, "alt_demo"), name="dup").status_code == 201


def test_roles_must_be_held_by_the_token(client: TestClient, demo: Login) -> None:
    admin_role = client.get(
        "/identity/v3/roles", params={"name": "admin"}, headers={"X-Auth-Token": issue(client)}
    ).json()["roles"][0]
    assert create(client, demo, roles=[{"id": admin_role["id"]}]).status_code == 400
    assert create(client, demo, roles=[{"name": "admin"}]).status_code == 400
    assert create(client, demo, roles=[{"id": "no-such-role"}]).status_code == 400
    assert create(client, demo, roles=[{"name": "no-such-role"}]).status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "   "},
        {"name": 5},
        {"description": "no name"},
        {"name": "x", "unknown": 1},
        {"name": "x", "unrestricted": "yes"},
        {"name": "x", "roles": [{}]},
        {"name": "x", "roles": [{"id": "a", "name": "b"}]},
        {"name": "x", "roles": [{"id": "a", "extra": 1}]},
        {"name": "x", "roles": "reader"},
        {"name": "x", "expires_at": 12},
        {
            "name": "x",
            "access_rules": [{"service": "compute", "path": "no-slash", "method": "GET"}],
        },
        {"name": "x", "access_rules": [{"service": "compute", "path": "/x", "method": "FETCH"}]},
        {"name": "x", "access_rules": [{"service": "compute"}]},
    ],
)
def test_bad_input_is_400(client: TestClient, demo: Login, fields: dict[str, Any]) -> None:
    resp = client.post(demo.url, json={"application_credential": fields}, headers=demo.headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == 400


def test_access_rules_are_stored_and_shared(client: TestClient, demo: Login) -> None:
    rule = {"service": "compute", "path": "/v2.1/servers/*/ips", "method": "GET"}
    first = create(client, demo, access_rules=[rule]).json()["application_credential"]
    stored = first["access_rules"][0]
    assert {k: stored[k] for k in rule} == rule and stored["id"]
    # The same rule again, or named by id, is the same rule.
    second = create(client, demo, access_rules=[rule]).json()["application_credential"]
    third = create(client, demo, access_rules=[{"id": stored["id"]}]).json()[
        "application_credential"
    ]
    assert second["access_rules"] == [stored] == third["access_rules"]


def test_only_for_oneself(client: TestClient, demo: Login) -> None:
    alt = login(client, "alt_demo")
    theirs = create(client, alt).json()["application_credential"]
    mine = create(client, demo).json()["application_credential"]
    # Creating, listing, showing, deleting another user's: 403.
    foreign = Login(demo.token, alt.user_id, demo.project_id)
    assert create(client, foreign).status_code == 403
    assert client.get(alt.url, headers=demo.headers).status_code == 403
    assert client.get(f"{alt.url}/{theirs['id']}", headers=demo.headers).status_code == 403
    assert client.delete(f"{alt.url}/{theirs['id']}", headers=demo.headers).status_code == 403
    # Putting one's own id in the path does not reach someone else's credential.
    assert client.get(f"{demo.url}/{theirs['id']}", headers=demo.headers).status_code == 403
    assert client.delete(f"{demo.url}/{theirs['id']}", headers=demo.headers).status_code == 403
    # An admin may read and delete, but the path must name the owner.
    admin = {"X-Auth-Token": issue(client)}
    assert client.get(f"{alt.url}/{theirs['id']}", headers=admin).status_code == 200
    assert client.get(f"{alt.url}/{mine['id']}", headers=admin).status_code == 404
    assert client.delete(f"{alt.url}/{theirs['id']}", headers=admin).status_code == 204
    # Even an admin cannot create one for somebody else.
    assert create(client, Login(issue(client), alt.user_id, None)).status_code == 403


def test_needs_a_project_scoped_token(client: TestClient, demo: Login) -> None:
    unscoped = client.post(TOKENS, json=password_auth("demo", ADMIN_PASSWORD))
    assert unscoped.status_code == 201 and "project" not in unscoped.json()["token"]
    who = Login(unscoped.headers["X-Subject-Token"], demo.user_id, None)
    assert create(client, who).status_code == 403


def test_update_is_not_allowed(client: TestClient, demo: Login) -> None:
    cred = create(client, demo).json()["application_credential"]
    resp = client.patch(
        f"{demo.url}/{cred['id']}",
        json={"application_credential": {"description": "new"}},
        headers=demo.headers,
    )
    assert resp.status_code == 405


def test_deleting_user_deletes_and_revokes(client: TestClient) -> None:
    admin = {"X-Auth-Token": issue(client)}
    name = unique("owner")
    user = client.post(
        "/identity/v3/users",
        headers=admin,
        json={"user": {"name": name, "domain_id": "default", "password": ADMIN_PASSWORD}},
    ).json()["user"]
    project = client.get("/identity/v3/projects", params={"name": "demo"}, headers=admin).json()[
        "projects"
    ][0]
    reader = client.get("/identity/v3/roles", params={"name": "reader"}, headers=admin).json()[
        "roles"
    ][0]
    grant = f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{reader['id']}"
    assert client.put(grant, headers=admin).status_code == 204
    owner = login(client, name, project="demo")
    cred = create(client, owner).json()["application_credential"]
    token = app_cred_auth(client, id=cred["id"], secret=cred["secret"]).headers["X-Subject-Token"]
    assert client.delete(f"/identity/v3/users/{user['id']}", headers=admin).status_code == 204
    assert validate(client, token).status_code == 404
    assert app_cred_auth(client, id=cred["id"], secret=cred["secret"]).status_code == 401
