"""Roles (/v3/roles), as the Identity API reference describes them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kumo.identity.db.models import ApplicationCredential, Assignment, Group, Membership, User
from kumo.identity.service.core import Identity, new_id
from tests.conftest import ADMIN_PASSWORD, issue, unique

V3 = "/identity/v3"


def create_role(admin: TestClient, **fields: Any) -> dict[str, Any]:
    """Create a role (asserting 201) and return it."""
    fields.setdefault("name", unique("role"))
    resp = admin.post(f"{V3}/roles", json={"role": fields})
    assert resp.status_code == 201, resp.text
    role: dict[str, Any] = resp.json()["role"]
    return role


def create_domain(admin: TestClient) -> str:
    resp = admin.post(f"{V3}/domains", json={"domain": {"name": unique("dom")}})
    assert resp.status_code == 201, resp.text
    domain_id: str = resp.json()["domain"]["id"]
    return domain_id


def user_id(ident: Identity, name: str) -> str:
    with ident.db.reader() as s:
        return s.scalars(select(User.id).where(User.name == name)).one()


def project_id(admin: TestClient, name: str) -> str:
    found = admin.get(f"{V3}/projects", params={"name": name}).json()["projects"]
    pid: str = found[0]["id"]
    return pid


def validate(admin: TestClient, token: str) -> int:
    status: int = admin.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token}).status_code
    return status


def test_role_lifecycle(admin: TestClient) -> None:
    name = unique("role")
    role = create_role(admin, name=name, description="Reads the books")
    assert set(role) == {"id", "name", "domain_id", "description", "options", "links"}
    assert role["name"] == name and role["domain_id"] is None and role["options"] == {}
    assert role["description"] == "Reads the books"
    assert role["links"]["self"] == f"http://127.0.0.1:8780{V3}/roles/{role['id']}"

    assert admin.get(f"{V3}/roles/{role['id']}").json()["role"] == role
    # The listed role equals the created one, field for field (tempest compares them).
    listed = admin.get(f"{V3}/roles").json()
    assert role in listed["roles"]
    assert listed["links"]["self"].endswith("/identity/v3/roles")
    by_name = admin.get(f"{V3}/roles", params={"name": name}).json()["roles"]
    assert by_name == [role]

    new_name = unique("renamed")
    resp = admin.patch(
        f"{V3}/roles/{role['id']}", json={"role": {"name": new_name, "description": None}}
    )
    assert resp.status_code == 200, resp.text
    updated = resp.json()["role"]
    assert updated["name"] == new_name and updated["description"] is None
    assert admin.get(f"{V3}/roles/{role['id']}").json()["role"] == updated

    assert admin.delete(f"{V3}/roles/{role['id']}").status_code == 204
    assert admin.get(f"{V3}/roles/{role['id']}").status_code == 404
    assert admin.delete(f"{V3}/roles/{role['id']}").status_code == 404
    assert admin.get(f"{V3}/roles", params={"name": new_name}).json()["roles"] == []


def test_bootstrap_roles_are_listed(admin: TestClient) -> None:
    names = {r["name"] for r in admin.get(f"{V3}/roles").json()["roles"]}
    assert {"admin", "manager", "member", "reader", "service"} <= names


def test_name_filter_operators(admin: TestClient) -> None:
    prefix = unique("flt")
    one = create_role(admin, name=f"{prefix}-one")
    two = create_role(admin, name=f"{prefix}-two")
    found = admin.get(f"{V3}/roles", params={"name__startswith": prefix}).json()["roles"]
    assert sorted(r["id"] for r in found) == sorted([one["id"], two["id"]])


def test_domain_specific_roles(admin: TestClient) -> None:
    domain_id = create_domain(admin)
    name = unique("shared")
    global_role = create_role(admin, name=name)
    # A domain role may share a name with a global role.
    domain_role = create_role(admin, name=name, domain_id=domain_id)
    assert domain_role["domain_id"] == domain_id

    global_list = admin.get(f"{V3}/roles").json()["roles"]
    assert global_role in global_list
    assert domain_role["id"] not in [r["id"] for r in global_list]
    in_domain = admin.get(f"{V3}/roles", params={"domain_id": domain_id}).json()["roles"]
    assert in_domain == [domain_role]
    assert admin.get(f"{V3}/roles/{domain_role['id']}").json()["role"] == domain_role

    # Names are unique within one domain, not across domains.
    dup = admin.post(f"{V3}/roles", json={"role": {"name": name, "domain_id": domain_id}})
    assert dup.status_code == 409
    other = create_role(admin, name=name, domain_id=create_domain(admin))
    assert other["id"] != domain_role["id"]

    # The domain of a role never changes.
    moved = admin.patch(
        f"{V3}/roles/{domain_role['id']}", json={"role": {"domain_id": create_domain(admin)}}
    )
    assert moved.status_code == 400
    same = admin.patch(f"{V3}/roles/{domain_role['id']}", json={"role": {"domain_id": domain_id}})
    assert same.status_code == 200
    assert admin.delete(f"{V3}/roles/{domain_role['id']}").status_code == 204
    assert admin.get(f"{V3}/roles", params={"domain_id": domain_id}).json()["roles"] == []


def test_duplicate_names_conflict(admin: TestClient) -> None:
    role = create_role(admin)
    resp = admin.post(f"{V3}/roles", json={"role": {"name": role["name"]}})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == 409
    other = create_role(admin)
    renamed = admin.patch(f"{V3}/roles/{other['id']}", json={"role": {"name": role["name"]}})
    assert renamed.status_code == 409
    # Renaming a role to its own name is not a conflict.
    same = admin.patch(f"{V3}/roles/{role['id']}", json={"role": {"name": role["name"]}})
    assert same.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"role": {}},
        {"role": {"name": ""}},
        {"role": {"name": "   "}},
        {"role": {"name": "x" * 256}},
        {"role": {"name": 42}},
        {"role": {"name": "ok", "description": "d" * 256}},
        {"role": {"name": "ok", "domain_id": ""}},
        {"role": {"name": "ok", "domain_id": "no-such-domain"}},
        {"role": {"name": "ok", "options": {"bogus": True}}},
        {"role": {"name": "ok", "options": {"immutable": "yes"}}},
        {"role": {"name": "ok"}, "other": 1},
    ],
)
def test_create_rejects_bad_input(admin: TestClient, body: dict[str, Any]) -> None:
    resp = admin.post(f"{V3}/roles", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == 400


def test_name_of_255_characters_is_accepted(admin: TestClient) -> None:
    name = unique("long").ljust(255, "x")
    assert create_role(admin, name=name)["name"] == name


@pytest.mark.parametrize(
    "body",
    [
        {"role": {}},
        {"role": {"name": None}},
        {"role": {"name": ""}},
        {"role": {"name": "y" * 256}},
        {"role": {"id": "another-id"}},
        {"role": {"options": {"immutable": 1}}},
    ],
)
def test_update_rejects_bad_input(admin: TestClient, body: dict[str, Any]) -> None:
    role = create_role(admin)
    resp = admin.patch(f"{V3}/roles/{role['id']}", json=body)
    assert resp.status_code == 400, resp.text
    assert admin.get(f"{V3}/roles/{role['id']}").json()["role"] == role


def test_missing_role_is_404(admin: TestClient) -> None:
    missing = new_id()
    assert admin.get(f"{V3}/roles/{missing}").status_code == 404
    assert admin.patch(f"{V3}/roles/{missing}", json={"role": {"name": "x"}}).status_code == 404
    resp = admin.delete(f"{V3}/roles/{missing}")
    assert resp.status_code == 404
    assert missing in resp.json()["error"]["message"]


def test_extra_attributes_are_kept(admin: TestClient) -> None:
    role = create_role(admin, colour="blue")
    assert role["colour"] == "blue"
    resp = admin.patch(f"{V3}/roles/{role['id']}", json={"role": {"size": 3}})
    assert resp.json()["role"]["colour"] == "blue" and resp.json()["role"]["size"] == 3


def test_non_admin_cannot_manage_roles(client: TestClient) -> None:
    admin_headers = {"X-Auth-Token": issue(client)}
    demo = {"X-Auth-Token": issue(client, "demo", ADMIN_PASSWORD, project="demo")}
    role = client.post(
        f"{V3}/roles", json={"role": {"name": unique("r")}}, headers=admin_headers
    ).json()["role"]
    url = f"{V3}/roles/{role['id']}"
    assert client.post(f"{V3}/roles", json={"role": {"name": "x"}}, headers=demo).status_code == 403
    assert client.patch(url, json={"role": {"name": "x"}}, headers=demo).status_code == 403
    assert client.delete(url, headers=demo).status_code == 403
    assert client.get(url, headers=demo).status_code == 403
    assert client.get(f"{V3}/roles", headers=demo).status_code == 403
    # A missing role is not revealed to a caller who may not read roles.
    assert client.get(f"{V3}/roles/{new_id()}", headers=demo).status_code == 403
    assert client.get(url, headers=admin_headers).json()["role"]["name"] == role["name"]


def test_immutable_role(admin: TestClient) -> None:
    role = create_role(admin, options={"immutable": True})
    assert role["options"] == {"immutable": True}
    url = f"{V3}/roles/{role['id']}"
    assert admin.patch(url, json={"role": {"name": unique("x")}}).status_code == 403
    assert admin.patch(url, json={"role": {"colour": "red"}}).status_code == 403
    # Making it mutable must be the only change in the request.
    both = {"role": {"name": unique("x"), "options": {"immutable": False}}}
    assert admin.patch(url, json=both).status_code == 403
    resp = admin.delete(url)
    assert resp.status_code == 403
    assert "immutable" in resp.json()["error"]["message"]
    assert admin.get(url).json()["role"] == role

    resp = admin.patch(url, json={"role": {"options": {"immutable": False}}})
    assert resp.status_code == 200
    assert resp.json()["role"]["options"] == {"immutable": False}
    # A null option is removed.
    resp = admin.patch(url, json={"role": {"options": {"immutable": None}}})
    assert resp.json()["role"]["options"] == {}
    assert admin.delete(url).status_code == 204


def test_deleting_a_role_revokes_its_holders_tokens(
    admin: TestClient, client: TestClient, ident: Identity
) -> None:
    role = create_role(admin)
    demo_id, demo_project = user_id(ident, "demo"), project_id(admin, "demo")
    with ident.db.writer() as s:
        s.add(
            Assignment(
                type="UserProject",
                actor_id=demo_id,
                target_id=demo_project,
                role_id=role["id"],
                inherited=False,
            )
        )
        s.add(
            ApplicationCredential(
                id=new_id(),
                name=unique("ac"),
                user_id=demo_id,
                project_id=demo_project,
                secret_hash="x",
                role_ids=[role["id"]],
            )
        )
    token = issue(client, "demo", ADMIN_PASSWORD, project="demo")
    body = admin.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token}).json()
    assert role["name"] in {r["name"] for r in body["token"]["roles"]}

    assert admin.delete(f"{V3}/roles/{role['id']}").status_code == 204
    # demo still has member and reader there, so only the revocation makes this 404.
    assert validate(admin, token) == 404
    with ident.db.reader() as s:
        assert s.scalars(select(Assignment).where(Assignment.role_id == role["id"])).all() == []
        assert (
            s.scalars(
                select(ApplicationCredential).where(ApplicationCredential.user_id == demo_id)
            ).all()
            == []
        )
    fresh = issue(client, "demo", ADMIN_PASSWORD, project="demo")
    body = admin.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": fresh}).json()
    assert role["name"] not in {r["name"] for r in body["token"]["roles"]}


def test_deleting_a_role_revokes_tokens_of_group_members(
    admin: TestClient, client: TestClient, ident: Identity
) -> None:
    role = create_role(admin)
    alt_id, alt_project = user_id(ident, "alt_demo"), project_id(admin, "alt_demo")
    group_id = new_id()
    with ident.db.writer() as s:
        s.add(Group(id=group_id, name=unique("g"), domain_id="default", extra={}))
        s.flush()
        s.add(Membership(user_id=alt_id, group_id=group_id))
        s.add(
            Assignment(
                type="GroupProject",
                actor_id=group_id,
                target_id=alt_project,
                role_id=role["id"],
                inherited=False,
            )
        )
    alt_token = issue(client, "alt_demo", ADMIN_PASSWORD, project="alt_demo")
    demo_token = issue(client, "demo", ADMIN_PASSWORD, project="demo")
    assert validate(admin, alt_token) == 200
    assert admin.delete(f"{V3}/roles/{role['id']}").status_code == 204
    assert validate(admin, alt_token) == 404
    # Users who never held the role keep their tokens.
    assert validate(admin, demo_token) == 200
