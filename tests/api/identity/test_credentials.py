"""/v3/credentials, as the API reference and tempest's CredentialsTestJSON describe it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kumo.identity.db.models import Credential
from kumo.identity.service.core import Identity
from tests.conftest import ADMIN_PASSWORD, issue, unique

URL = "/identity/v3/credentials"


def ids_of(client: TestClient, name: str, kind: str) -> str:
    """The id of a user or project by name, looked up as admin."""
    token = issue(client)
    resp = client.get(
        f"/identity/v3/{kind}", params={"name": name}, headers={"X-Auth-Token": token}
    )
    assert resp.status_code == 200, resp.text
    found: str = resp.json()[kind][0]["id"]
    return found


def ec2_blob(access: str | None = None, signing_key: str | None = None) -> str:
    return json.dumps({"access": access or unique("access"), "secret": signing_key or "k"})


def create(client: TestClient, token: str, **cred: Any) -> Any:
    return client.post(URL, json={"credential": cred}, headers={"X-Auth-Token": token})


def test_create_show_update_delete_ec2(admin: TestClient) -> None:
    demo = ids_of(admin, "demo", "users")
    project = ids_of(admin, "demo", "projects")
    other_project = ids_of(admin, "alt_demo", "projects")
    access = unique("AKIA")
    blob = ec2_blob(access)
    resp = admin.post(
        URL,
        json={
            "credential": {
                "user_id": demo,
                "project_id": project,
                "type": "ec2",
                "blob": blob,
                "id": "ignored",
                "label": "ci",
            }
        },
    )
    assert resp.status_code == 201, resp.text
    cred = resp.json()["credential"]
    # Keystone's id for an EC2 credential: sha256 of the access key.
    assert cred["id"] == hashlib.sha256(access.encode()).hexdigest()
    assert cred["user_id"] == demo and cred["project_id"] == project
    assert cred["type"] == "ec2" and json.loads(cred["blob"])["access"] == access
    assert cred["label"] == "ci"
    assert cred["links"]["self"] == f"http://127.0.0.1:8780{URL}/{cred['id']}"

    new_blob = ec2_blob(unique("NEW"), "new-secret")
    resp = admin.patch(
        f"{URL}/{cred['id']}",
        json={"credential": {"blob": new_blob, "project_id": other_project, "type": "ec2"}},
    )
    assert resp.status_code == 200, resp.text
    updated = resp.json()["credential"]
    assert updated["id"] == cred["id"] and updated["project_id"] == other_project
    assert updated["blob"] == new_blob and updated["label"] == "ci"

    shown = admin.get(f"{URL}/{cred['id']}").json()["credential"]
    assert shown["blob"] == new_blob and shown["project_id"] == other_project

    assert admin.delete(f"{URL}/{cred['id']}").status_code == 204
    assert admin.get(f"{URL}/{cred['id']}").status_code == 404
    assert admin.delete(f"{URL}/{cred['id']}").status_code == 404


def test_list_filters_by_user_and_type(admin: TestClient) -> None:
    demo = ids_of(admin, "demo", "users")
    alt = ids_of(admin, "alt_demo", "users")
    project = ids_of(admin, "demo", "projects")
    made = {
        "demo-ec2": admin.post(
            URL,
            json={
                "credential": {
                    "user_id": demo,
                    "project_id": project,
                    "type": "ec2",
                    "blob": ec2_blob(),
                }
            },
        ).json()["credential"]["id"],
        "demo-totp": admin.post(
            URL, json={"credential": {"user_id": demo, "type": "totp", "blob": "GEZDGNBV"}}
        ).json()["credential"]["id"],
        "alt-cert": admin.post(
            URL, json={"credential": {"user_id": alt, "type": "cert", "blob": "-----BEGIN-----"}}
        ).json()["credential"]["id"],
    }
    everything = {c["id"] for c in admin.get(URL).json()["credentials"]}
    assert set(made.values()) <= everything
    mine = {c["id"] for c in admin.get(URL, params={"user_id": demo}).json()["credentials"]}
    assert mine == {made["demo-ec2"], made["demo-totp"]}
    totp = admin.get(URL, params={"user_id": demo, "type": "totp"}).json()["credentials"]
    assert [c["id"] for c in totp] == [made["demo-totp"]]
    assert totp[0]["blob"] == "GEZDGNBV"
    resp = admin.get(URL, params={"type": "cert"})
    assert [c["user_id"] for c in resp.json()["credentials"]] == [alt]
    assert resp.json()["links"]["self"].endswith("type=cert")


def test_blob_is_encrypted_at_rest(admin: TestClient, ident: Identity) -> None:
    demo = ids_of(admin, "demo", "users")
    secret_text = "totp-seed-" + unique("x")
    cred = admin.post(
        URL, json={"credential": {"user_id": demo, "type": "totp", "blob": secret_text}}
    ).json()["credential"]
    with ident.db.reader() as s:
        stored = s.scalars(
            select(Credential.encrypted_blob).where(Credential.id == cred["id"])
        ).one()
    assert secret_text not in stored
    assert ident.credential_fernet.decrypt(stored.encode()).decode() == secret_text
    # Still readable after the credential keys rotate (old primary stays to decrypt).
    ident.credential_keys.rotate()
    ident._credential_fernet = None
    assert admin.get(f"{URL}/{cred['id']}").json()["credential"]["blob"] == secret_text


def test_duplicate_ec2_access_key_is_409(admin: TestClient) -> None:
    demo = ids_of(admin, "demo", "users")
    project = ids_of(admin, "demo", "projects")
    blob = ec2_blob("SAME-KEY-" + unique("k"))
    body = {"credential": {"user_id": demo, "project_id": project, "type": "ec2", "blob": blob}}
    assert admin.post(URL, json=body).status_code == 201
    resp = admin.post(URL, json=body)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == 409


@pytest.mark.parametrize(
    "cred",
    [
        {},
        {"type": "totp", "blob": "x"},  # no user_id
        {"user_id": "u", "blob": "x"},  # no type
        {"user_id": "u", "type": "totp"},  # no blob
        {"user_id": "u", "type": "totp", "blob": {"not": "a string"}},
        {"user_id": "u", "type": "totp", "blob": 42},
        {"user_id": 7, "type": "totp", "blob": "x"},
        {"user_id": "u", "type": "", "blob": "x"},
        {"user_id": "u", "type": "ec2", "blob": ec2_blob()},  # ec2 needs project_id
        {"user_id": "u", "type": "ec2", "project_id": "p", "blob": "not json"},
        {"user_id": "u", "type": "ec2", "project_id": "p", "blob": "[1, 2]"},
        {"user_id": "u", "type": "ec2", "project_id": "p", "blob": '{"secret": "no access"}'},
        {"user_id": "u", "type": "totp", "blob": "x" * 40000},
    ],
)
def test_bad_create_input_is_400(admin: TestClient, cred: dict[str, Any]) -> None:
    resp = admin.post(URL, json={"credential": cred})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == 400


def test_bad_update_input_is_400(admin: TestClient) -> None:
    demo = ids_of(admin, "demo", "users")
    project = ids_of(admin, "demo", "projects")
    totp = admin.post(
        URL, json={"credential": {"user_id": demo, "type": "totp", "blob": "seed"}}
    ).json()["credential"]
    ec2 = admin.post(
        URL,
        json={
            "credential": {
                "user_id": demo,
                "type": "ec2",
                "project_id": project,
                "blob": json.dumps({"access": unique("a"), "secret": "s", "trust_id": "t1"}),
            }
        },
    ).json()["credential"]
    bad = [
        (totp, {}),
        (totp, {"blob": None}),
        (totp, {"user_id": None}),
        (totp, {"type": 5}),
        (totp, {"id": "another-id"}),
        (totp, {"type": "ec2"}),  # ec2 without a project
        (ec2, {"blob": "not json"}),
        (ec2, {"blob": json.dumps({"access": "a", "secret": "s"})}),  # drops trust_id
        (ec2, {"project_id": None}),
    ]
    for cred, change in bad:
        resp = admin.patch(f"{URL}/{cred['id']}", json={"credential": change})
        assert resp.status_code == 400, (change, resp.text)
    assert admin.patch(f"{URL}/nope", json={"credential": {"blob": "x"}}).status_code == 404
    assert admin.get(f"{URL}/{totp['id']}").json()["credential"]["blob"] == "seed"


def test_user_manages_own_credentials_only(client: TestClient, admin_token: str) -> None:
    demo_token = issue(client, "demo", ADMIN_PASSWORD, project="demo")
    alt_token = issue(client, "alt_demo", ADMIN_PASSWORD, project="alt_demo")
    demo = ids_of(client, "demo", "users")
    alt = ids_of(client, "alt_demo", "users")
    as_demo = {"X-Auth-Token": demo_token}

    # A user may create credentials for themselves, not for someone else.
    mine = create(client, demo_token, user_id=demo, type="totp", blob="demo-seed")
    assert mine.status_code == 201, mine.text
    assert create(client, demo_token, user_id=alt, type="totp", blob="x").status_code == 403
    theirs = create(client, alt_token, user_id=alt, type="totp", blob="alt-seed")
    assert theirs.status_code == 201
    theirs_id = theirs.json()["credential"]["id"]
    mine_id = mine.json()["credential"]["id"]

    # Listing shows only their own, even when asking for someone else's.
    listed = client.get(URL, headers=as_demo).json()["credentials"]
    assert {c["user_id"] for c in listed} == {demo}
    assert mine_id in {c["id"] for c in listed}
    assert client.get(URL, params={"user_id": alt}, headers=as_demo).json()["credentials"] == []
    admin_list = client.get(URL, headers={"X-Auth-Token": admin_token}).json()["credentials"]
    assert {mine_id, theirs_id} <= {c["id"] for c in admin_list}

    # Another user's credential: 403 on show, update and delete (as Keystone).
    assert client.get(f"{URL}/{theirs_id}", headers=as_demo).status_code == 403
    resp = client.patch(
        f"{URL}/{theirs_id}", json={"credential": {"blob": "stolen"}}, headers=as_demo
    )
    assert resp.status_code == 403
    assert client.delete(f"{URL}/{theirs_id}", headers=as_demo).status_code == 403
    # An unknown id is 403 too for a non-admin: the owner check cannot pass.
    assert client.get(f"{URL}/does-not-exist", headers=as_demo).status_code == 403

    # Their own: show, update, but not give it away.
    assert (
        client.get(f"{URL}/{mine_id}", headers=as_demo).json()["credential"]["blob"] == "demo-seed"
    )
    resp = client.patch(
        f"{URL}/{mine_id}", json={"credential": {"blob": "new-seed"}}, headers=as_demo
    )
    assert resp.status_code == 200 and resp.json()["credential"]["blob"] == "new-seed"
    resp = client.patch(f"{URL}/{mine_id}", json={"credential": {"user_id": alt}}, headers=as_demo)
    assert resp.status_code == 403
    assert client.delete(f"{URL}/{mine_id}", headers=as_demo).status_code == 204
    assert (
        client.get(f"{URL}/{theirs_id}", headers={"X-Auth-Token": alt_token}).json()["credential"][
            "blob"
        ]
        == "alt-seed"
    )


def test_unauthenticated_is_401(client: TestClient) -> None:
    assert client.get(URL).status_code == 401
    assert client.post(URL, json={"credential": {}}).status_code == 401


def test_deleting_user_deletes_their_credentials(admin: TestClient) -> None:
    user = admin.post(
        "/identity/v3/users", json={"user": {"name": unique("cred-owner"), "domain_id": "default"}}
    ).json()["user"]
    cred = admin.post(
        URL, json={"credential": {"user_id": user["id"], "type": "totp", "blob": "seed"}}
    ).json()["credential"]
    assert admin.delete(f"/identity/v3/users/{user['id']}").status_code == 204
    assert admin.get(f"{URL}/{cred['id']}").status_code == 404


def _app_cred_token(client: TestClient, demo_token: str, demo: str, *, unrestricted: bool) -> str:
    cred = client.post(
        f"/identity/v3/users/{demo}/application_credentials",
        json={"application_credential": {"name": unique("ac"), "unrestricted": unrestricted}},
        headers={"X-Auth-Token": demo_token},
    ).json()["application_credential"]
    resp = client.post(
        "/identity/v3/auth/tokens",
        json={
            "auth": {
                "identity": {
                    "methods": ["application_credential"],
                    "application_credential": {"id": cred["id"], "secret": cred["secret"]},
                }
            }
        },
    )
    assert resp.status_code == 201, resp.text
    token: str = resp.headers["X-Subject-Token"]
    return token


def test_application_credential_tokens_stay_in_their_project(client: TestClient) -> None:
    demo_token = issue(client, "demo", ADMIN_PASSWORD, project="demo")
    demo = ids_of(client, "demo", "users")
    project = ids_of(client, "demo", "projects")
    other_project = ids_of(client, "alt_demo", "projects")
    totp = create(client, demo_token, user_id=demo, type="totp", blob="seed").json()["credential"]
    restricted = _app_cred_token(client, demo_token, demo, unrestricted=False)
    unrestricted = _app_cred_token(client, demo_token, demo, unrestricted=True)

    # A user-level secret (no project) is out of reach of a delegated token.
    assert (
        client.get(f"{URL}/{totp['id']}", headers={"X-Auth-Token": unrestricted}).status_code == 403
    )
    listed = client.get(URL, headers={"X-Auth-Token": unrestricted}).json()["credentials"]
    assert totp["id"] not in {c["id"] for c in listed}
    # A restricted one cannot create EC2 keys; an unrestricted one can, on its project only.
    ec2 = {"user_id": demo, "type": "ec2", "project_id": project, "blob": ec2_blob()}
    assert create(client, restricted, **ec2).status_code == 403
    assert create(client, unrestricted, **{**ec2, "project_id": other_project}).status_code == 403
    made = create(client, unrestricted, **ec2)
    assert made.status_code == 201, made.text
    # Bound to the application credential, as Keystone records it for ec2tokens.
    assert json.loads(made.json()["credential"]["blob"])["app_cred_id"]
    assert (
        client.get(
            f"{URL}/{made.json()['credential']['id']}", headers={"X-Auth-Token": unrestricted}
        ).status_code
        == 200
    )
