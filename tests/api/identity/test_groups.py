"""/v3/groups and group membership, as the Identity API reference describes them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kumo.identity.service.core import Identity
from tests.api.identity._grant_helpers import (
    V3,
    make_domain,
    make_group,
    make_project,
    make_user,
    role_id,
    token_for,
    validate,
)
from tests.conftest import ADMIN_PASSWORD, issue, unique

GROUPS = f"{V3}/groups"


def demo_headers(client: TestClient) -> dict[str, str]:
    return {"X-Auth-Token": issue(client, "demo", ADMIN_PASSWORD, project="demo")}


def test_create_show_update_delete(admin: TestClient) -> None:
    name = unique("grp")
    resp = admin.post(
        GROUPS,
        json={"group": {"name": name, "description": "ops", "domain_id": "default", "x": 1}},
    )
    assert resp.status_code == 201
    group = resp.json()["group"]
    assert group["name"] == name and group["description"] == "ops"
    assert group["domain_id"] == "default" and group["x"] == 1
    assert group["links"]["self"].endswith(f"/identity/v3/groups/{group['id']}")

    shown = admin.get(f"{GROUPS}/{group['id']}")
    assert shown.status_code == 200 and shown.json()["group"] == group
    assert admin.head(f"{GROUPS}/{group['id']}").status_code == 200

    new_name = unique("renamed")
    resp = admin.patch(f"{GROUPS}/{group['id']}", json={"group": {"name": new_name}})
    assert resp.status_code == 200
    updated = resp.json()["group"]
    # Updating one field leaves the others alone (tempest checks this).
    assert updated["name"] == new_name and updated["description"] == "ops"
    assert updated["domain_id"] == "default"
    resp = admin.patch(f"{GROUPS}/{group['id']}", json={"group": {"description": None}})
    assert resp.json()["group"]["description"] is None

    assert admin.delete(f"{GROUPS}/{group['id']}").status_code == 204
    assert admin.get(f"{GROUPS}/{group['id']}").status_code == 404
    assert admin.delete(f"{GROUPS}/{group['id']}").status_code == 404


def test_create_defaults_to_the_token_domain(admin: TestClient) -> None:
    resp = admin.post(GROUPS, json={"group": {"name": unique("grp")}})
    assert resp.status_code == 201
    assert resp.json()["group"]["domain_id"] == "default"
    assert resp.json()["group"]["description"] == ""


def test_create_rejects_bad_input(admin: TestClient) -> None:
    for body in (
        {"group": {}},
        {"group": {"name": ""}},
        {"group": {"name": "   "}},
        {"group": {"name": "x" * 256}},
        {"group": {"name": 5}},
        {"group": {"name": "ok"}, "other": 1},
        {},
    ):
        resp = admin.post(GROUPS, json=body)
        assert resp.status_code == 400, body
        assert resp.json()["error"]["code"] == 400


def test_create_in_missing_domain_is_404(admin: TestClient) -> None:
    resp = admin.post(GROUPS, json={"group": {"name": unique("g"), "domain_id": "nope"}})
    assert resp.status_code == 404


def test_duplicate_names_conflict_within_a_domain_only(admin: TestClient) -> None:
    name = unique("grp")
    assert admin.post(GROUPS, json={"group": {"name": name}}).status_code == 201
    assert admin.post(GROUPS, json={"group": {"name": name}}).status_code == 409
    other = make_domain(admin)
    resp = admin.post(GROUPS, json={"group": {"name": name, "domain_id": other["id"]}})
    assert resp.status_code == 201
    # Renaming onto a taken name conflicts too.
    second = make_group(admin)
    resp = admin.patch(f"{GROUPS}/{second['id']}", json={"group": {"name": name}})
    assert resp.status_code == 409


def test_update_rejects_domain_change_and_empty_body(admin: TestClient) -> None:
    group = make_group(admin)
    other = make_domain(admin)
    url = f"{GROUPS}/{group['id']}"
    assert admin.patch(url, json={"group": {"domain_id": other["id"]}}).status_code == 400
    assert admin.patch(url, json={"group": {}}).status_code == 400
    assert admin.patch(url, json={"group": {"name": ""}}).status_code == 400
    assert admin.patch(url, json={"group": {"name": None}}).status_code == 400
    assert admin.patch(f"{GROUPS}/missing", json={"group": {"name": "x"}}).status_code == 404


def test_list_with_filters(admin: TestClient) -> None:
    domain = make_domain(admin)
    first, second = make_group(admin, domain["id"]), make_group(admin, domain["id"])
    elsewhere = make_group(admin)
    resp = admin.get(GROUPS)
    assert resp.status_code == 200
    ids = {g["id"] for g in resp.json()["groups"]}
    assert {first["id"], second["id"], elsewhere["id"]} <= ids
    assert resp.json()["links"]["self"].endswith("/identity/v3/groups")

    in_domain = admin.get(GROUPS, params={"domain_id": domain["id"]}).json()["groups"]
    assert sorted(g["id"] for g in in_domain) == sorted([first["id"], second["id"]])
    by_name = admin.get(GROUPS, params={"name": first["name"]}).json()["groups"]
    assert [g["id"] for g in by_name] == [first["id"]]
    prefix = first["name"][:4]
    contains = admin.get(GROUPS, params={"name__startswith": prefix}).json()["groups"]
    assert first["id"] in {g["id"] for g in contains}
    assert admin.head(GROUPS).status_code == 200


def test_non_admin_is_forbidden(client: TestClient, admin: TestClient) -> None:
    group = make_group(admin)
    demo = demo_headers(client)
    assert client.post(GROUPS, json={"group": {"name": "x"}}, headers=demo).status_code == 403
    assert client.get(GROUPS, headers=demo).status_code == 403
    assert client.get(f"{GROUPS}/{group['id']}", headers=demo).status_code == 403
    assert client.delete(f"{GROUPS}/{group['id']}", headers=demo).status_code == 403
    # A missing group is 403 too for such a caller: nothing leaks before the policy check.
    assert client.get(f"{GROUPS}/missing", headers=demo).status_code == 403


def test_membership_add_check_list_remove(admin: TestClient) -> None:
    group = make_group(admin)
    users = [make_user(admin) for _ in range(3)]
    for user in users:
        url = f"{GROUPS}/{group['id']}/users/{user['id']}"
        assert admin.put(url).status_code == 204
        assert admin.put(url).status_code == 204  # idempotent
    members = admin.get(f"{GROUPS}/{group['id']}/users")
    assert members.status_code == 200
    # Members look exactly like the users that were created (tempest compares them).
    assert sorted(members.json()["users"], key=lambda u: u["name"]) == sorted(
        users, key=lambda u: u["name"]
    )
    assert members.json()["links"]["self"].endswith(f"/groups/{group['id']}/users")
    filtered = admin.get(f"{GROUPS}/{group['id']}/users", params={"name": users[0]["name"]})
    assert [u["id"] for u in filtered.json()["users"]] == [users[0]["id"]]

    for user in users:
        url = f"{GROUPS}/{group['id']}/users/{user['id']}"
        assert admin.head(url).status_code == 204
        assert admin.get(url).status_code == 204
        assert admin.delete(url).status_code == 204
        assert admin.head(url).status_code == 404
        assert admin.delete(url).status_code == 404
    assert admin.get(f"{GROUPS}/{group['id']}/users").json()["users"] == []


def test_membership_of_missing_things_is_404(admin: TestClient) -> None:
    group, user = make_group(admin), make_user(admin)
    assert admin.put(f"{GROUPS}/missing/users/{user['id']}").status_code == 404
    assert admin.put(f"{GROUPS}/{group['id']}/users/missing").status_code == 404
    assert admin.head(f"{GROUPS}/{group['id']}/users/missing").status_code == 404
    assert admin.delete(f"{GROUPS}/missing/users/{user['id']}").status_code == 404
    assert admin.get(f"{GROUPS}/missing/users").status_code == 404
    assert admin.get(f"{V3}/users/missing/groups").status_code == 404


def test_a_user_of_another_domain_may_join(admin: TestClient) -> None:
    group = make_group(admin)
    stranger = make_user(admin, make_domain(admin)["id"])
    assert admin.put(f"{GROUPS}/{group['id']}/users/{stranger['id']}").status_code == 204
    assert admin.head(f"{GROUPS}/{group['id']}/users/{stranger['id']}").status_code == 204


def test_groups_of_a_user(client: TestClient, admin: TestClient) -> None:
    user = make_user(admin)
    groups = [make_group(admin) for _ in range(2)]
    for group in groups:
        admin.put(f"{GROUPS}/{group['id']}/users/{user['id']}")
    resp = admin.get(f"{V3}/users/{user['id']}/groups")
    assert resp.status_code == 200
    listed = resp.json()["groups"]
    assert all(g.pop("membership_expires_at") is None for g in listed)
    assert sorted(listed, key=lambda g: g["name"]) == sorted(groups, key=lambda g: g["name"])
    by_name = admin.get(f"{V3}/users/{user['id']}/groups", params={"name": groups[0]["name"]})
    assert [g["id"] for g in by_name.json()["groups"]] == [groups[0]["id"]]

    # A user may list their own groups, but not someone else's.
    own = token_for(client, user["id"])
    mine = client.get(f"{V3}/users/{user['id']}/groups", headers={"X-Auth-Token": own})
    assert mine.status_code == 200 and len(mine.json()["groups"]) == 2
    other = make_user(admin)
    theirs = client.get(f"{V3}/users/{other['id']}/groups", headers={"X-Auth-Token": own})
    assert theirs.status_code == 403


def test_removing_a_member_revokes_their_tokens(
    client: TestClient, admin: TestClient, admin_token: str, ident: Identity
) -> None:
    project, user, group = make_project(admin), make_user(admin), make_group(admin)
    member = role_id(ident, "member")
    url = f"{V3}/projects/{project['id']}/groups/{group['id']}/roles/{member}"
    assert admin.put(url).status_code == 204
    assert admin.put(f"{GROUPS}/{group['id']}/users/{user['id']}").status_code == 204
    token = token_for(client, user["id"], {"project": {"id": project["id"]}})
    unscoped = token_for(client, user["id"])
    assert validate(client, admin_token, token).status_code == 200

    assert admin.delete(f"{GROUPS}/{group['id']}/users/{user['id']}").status_code == 204
    # Keystone revokes every token of the user, even ones not using the group's roles.
    assert validate(client, admin_token, token).status_code == 404
    assert validate(client, admin_token, unscoped).status_code == 404


def test_deleting_a_group_drops_grants_and_revokes_members(
    client: TestClient, admin: TestClient, admin_token: str, ident: Identity
) -> None:
    project, user, group = make_project(admin), make_user(admin), make_group(admin)
    member = role_id(ident, "member")
    admin.put(f"{V3}/projects/{project['id']}/groups/{group['id']}/roles/{member}")
    admin.put(f"{GROUPS}/{group['id']}/users/{user['id']}")
    token = token_for(client, user["id"], {"project": {"id": project["id"]}})

    assert admin.delete(f"{GROUPS}/{group['id']}").status_code == 204
    assert validate(client, admin_token, token).status_code == 404
    assert admin.get(f"{V3}/users/{user['id']}/groups").json()["groups"] == []
    left = admin.get(f"{V3}/role_assignments", params={"group.id": group["id"]})
    assert left.json()["role_assignments"] == []


def test_deleting_a_group_without_grants_keeps_member_tokens(
    client: TestClient, admin: TestClient, admin_token: str
) -> None:
    user, group = make_user(admin), make_group(admin)
    admin.put(f"{GROUPS}/{group['id']}/users/{user['id']}")
    token = token_for(client, user["id"])
    assert admin.delete(f"{GROUPS}/{group['id']}").status_code == 204
    assert validate(client, admin_token, token).status_code == 200
