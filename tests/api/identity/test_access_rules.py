"""/v3/users/{user_id}/access_rules: rules made by application credentials, owned by the user."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.identity.service.core import Identity
from kumo.identity.service.users import delete_user
from tests.api.identity.test_application_credentials import (
    Login,
    app_cred_auth,
    create,
    login,
    validate,
)
from tests.conftest import issue

IPS = {"service": "compute", "path": "/v2.1/servers/*/ips", "method": "GET"}
LIST_SERVERS = {"service": "compute", "path": "/v2.1/servers", "method": "GET"}


def rules_url(who: Login) -> str:
    return f"/identity/v3/users/{who.user_id}/access_rules"


def listed(client: TestClient, who: Login, **params: str) -> list[dict[str, Any]]:
    resp = client.get(rules_url(who), params=params, headers=who.headers)
    assert resp.status_code == 200, resp.text
    rules: list[dict[str, Any]] = resp.json()["access_rules"]
    return rules


@pytest.fixture
def demo(client: TestClient) -> Login:
    return login(client, "demo")


def test_list_show_and_links(client: TestClient, demo: Login) -> None:
    cred = create(client, demo, access_rules=[IPS, LIST_SERVERS]).json()["application_credential"]
    by_path = {r["path"]: r for r in cred["access_rules"]}
    assert {k: by_path[IPS["path"]][k] for k in IPS} == IPS

    resp = client.get(rules_url(demo), headers=demo.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["links"]["self"].endswith(f"/v3/users/{demo.user_id}/access_rules")
    assert {r["id"] for r in body["access_rules"]} == {r["id"] for r in cred["access_rules"]}
    rule = next(r for r in body["access_rules"] if r["path"] == IPS["path"])
    assert rule == {
        **by_path[IPS["path"]],
        "links": {
            "self": f"http://127.0.0.1:8780/identity/v3/users/{demo.user_id}"
            f"/access_rules/{rule['id']}"
        },
    }

    shown = client.get(f"{rules_url(demo)}/{rule['id']}", headers=demo.headers)
    assert shown.status_code == 200
    assert shown.json() == {"access_rule": rule}
    missing = client.get(f"{rules_url(demo)}/nope", headers=demo.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Could not find Access Rule: nope."


def test_filters(client: TestClient, demo: Login) -> None:
    create(client, demo, access_rules=[IPS, {**LIST_SERVERS, "method": "POST"}])
    assert [r["path"] for r in listed(client, demo, path=IPS["path"])] == [IPS["path"]]
    assert [r["method"] for r in listed(client, demo, method="POST")] == ["POST"]
    assert len(listed(client, demo, service="compute")) == 2
    assert listed(client, demo, service="image") == []


def test_rule_outlives_its_credential_and_is_deleted_when_unused(
    client: TestClient, demo: Login
) -> None:
    cred = create(client, demo, access_rules=[IPS]).json()["application_credential"]
    rule_id = cred["access_rules"][0]["id"]
    rule_url = f"{rules_url(demo)}/{rule_id}"

    in_use = client.delete(rule_url, headers=demo.headers)
    assert in_use.status_code == 403
    assert in_use.json()["error"]["code"] == 403

    cred_url = f"{demo.url}/{cred['id']}"
    assert client.delete(cred_url, headers=demo.headers).status_code == 204
    assert rule_id in [r["id"] for r in listed(client, demo)]

    assert client.delete(rule_url, headers=demo.headers).status_code == 204
    assert rule_id not in [r["id"] for r in listed(client, demo)]
    assert client.get(rule_url, headers=demo.headers).status_code == 404
    assert client.delete(rule_url, headers=demo.headers).status_code == 404


def test_identical_rule_is_shared_and_id_reuses_it(client: TestClient, demo: Login) -> None:
    first = create(client, demo, access_rules=[IPS]).json()["application_credential"]
    second = create(client, demo, access_rules=[IPS]).json()["application_credential"]
    rule = first["access_rules"][0]
    by_id = create(client, demo, access_rules=[{"id": rule["id"]}]).json()
    assert second["access_rules"] == [rule] == by_id["application_credential"]["access_rules"]
    assert [r["id"] for r in listed(client, demo)] == [rule["id"]]
    # Still used by the other two after one goes.
    client.delete(f"{demo.url}/{first['id']}", headers=demo.headers)
    assert client.delete(f"{rules_url(demo)}/{rule['id']}", headers=demo.headers).status_code == 403


def test_another_users_rules(client: TestClient, demo: Login) -> None:
    alt = login(client, "alt_demo")
    theirs = create(client, alt, access_rules=[IPS]).json()["application_credential"]
    rule_id = theirs["access_rules"][0]["id"]
    # Through their URL: the policy forbids it.
    alt_url = f"{rules_url(alt)}/{rule_id}"
    assert client.get(rules_url(alt), headers=demo.headers).status_code == 403
    assert client.get(alt_url, headers=demo.headers).status_code == 403
    assert client.delete(alt_url, headers=demo.headers).status_code == 403
    # Through one's own URL: it does not exist.
    mine = f"{rules_url(demo)}/{rule_id}"
    assert client.get(mine, headers=demo.headers).status_code == 404
    assert client.delete(mine, headers=demo.headers).status_code == 404
    assert listed(client, demo) == []
    # Nor can one's credential borrow it by id.
    borrowed = create(client, demo, access_rules=[{"id": rule_id}])
    assert borrowed.status_code == 404, borrowed.text
    # The same rule by value is a rule of one's own.
    own = create(client, demo, access_rules=[IPS]).json()["application_credential"]
    assert own["access_rules"][0]["id"] != rule_id

    # An admin may read anyone's rules.
    admin = {"X-Auth-Token": issue(client)}
    resp = client.get(rules_url(alt), headers=admin)
    assert resp.status_code == 200
    assert [r["id"] for r in resp.json()["access_rules"]] == [rule_id]
    assert client.get(alt_url, headers=admin).status_code == 200


def test_rule_by_unknown_id_needs_its_fields(client: TestClient, demo: Login) -> None:
    unknown = create(client, demo, access_rules=[{"id": "f" * 32}])
    assert unknown.status_code == 404
    # With its fields, the chosen id names a new rule (as Keystone).
    made = create(client, demo, access_rules=[{"id": "f" * 32, **IPS}])
    assert made.status_code == 201, made.text
    assert made.json()["application_credential"]["access_rules"][0]["id"] == "f" * 32


def test_token_from_credential_carries_rules(client: TestClient, demo: Login) -> None:
    cred = create(client, demo, access_rules=[IPS]).json()["application_credential"]
    resp = app_cred_auth(client, id=cred["id"], secret=cred["secret"])
    assert resp.status_code == 201, resp.text
    section = resp.json()["token"]["application_credential"]
    assert section["access_rules"] == cred["access_rules"]
    validated = validate(client, resp.headers["X-Subject-Token"])
    assert (
        validated.json()["token"]["application_credential"]["access_rules"]
        == (cred["access_rules"])
    )
    # Without rules, the token has no such member.
    plain = create(client, demo).json()["application_credential"]
    resp = app_cred_auth(client, id=plain["id"], secret=plain["secret"])
    assert "access_rules" not in resp.json()["token"]["application_credential"]


def test_deleting_the_user_deletes_their_rules(
    client: TestClient, ident: Identity, demo: Login
) -> None:
    create(client, demo, access_rules=[IPS])
    admin = {"X-Auth-Token": issue(client)}
    assert len(client.get(rules_url(demo), headers=admin).json()["access_rules"]) == 1
    delete_user(ident, demo.user_id)
    assert client.get(rules_url(demo), headers=admin).json()["access_rules"] == []
