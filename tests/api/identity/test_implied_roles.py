"""Implied roles (/v3/roles/{prior}/implies/{implied}) and /v3/role_inferences."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from kumo.identity.db.models import Assignment, ImpliedRole, User
from kumo.identity.service.core import Identity, new_id
from tests.api.identity.test_roles import create_domain, create_role, project_id
from tests.conftest import ADMIN_PASSWORD, issue, unique

V3 = "/identity/v3"
BASE = "http://127.0.0.1:8780/identity/v3"


def imply(admin: TestClient, prior: str, implied: str) -> dict[str, Any]:
    resp = admin.put(f"{V3}/roles/{prior}/implies/{implied}")
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def role_id(admin: TestClient, name: str) -> str:
    found = admin.get(f"{V3}/roles", params={"name": name}).json()["roles"]
    rid: str = found[0]["id"]
    return rid


def test_create_check_show_delete_rule(admin: TestClient) -> None:
    prior, implied = create_role(admin), create_role(admin)
    url = f"{V3}/roles/{prior['id']}/implies/{implied['id']}"
    assert admin.get(url).status_code == 404
    assert admin.head(url).status_code == 404

    body = imply(admin, prior["id"], implied["id"])
    assert body == {
        "role_inference": {
            "prior_role": {
                "id": prior["id"],
                "name": prior["name"],
                "links": {"self": f"{BASE}/roles/{prior['id']}"},
            },
            "implies": {
                "id": implied["id"],
                "name": implied["name"],
                "links": {"self": f"{BASE}/roles/{implied['id']}"},
            },
        },
        "links": {"self": f"{BASE}/roles/{prior['id']}/implies/{implied['id']}"},
    }
    assert admin.get(url).json() == body
    assert admin.head(url).status_code == 204
    # The rule already exists (Keystone: 409).
    assert admin.put(url).status_code == 409

    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404
    assert admin.delete(url).status_code == 404


def test_list_implied_roles_is_direct_only(admin: TestClient) -> None:
    a, b, c, d = (create_role(admin) for _ in range(4))
    imply(admin, a["id"], b["id"])
    imply(admin, a["id"], c["id"])
    imply(admin, c["id"], d["id"])
    body = admin.get(f"{V3}/roles/{a['id']}/implies").json()
    assert body["role_inference"]["prior_role"]["id"] == a["id"]
    assert sorted(r["id"] for r in body["role_inference"]["implies"]) == sorted([b["id"], c["id"]])
    assert body["links"]["self"] == f"{BASE}/roles/{a['id']}/implies"
    leaf = admin.get(f"{V3}/roles/{d['id']}/implies").json()
    assert leaf["role_inference"]["implies"] == []


def test_role_inferences_lists_every_rule(admin: TestClient) -> None:
    a, b, c = (create_role(admin) for _ in range(3))
    imply(admin, a["id"], b["id"])
    imply(admin, a["id"], c["id"])
    rules = admin.get(f"{V3}/role_inferences").json()["role_inferences"]
    by_prior = {r["prior_role"]["id"]: r for r in rules}
    assert sorted(r["id"] for r in by_prior[a["id"]]["implies"]) == sorted([b["id"], c["id"]])
    assert by_prior[a["id"]]["prior_role"]["name"] == a["name"]
    # The bootstrap's chain: admin ⊃ manager ⊃ member ⊃ reader.
    names = {(r["prior_role"]["name"], i["name"]) for r in rules for i in r["implies"]}
    assert {("admin", "manager"), ("manager", "member"), ("member", "reader")} <= names


def test_unknown_roles_are_404(admin: TestClient) -> None:
    role = create_role(admin)
    missing = new_id()
    for url in (
        f"{V3}/roles/{missing}/implies/{role['id']}",
        f"{V3}/roles/{role['id']}/implies/{missing}",
    ):
        assert admin.put(url).status_code == 404
        assert admin.get(url).status_code == 404
        assert admin.delete(url).status_code == 404
    assert admin.get(f"{V3}/roles/{missing}/implies").status_code == 404


def test_prohibited_and_cross_domain_rules_are_forbidden(admin: TestClient) -> None:
    role = create_role(admin)
    # Nothing may imply admin (Keystone's prohibited_implied_role).
    admin_id = role_id(admin, "admin")
    assert admin.put(f"{V3}/roles/{role['id']}/implies/{admin_id}").status_code == 403
    domain_role = create_role(admin, domain_id=create_domain(admin))
    # A global role may not imply a domain-specific role …
    assert admin.put(f"{V3}/roles/{role['id']}/implies/{domain_role['id']}").status_code == 403
    # … but a domain-specific role may imply a global one, or one of another domain.
    imply(admin, domain_role["id"], role["id"])
    other = create_role(admin, domain_id=create_domain(admin))
    imply(admin, domain_role["id"], other["id"])


def test_cycles_are_allowed_as_in_keystone(admin: TestClient) -> None:
    a, b = create_role(admin), create_role(admin)
    imply(admin, a["id"], b["id"])
    imply(admin, b["id"], a["id"])
    imply(admin, a["id"], a["id"])
    implied = admin.get(f"{V3}/roles/{a['id']}/implies").json()["role_inference"]["implies"]
    assert sorted(r["id"] for r in implied) == sorted([a["id"], b["id"]])


def test_non_admin_cannot_manage_rules(client: TestClient) -> None:
    admin_headers = {"X-Auth-Token": issue(client)}
    demo = {"X-Auth-Token": issue(client, "demo", ADMIN_PASSWORD, project="demo")}
    ids = [
        client.post(
            f"{V3}/roles", json={"role": {"name": unique("r")}}, headers=admin_headers
        ).json()["role"]["id"]
        for _ in range(2)
    ]
    url = f"{V3}/roles/{ids[0]}/implies/{ids[1]}"
    assert client.put(url, headers=demo).status_code == 403
    assert client.put(url, headers=admin_headers).status_code == 201
    assert client.get(url, headers=demo).status_code == 403
    assert client.head(url, headers=demo).status_code == 403
    assert client.get(f"{V3}/roles/{ids[0]}/implies", headers=demo).status_code == 403
    assert client.get(f"{V3}/role_inferences", headers=demo).status_code == 403
    assert client.delete(url, headers=demo).status_code == 403
    assert client.head(url, headers=admin_headers).status_code == 204


def _grant(ident: Identity, user: str, project: str, role: str) -> None:
    with ident.db.writer() as s:
        uid = s.scalars(select(User.id).where(User.name == user)).one()
        s.add(
            Assignment(
                type="UserProject", actor_id=uid, target_id=project, role_id=role, inherited=False
            )
        )


def _token_roles(admin: TestClient, token: str) -> set[str]:
    body = admin.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token}).json()
    return {r["name"] for r in body["token"]["roles"]}


def test_implied_roles_appear_in_tokens(
    admin: TestClient, client: TestClient, ident: Identity
) -> None:
    prior = create_role(admin, name=unique("admin2"))
    implied = create_role(admin, name=unique("member2"))
    further = create_role(admin, name=unique("reader2"))
    imply(admin, prior["id"], implied["id"])
    imply(admin, implied["id"], further["id"])
    _grant(ident, "demo", project_id(admin, "demo"), prior["id"])

    token = issue(client, "demo", ADMIN_PASSWORD, project="demo")
    assert {prior["name"], implied["name"], further["name"]} <= _token_roles(admin, token)

    # Without the rule, a new token carries only the prior role.
    admin.delete(f"{V3}/roles/{prior['id']}/implies/{implied['id']}")
    token = issue(client, "demo", ADMIN_PASSWORD, project="demo")
    roles = _token_roles(admin, token)
    assert prior["name"] in roles
    assert implied["name"] not in roles and further["name"] not in roles


def test_domain_specific_roles_only_carry_what_they_imply(
    admin: TestClient, client: TestClient, ident: Identity
) -> None:
    domain_role = create_role(admin, domain_id="default")
    implied = create_role(admin)
    imply(admin, domain_role["id"], implied["id"])
    _grant(ident, "demo", project_id(admin, "demo"), domain_role["id"])
    roles = _token_roles(admin, issue(client, "demo", ADMIN_PASSWORD, project="demo"))
    assert implied["name"] in roles
    assert domain_role["name"] not in roles


def test_deleting_a_role_deletes_its_rules(admin: TestClient, ident: Identity) -> None:
    a, b, c = (create_role(admin) for _ in range(3))
    imply(admin, a["id"], b["id"])
    imply(admin, b["id"], c["id"])
    assert admin.delete(f"{V3}/roles/{b['id']}").status_code == 204
    assert admin.get(f"{V3}/roles/{a['id']}/implies").json()["role_inference"]["implies"] == []
    with ident.db.reader() as s:
        left = s.scalars(
            select(ImpliedRole).where(
                (ImpliedRole.prior_role_id == b["id"]) | (ImpliedRole.implied_role_id == b["id"])
            )
        ).all()
    assert left == []
