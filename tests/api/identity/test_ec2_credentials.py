"""/v3/users/{user_id}/credentials/OS-EC2, as the API reference and tempest's
identity.v3.test_ec2_credentials describe it (a user managing their own keys)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kumo.identity.db.models import Credential
from kumo.identity.service.core import Identity
from tests.conftest import ADMIN_PASSWORD, issue, password_auth, unique

BASE = "http://127.0.0.1:8780/identity/v3"


@dataclass
class Login:
    token: str
    user_id: str
    project_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}

    @property
    def url(self) -> str:
        return f"/identity/v3/users/{self.user_id}/credentials/OS-EC2"


def login(client: TestClient, user: str, project: str | None = None) -> Login:
    resp = client.post(
        "/identity/v3/auth/tokens",
        json=password_auth(user, ADMIN_PASSWORD, project=project or user),
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()["token"]
    return Login(resp.headers["X-Subject-Token"], body["user"]["id"], body["project"]["id"])


def create(client: TestClient, who: Login, tenant_id: Any = None, url: str | None = None) -> Any:
    body = {"tenant_id": who.project_id if tenant_id is None else tenant_id}
    return client.post(url or who.url, json=body, headers=who.headers)


@pytest.fixture
def demo(client: TestClient) -> Login:
    return login(client, "demo")


@pytest.fixture
def alt(client: TestClient) -> Login:
    return login(client, "alt_demo")


@pytest.fixture
def admin_login(client: TestClient) -> Login:
    return login(client, "admin")


def test_create_show_list_delete_own(client: TestClient, demo: Login) -> None:
    resp = create(client, demo)
    assert resp.status_code == 201, resp.text
    cred = resp.json()["credential"]
    assert set(cred) == {"user_id", "tenant_id", "access", "secret", "trust_id", "links"}
    assert cred["user_id"] == demo.user_id and cred["tenant_id"] == demo.project_id
    assert len(cred["access"]) == 32 and len(cred["secret"]) == 32
    assert cred["access"] != cred["secret"] and cred["trust_id"] is None
    assert cred["links"]["self"] == (
        f"{BASE}/users/{demo.user_id}/credentials/OS-EC2/{cred['access']}"
    )

    second = create(client, demo).json()["credential"]
    assert second["access"] != cred["access"]

    shown = client.get(f"{demo.url}/{cred['access']}", headers=demo.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["credential"] == cred

    listed = client.get(demo.url, headers=demo.headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert {c["access"] for c in body["credentials"]} == {cred["access"], second["access"]}
    assert body["links"]["self"].endswith(f"/users/{demo.user_id}/credentials/OS-EC2")
    assert body["links"]["next"] is None

    deleted = client.delete(f"{demo.url}/{cred['access']}", headers=demo.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    gone = client.get(f"{demo.url}/{cred['access']}", headers=demo.headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == 404
    again = client.delete(f"{demo.url}/{cred['access']}", headers=demo.headers)
    assert again.status_code == 404
    remaining = client.get(demo.url, headers=demo.headers).json()["credentials"]
    assert [c["access"] for c in remaining] == [second["access"]]


def test_stored_as_an_encrypted_ec2_credential(
    client: TestClient, demo: Login, ident: Identity
) -> None:
    cred = create(client, demo).json()["credential"]
    # The same credential through /v3/credentials: id = sha256(access), JSON blob.
    resp = client.get("/identity/v3/credentials", params={"type": "ec2"}, headers=demo.headers)
    assert resp.status_code == 200, resp.text
    (found,) = [c for c in resp.json()["credentials"] if c["user_id"] == demo.user_id]
    assert found["id"] == hashlib.sha256(cred["access"].encode()).hexdigest()
    assert found["type"] == "ec2" and found["project_id"] == demo.project_id
    blob = json.loads(found["blob"])
    assert blob["access"] == cred["access"] and blob["secret"] == cred["secret"]
    assert blob["trust_id"] is None
    with ident.db.reader() as s:
        row = s.scalars(select(Credential).where(Credential.id == found["id"])).one()
        assert cred["secret"] not in row.encrypted_blob

    # Deleting it through /v3/credentials removes it from OS-EC2 too.
    assert (
        client.delete(f"/identity/v3/credentials/{found['id']}", headers=demo.headers).status_code
        == 204
    )
    assert client.get(f"{demo.url}/{cred['access']}", headers=demo.headers).status_code == 404


def test_ec2_credential_made_through_v3_credentials_is_listed(
    client: TestClient, demo: Login
) -> None:
    access = unique("AKIA")
    resp = client.post(
        "/identity/v3/credentials",
        json={
            "credential": {
                "user_id": demo.user_id,
                "project_id": demo.project_id,
                "type": "ec2",
                "blob": json.dumps({"access": access, "secret": "s3cret"}),
            }
        },
        headers=demo.headers,
    )
    assert resp.status_code == 201, resp.text
    shown = client.get(f"{demo.url}/{access}", headers=demo.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["credential"]["secret"] == "s3cret"
    assert shown.json()["credential"]["trust_id"] is None
    listed = client.get(demo.url, headers=demo.headers).json()["credentials"]
    assert [c["access"] for c in listed] == [access]


def test_another_users_credentials_stay_private(
    client: TestClient, demo: Login, alt: Login
) -> None:
    mine = create(client, demo).json()["credential"]
    theirs = create(client, alt).json()["credential"]

    listed = client.get(demo.url, headers=demo.headers).json()["credentials"]
    assert [c["access"] for c in listed] == [mine["access"]]
    # Listing, creating for, showing or deleting another user's keys is forbidden.
    assert client.get(alt.url, headers=demo.headers).status_code == 403
    assert create(client, demo, url=alt.url, tenant_id=alt.project_id).status_code == 403
    for url in (f"{alt.url}/{theirs['access']}", f"{demo.url}/{theirs['access']}"):
        resp = client.get(url, headers=demo.headers)
        assert resp.status_code == 403, resp.text
        assert theirs["secret"] not in resp.text
        assert client.delete(url, headers=demo.headers).status_code == 403
    # Still there for its owner.
    shown = client.get(f"{alt.url}/{theirs['access']}", headers=alt.headers)
    assert shown.status_code == 200 and shown.json()["credential"]["secret"] == theirs["secret"]
    # A key that does not exist is a 404 whoever the URL names.
    assert client.get(f"{alt.url}/{'0' * 32}", headers=demo.headers).status_code == 404


def test_admin_manages_anyones_credentials(
    client: TestClient, demo: Login, admin_login: Login
) -> None:
    cred = create(client, demo).json()["credential"]
    listed = client.get(demo.url, headers=admin_login.headers)
    assert listed.status_code == 200
    assert [c["access"] for c in listed.json()["credentials"]] == [cred["access"]]
    made = create(client, admin_login, url=demo.url, tenant_id=demo.project_id)
    assert made.status_code == 201, made.text
    assert made.json()["credential"]["user_id"] == demo.user_id
    shown = client.get(f"{demo.url}/{cred['access']}", headers=admin_login.headers)
    assert shown.status_code == 200 and shown.json()["credential"]["secret"] == cred["secret"]
    # As in Keystone the URL's user need not be the owner (openstackclient puts the
    # caller's own id there); the link still names the owner.
    other_url = f"{admin_login.url}/{cred['access']}"
    shown = client.get(other_url, headers=admin_login.headers).json()["credential"]
    assert shown["links"]["self"].endswith(
        f"/users/{demo.user_id}/credentials/OS-EC2/{cred['access']}"
    )
    assert client.delete(other_url, headers=admin_login.headers).status_code == 204
    assert client.get(f"{demo.url}/{cred['access']}", headers=demo.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"tenant_id": "no-such-project"}, 404),
        ({}, 404),
        ({"tenant_id": None}, 404),
        ({"tenant_id": 42}, 400),
        ({"tenant_id": ["x"]}, 400),
        ({"tenant_id": "x" * 65}, 400),
        ([], 400),
    ],
)
def test_bad_tenant_id(client: TestClient, demo: Login, body: Any, status: int) -> None:
    resp = client.post(demo.url, json=body, headers=demo.headers)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == status
    assert client.get(demo.url, headers=demo.headers).json()["credentials"] == []


def test_missing_project_message_names_it(client: TestClient, demo: Login) -> None:
    resp = create(client, demo, tenant_id="no-such-project")
    assert resp.json()["error"]["message"] == "Could not find project: no-such-project."
    resp = client.post(demo.url, json={}, headers=demo.headers)
    assert resp.json()["error"]["message"] == "Could not find project: None."


def test_unknown_user_is_404_for_admin(client: TestClient, admin_login: Login) -> None:
    url = "/identity/v3/users/no-such-user/credentials/OS-EC2"
    assert client.get(url, headers=admin_login.headers).status_code == 404
    resp = client.post(url, json={"tenant_id": admin_login.project_id}, headers=admin_login.headers)
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "Could not find user: no-such-user."


def test_unauthenticated_is_401(client: TestClient, demo: Login) -> None:
    assert client.get(demo.url).status_code == 401
    assert client.post(demo.url, json={"tenant_id": demo.project_id}).status_code == 401


def test_reader_may_list_but_not_create(client: TestClient, admin_login: Login) -> None:
    # Keystone's defaults: reading is for the owner, writing needs the member role.
    name = unique("reader")
    admin = admin_login.headers
    user = client.post(
        "/identity/v3/users",
        json={"user": {"name": name, "password": ADMIN_PASSWORD, "domain_id": "default"}},
        headers=admin,
    ).json()["user"]
    projects = client.get("/identity/v3/projects", params={"name": "demo"}, headers=admin)
    project_id = projects.json()["projects"][0]["id"]
    roles = client.get("/identity/v3/roles", params={"name": "reader"}, headers=admin)
    reader_id = roles.json()["roles"][0]["id"]
    granted = client.put(
        f"/identity/v3/projects/{project_id}/users/{user['id']}/roles/{reader_id}", headers=admin
    )
    assert granted.status_code == 204, granted.text
    who = login(client, name, project="demo")
    assert client.get(who.url, headers=who.headers).json()["credentials"] == []
    assert create(client, who).status_code == 403
    made = create(client, admin_login, url=who.url, tenant_id=project_id)
    assert made.status_code == 201
    access = made.json()["credential"]["access"]
    assert client.get(f"{who.url}/{access}", headers=who.headers).status_code == 200
    assert client.delete(f"{who.url}/{access}", headers=who.headers).status_code == 403


def _app_cred_login(client: TestClient, owner: Login, unrestricted: bool) -> Login:
    resp = client.post(
        f"/identity/v3/users/{owner.user_id}/application_credentials",
        json={"application_credential": {"name": unique("ac"), "unrestricted": unrestricted}},
        headers=owner.headers,
    )
    assert resp.status_code == 201, resp.text
    app_cred = resp.json()["application_credential"]
    resp = client.post(
        "/identity/v3/auth/tokens",
        json={
            "auth": {
                "identity": {
                    "methods": ["application_credential"],
                    "application_credential": {
                        "id": app_cred["id"],
                        "secret": app_cred["secret"],
                    },
                }
            }
        },
    )
    assert resp.status_code == 201, resp.text
    return Login(resp.headers["X-Subject-Token"], owner.user_id, owner.project_id)


def test_application_credential_tokens(client: TestClient, demo: Login) -> None:
    restricted = _app_cred_login(client, demo, unrestricted=False)
    # A restricted application credential may not mint more credentials.
    assert create(client, restricted).status_code == 403

    unrestricted = _app_cred_login(client, demo, unrestricted=True)
    made = create(client, unrestricted)
    assert made.status_code == 201, made.text
    access = made.json()["credential"]["access"]
    # Only for the token's own project.
    projects = client.get(
        "/identity/v3/projects",
        params={"name": "alt_demo"},
        headers={"X-Auth-Token": issue(client)},
    )
    alt_project = projects.json()["projects"][0]["id"]
    assert create(client, unrestricted, tenant_id=alt_project).status_code == 403

    # A key on another project (made by the user's own password token) is hidden.
    other = create(client, demo, tenant_id=alt_project)
    assert other.status_code == 201, other.text
    other_access = other.json()["credential"]["access"]
    listed = client.get(demo.url, headers=restricted.headers).json()["credentials"]
    assert [c["access"] for c in listed] == [access]
    resp = client.get(f"{demo.url}/{other_access}", headers=restricted.headers)
    assert resp.status_code == 403
    assert (
        client.delete(f"{demo.url}/{other_access}", headers=restricted.headers).status_code == 403
    )
    assert client.get(f"{demo.url}/{access}", headers=restricted.headers).status_code == 200
