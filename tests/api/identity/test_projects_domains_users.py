"""Domains, projects and users, as the Identity API reference describes them."""

from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD, issue, password_auth, unique

V3 = "/identity/v3"


def test_domain_lifecycle(admin: TestClient) -> None:
    name = unique("dom")
    resp = admin.post(
        f"{V3}/domains", json={"domain": {"name": name, "description": "d", "tags": ["a"]}}
    )
    assert resp.status_code == 201
    domain = resp.json()["domain"]
    assert domain["enabled"] is True and domain["tags"] == ["a"]
    assert domain["links"]["self"].endswith(f"/identity/v3/domains/{domain['id']}")
    assert admin.post(f"{V3}/domains", json={"domain": {"name": name}}).status_code == 409
    listed = admin.get(f"{V3}/domains", params={"name": name}).json()["domains"]
    assert [d["id"] for d in listed] == [domain["id"]]
    # An enabled domain cannot be deleted (Keystone: 403).
    assert admin.delete(f"{V3}/domains/{domain['id']}").status_code == 403
    resp = admin.patch(f"{V3}/domains/{domain['id']}", json={"domain": {"enabled": False}})
    assert resp.json()["domain"]["enabled"] is False
    assert admin.delete(f"{V3}/domains/{domain['id']}").status_code == 204
    assert admin.get(f"{V3}/domains/{domain['id']}").status_code == 404


def test_deleting_domain_removes_its_projects_and_users(admin: TestClient) -> None:
    domain = admin.post(f"{V3}/domains", json={"domain": {"name": unique("d")}}).json()["domain"]
    project = admin.post(
        f"{V3}/projects", json={"project": {"name": "p", "domain_id": domain["id"]}}
    ).json()["project"]
    user = admin.post(
        f"{V3}/users", json={"user": {"name": "u", "domain_id": domain["id"]}}
    ).json()["user"]
    admin.patch(f"{V3}/domains/{domain['id']}", json={"domain": {"enabled": False}})
    assert admin.delete(f"{V3}/domains/{domain['id']}").status_code == 204
    assert admin.get(f"{V3}/projects/{project['id']}").status_code == 404
    assert admin.get(f"{V3}/users/{user['id']}").status_code == 404


def test_project_hierarchy_and_filters(admin: TestClient) -> None:
    parent = admin.post(
        f"{V3}/projects", json={"project": {"name": unique("parent"), "tags": ["x", "y"]}}
    ).json()["project"]
    assert parent["domain_id"] == "default" and parent["parent_id"] == "default"
    child = admin.post(
        f"{V3}/projects",
        json={
            "project": {"name": unique("child"), "parent_id": parent["id"], "extra_attr": "kept"}
        },
    )
    assert child.status_code == 201
    child_p = child.json()["project"]
    assert child_p["parent_id"] == parent["id"] and child_p["extra_attr"] == "kept"
    listed = admin.get(f"{V3}/projects", params={"parent_id": parent["id"]}).json()["projects"]
    assert [p["id"] for p in listed] == [child_p["id"]]
    tagged = admin.get(f"{V3}/projects", params={"tags": "x,y"}).json()["projects"]
    assert parent["id"] in [p["id"] for p in tagged]
    assert child_p["id"] not in [p["id"] for p in tagged]
    shown = admin.get(f"{V3}/projects/{child_p['id']}", params={"parents_as_ids": ""}).json()
    # As Keystone nests them: the parent, then its domain.
    assert shown["project"]["parents"] == {parent["id"]: {"default": None}}
    # Not a leaf: 403; enabled children block disabling the parent.
    assert admin.delete(f"{V3}/projects/{parent['id']}").status_code == 403
    assert (
        admin.patch(
            f"{V3}/projects/{parent['id']}", json={"project": {"enabled": False}}
        ).status_code
        == 403
    )
    assert (
        admin.patch(
            f"{V3}/projects/{child_p['id']}", json={"project": {"domain_id": "other"}}
        ).status_code
        == 400
    )
    assert admin.delete(f"{V3}/projects/{child_p['id']}").status_code == 204
    assert admin.delete(f"{V3}/projects/{parent['id']}").status_code == 204


def test_project_name_rules(admin: TestClient) -> None:
    name = unique("p")
    assert admin.post(f"{V3}/projects", json={"project": {"name": name}}).status_code == 201
    assert admin.post(f"{V3}/projects", json={"project": {"name": name}}).status_code == 409
    for bad in (
        {"name": ""},
        {"name": "x" * 65},
        {"name": "   "},
        {"name": 5},
        {"name": "ok", "enabled": "yes"},
        {},
    ):
        resp = admin.post(f"{V3}/projects", json={"project": bad})
        assert resp.status_code == 400, (bad, resp.text)
        assert "error" in resp.json()
    assert admin.post(f"{V3}/projects", json={"project": {"name": "ok"}, "x": 1}).status_code == 400


def test_project_tags(admin: TestClient) -> None:
    pid = admin.post(f"{V3}/projects", json={"project": {"name": unique("t")}}).json()["project"][
        "id"
    ]
    assert admin.put(f"{V3}/projects/{pid}/tags/blue").status_code == 201
    assert admin.get(f"{V3}/projects/{pid}/tags/blue").status_code == 204
    assert admin.get(f"{V3}/projects/{pid}/tags/red").status_code == 404
    assert admin.put(f"{V3}/projects/{pid}/tags", json={"tags": ["a", "b"]}).json()["tags"] == [
        "a",
        "b",
    ]
    assert admin.put(f"{V3}/projects/{pid}/tags", json={"tags": ["a/b"]}).status_code == 400
    assert admin.delete(f"{V3}/projects/{pid}/tags").status_code == 204
    assert admin.get(f"{V3}/projects/{pid}/tags").json()["tags"] == []


def test_user_lifecycle_and_password(admin: TestClient, client: TestClient) -> None:
    name = unique("u")
    resp = admin.post(
        f"{V3}/users", json={"user": {"name": name, "password": "pw-one", "email": "u@example.org"}}
    )
    assert resp.status_code == 201
    user = resp.json()["user"]
    assert user["email"] == "u@example.org" and "password" not in user
    assert admin.post(f"{V3}/users", json={"user": {"name": name}}).status_code == 409
    assert [u["id"] for u in admin.get(f"{V3}/users", params={"name": name}).json()["users"]] == [
        user["id"]
    ]
    assert admin.get(f"{V3}/users", params={"name__startswith": name[:4]}).status_code == 200
    # Unscoped token with the password.
    assert client.post(f"{V3}/auth/tokens", json=password_auth(name, "pw-one")).status_code == 201
    resp = admin.patch(f"{V3}/users/{user['id']}", json={"user": {"password": "pw-two"}})
    assert resp.status_code == 200
    assert client.post(f"{V3}/auth/tokens", json=password_auth(name, "pw-one")).status_code == 401
    # Self-service change needs the original password, not a token.
    bad = client.post(
        f"{V3}/users/{user['id']}/password",
        json={"user": {"original_password": "nope", "password": "pw-3"}},
    )
    assert bad.status_code == 401
    good = client.post(
        f"{V3}/users/{user['id']}/password",
        json={"user": {"original_password": "pw-two", "password": "pw-3"}},
    )
    assert good.status_code == 204
    assert client.post(f"{V3}/auth/tokens", json=password_auth(name, "pw-3")).status_code == 201
    assert admin.delete(f"{V3}/users/{user['id']}").status_code == 204
    assert admin.get(f"{V3}/users/{user['id']}").status_code == 404
    assert admin.delete(f"{V3}/users/{user['id']}").status_code == 404


def test_members_cannot_administer_identity(client: TestClient) -> None:
    demo = {"X-Auth-Token": issue(client, "demo", ADMIN_PASSWORD, project="demo")}
    assert client.post(f"{V3}/users", json={"user": {"name": "x"}}, headers=demo).status_code == 403
    assert (
        client.post(f"{V3}/projects", json={"project": {"name": "x"}}, headers=demo).status_code
        == 403
    )
    assert client.get(f"{V3}/domains", headers=demo).status_code == 403
    me = client.get(
        f"{V3}/auth/tokens", headers={**demo, "X-Subject-Token": demo["X-Auth-Token"]}
    ).json()["token"]["user"]["id"]
    # …but may read themselves and their own project.
    assert client.get(f"{V3}/users/{me}", headers=demo).status_code == 200
    projects = client.get(f"{V3}/users/{me}/projects", headers=demo).json()["projects"]
    assert [p["name"] for p in projects] == ["demo"]


def test_unknown_route_and_method_in_keystone_format(admin: TestClient) -> None:
    resp = admin.get(f"{V3}/nothing-here")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == 404
    resp = admin.put(f"{V3}/users")
    assert resp.status_code == 405 and resp.json()["error"]["code"] == 405


def test_body_size_limit(admin: TestClient) -> None:
    resp = admin.post(
        f"{V3}/projects",
        content=b"{" + b" " * (2 << 20) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == 413


def test_immutable_projects_and_domains(admin: TestClient) -> None:
    pid = admin.post(
        f"{V3}/projects", json={"project": {"name": unique("imm"), "options": {"immutable": True}}}
    ).json()["project"]["id"]
    resp = admin.patch(f"{V3}/projects/{pid}", json={"project": {"description": "x"}})
    assert resp.status_code == 403 and "immutable" in resp.json()["error"]["message"]
    assert admin.delete(f"{V3}/projects/{pid}").status_code == 403
    assert (
        admin.patch(
            f"{V3}/projects/{pid}", json={"project": {"options": {"immutable": False}}}
        ).status_code
        == 200
    )
    assert admin.delete(f"{V3}/projects/{pid}").status_code == 204
    did = admin.post(
        f"{V3}/domains", json={"domain": {"name": unique("imm"), "options": {"immutable": True}}}
    ).json()["domain"]["id"]
    assert (
        admin.patch(f"{V3}/domains/{did}", json={"domain": {"enabled": False}}).status_code == 403
    )
