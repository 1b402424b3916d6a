"""GET /v3/role_assignments: filters, effective mode, include_names, include_subtree."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.identity.service.core import Identity
from tests.api.identity._grant_helpers import (
    V3,
    make_domain,
    make_group,
    make_project,
    make_role,
    make_user,
    role_id,
    token_for,
)
from tests.conftest import ADMIN_PASSWORD, issue

RA = f"{V3}/role_assignments"
BASE = "http://127.0.0.1:8780/identity/v3"


def listing(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    resp = client.get(RA, params=params)
    assert resp.status_code == 200, resp.text
    assert resp.json()["links"]["self"].startswith(f"{BASE}/role_assignments")
    return list(resp.json()["role_assignments"])


def summary(found: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """(actor, target, role, inherited?) of each assignment, ids only."""
    out = set()
    for a in found:
        actor = a["user"]["id"] if "user" in a else "group:" + a["group"]["id"]
        scope = a["scope"]
        target = (
            scope["project"]["id"]
            if "project" in scope
            else scope["domain"]["id"]
            if "domain" in scope
            else "system"
        )
        out.add((actor, target, a["role"]["id"], scope.get("OS-INHERIT:inherited_to", "")))
    return out


def test_direct_listing_and_filters(admin: TestClient, ident: Identity) -> None:
    domain = make_domain(admin)
    project = make_project(admin, domain["id"])
    user, group = make_user(admin), make_group(admin)
    role = make_role(ident)
    admin.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{role}")
    admin.put(f"{V3}/domains/{domain['id']}/groups/{group['id']}/roles/{role}")
    admin.put(f"{V3}/system/users/{user['id']}/roles/{role}")
    inherited = f"{V3}/OS-INHERIT/domains/{domain['id']}/users/{user['id']}/roles/{role}"
    admin.put(f"{inherited}/inherited_to_projects")

    everything = summary(listing(admin))
    expected = {
        (user["id"], project["id"], role, ""),
        ("group:" + group["id"], domain["id"], role, ""),
        (user["id"], "system", role, ""),
        (user["id"], domain["id"], role, "projects"),
    }
    assert expected <= everything
    assert summary(listing(admin, **{"role.id": role})) == expected
    assert summary(listing(admin, **{"user.id": user["id"]})) == expected - {
        ("group:" + group["id"], domain["id"], role, "")
    }
    assert summary(listing(admin, **{"group.id": group["id"]})) == {
        ("group:" + group["id"], domain["id"], role, "")
    }
    assert summary(listing(admin, **{"scope.project.id": project["id"]})) == {
        (user["id"], project["id"], role, "")
    }
    assert summary(listing(admin, **{"scope.domain.id": domain["id"]})) == {
        ("group:" + group["id"], domain["id"], role, ""),
        (user["id"], domain["id"], role, "projects"),
    }
    on_system = summary(listing(admin, **{"scope.system": "all", "role.id": role}))
    assert on_system == {(user["id"], "system", role, "")}
    only_inherited = listing(
        admin, **{"role.id": role, "scope.OS-INHERIT:inherited_to": "projects"}
    )
    assert summary(only_inherited) == {(user["id"], domain["id"], role, "projects")}
    assert only_inherited[0]["links"]["assignment"] == (
        f"{BASE}/OS-INHERIT/domains/{domain['id']}/users/{user['id']}/roles/{role}"
        "/inherited_to_projects"
    )


def test_assignment_shape_and_links(admin: TestClient, ident: Identity) -> None:
    project, user = make_project(admin), make_user(admin)
    role = make_role(ident)
    admin.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{role}")
    admin.put(f"{V3}/system/users/{user['id']}/roles/{role}")
    found = listing(admin, **{"user.id": user["id"]})
    on_project = next(a for a in found if "project" in a["scope"])
    assert on_project == {
        "role": {"id": role},
        "user": {"id": user["id"]},
        "scope": {"project": {"id": project["id"]}},
        "links": {"assignment": f"{BASE}/projects/{project['id']}/users/{user['id']}/roles/{role}"},
    }
    on_system = next(a for a in found if "system" in a["scope"])
    assert on_system["scope"] == {"system": {"all": True}}
    assert on_system["links"]["assignment"] == f"{BASE}/system/users/{user['id']}/roles/{role}"


def test_effective_expands_groups_inheritance_and_implied_roles(
    admin: TestClient, ident: Identity
) -> None:
    domain = make_domain(admin)
    parent = make_project(admin, domain["id"])
    child = make_project(admin, domain["id"], parent_id=parent["id"])
    alice, bob, group = make_user(admin), make_user(admin), make_group(admin)
    for user in (alice, bob):
        admin.put(f"{V3}/groups/{group['id']}/users/{user['id']}")
    implied = make_role(ident)
    prior = make_role(ident, implies=implied)
    admin.put(f"{V3}/projects/{parent['id']}/groups/{group['id']}/roles/{prior}")
    inherited_role = make_role(ident)
    admin.put(
        f"{V3}/OS-INHERIT/domains/{domain['id']}/users/{alice['id']}/roles/{inherited_role}"
        "/inherited_to_projects"
    )

    found = listing(admin, effective="true", **{"scope.project.id": parent["id"]})
    # No group assignment survives: each member gets one, linked to the membership.
    assert all("group" not in a for a in found)
    assert summary(found) == {
        (alice["id"], parent["id"], prior, ""),
        (bob["id"], parent["id"], prior, ""),
        (alice["id"], parent["id"], implied, ""),
        (bob["id"], parent["id"], implied, ""),
        (alice["id"], parent["id"], inherited_role, "projects"),
    }
    from_group = next(a for a in found if a["user"]["id"] == bob["id"] and a["role"]["id"] == prior)
    assert from_group["links"] == {
        "assignment": f"{BASE}/projects/{parent['id']}/groups/{group['id']}/roles/{prior}",
        "membership": f"{BASE}/groups/{group['id']}/users/{bob['id']}",
    }
    by_implication = next(
        a for a in found if a["user"]["id"] == bob["id"] and a["role"]["id"] == implied
    )
    assert by_implication["links"]["prior_role"] == f"{BASE}/roles/{prior}/implies/{implied}"
    # The implied role links back to the grant of its prior role.
    assert by_implication["links"]["assignment"] == from_group["links"]["assignment"]
    from_domain = next(a for a in found if a["role"]["id"] == inherited_role)
    assert from_domain["links"]["assignment"] == (
        f"{BASE}/OS-INHERIT/domains/{domain['id']}/users/{alice['id']}/roles/{inherited_role}"
        "/inherited_to_projects"
    )

    # The inherited domain grant lands on every project in the domain, never on the domain.
    alice_all = summary(listing(admin, effective="1", **{"user.id": alice["id"]}))
    assert (alice["id"], child["id"], inherited_role, "projects") in alice_all
    assert all(target != domain["id"] for _, target, _, _ in alice_all)
    # The group grant on the parent is not inherited, so the child has only alice's.
    on_child = summary(listing(admin, effective="", **{"scope.project.id": child["id"]}))
    assert on_child == {(alice["id"], child["id"], inherited_role, "projects")}
    # Role filter applies after implied roles are added.
    only_implied = listing(admin, effective="true", **{"role.id": implied})
    assert {a["user"]["id"] for a in only_implied} == {alice["id"], bob["id"]}


def test_effective_drops_domain_specific_roles(admin: TestClient, ident: Identity) -> None:
    domain = make_domain(admin)
    project, user = make_project(admin, domain["id"]), make_user(admin)
    member = role_id(ident, "member")
    local = make_role(ident, domain_id=domain["id"], implies=member)
    admin.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{local}")
    params = {"scope.project.id": project["id"], "user.id": user["id"]}
    assert {a["role"]["id"] for a in listing(admin, **params)} == {local}
    effective = {a["role"]["id"] for a in listing(admin, effective="true", **params)}
    # The domain role only implies others; reader comes from member's own implication.
    assert effective == {member, role_id(ident, "reader")}


def test_effective_for_a_user_matches_their_token(
    client: TestClient, admin: TestClient, ident: Identity
) -> None:
    project, user, group = make_project(admin), make_user(admin), make_group(admin)
    admin.put(f"{V3}/groups/{group['id']}/users/{user['id']}")
    admin.put(
        f"{V3}/projects/{project['id']}/groups/{group['id']}/roles/{role_id(ident, 'member')}"
    )
    params = {"scope.project.id": project["id"], "user.id": user["id"], "effective": "true"}
    names = {role_id(ident, n): n for n in ("member", "reader")}
    listed = {names[a["role"]["id"]] for a in listing(admin, **params)}
    token = token_for(client, user["id"], {"project": {"id": project["id"]}})
    resp = client.get(
        f"{V3}/auth/tokens",
        headers={"X-Auth-Token": client.headers["X-Auth-Token"], "X-Subject-Token": token},
    )
    assert listed == {r["name"] for r in resp.json()["token"]["roles"]} == {"member", "reader"}


def test_include_names(admin: TestClient, ident: Identity) -> None:
    domain = make_domain(admin)
    project, user, group = make_project(admin, domain["id"]), make_user(admin), make_group(admin)
    local = make_role(ident, domain_id=domain["id"])
    member = role_id(ident, "member")
    admin.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{local}")
    admin.put(f"{V3}/domains/{domain['id']}/groups/{group['id']}/roles/{member}")

    on_project = listing(admin, include_names="True", **{"user.id": user["id"]})
    assert on_project[0]["user"] == {
        "id": user["id"],
        "name": user["name"],
        "domain": {"id": "default", "name": "Default"},
    }
    assert on_project[0]["scope"]["project"] == {
        "id": project["id"],
        "name": project["name"],
        "domain": {"id": domain["id"], "name": domain["name"]},
    }
    role = on_project[0]["role"]
    assert role["id"] == local and role["name"]
    assert role["domain"] == {"id": domain["id"], "name": domain["name"]}

    on_domain = listing(admin, include_names="1", **{"group.id": group["id"]})
    assert on_domain[0]["group"]["name"] == group["name"]
    assert on_domain[0]["scope"]["domain"] == {"id": domain["id"], "name": domain["name"]}
    assert on_domain[0]["role"] == {"id": member, "name": "member"}
    # include_names=0 means no names, as Keystone reads flags.
    plain = listing(admin, include_names="0", **{"group.id": group["id"]})
    assert plain[0]["group"] == {"id": group["id"]}


def test_include_subtree(admin: TestClient, ident: Identity) -> None:
    parent = make_project(admin)
    child = make_project(admin, parent_id=parent["id"])
    grandchild = make_project(admin, parent_id=child["id"])
    user = make_user(admin)
    role = make_role(ident)
    for p in (parent, child, grandchild):
        admin.put(f"{V3}/projects/{p['id']}/users/{user['id']}/roles/{role}")
    params = {"scope.project.id": child["id"], "role.id": role}
    assert summary(listing(admin, **params)) == {(user["id"], child["id"], role, "")}
    assert summary(listing(admin, include_subtree="true", **params)) == {
        (user["id"], child["id"], role, ""),
        (user["id"], grandchild["id"], role, ""),
    }
    # An inherited grant inside the subtree reaches only the projects below it.
    inherited_role = make_role(ident)
    admin.put(
        f"{V3}/OS-INHERIT/projects/{child['id']}/users/{user['id']}/roles/{inherited_role}"
        "/inherited_to_projects"
    )
    tree = listing(
        admin,
        include_subtree="true",
        effective="true",
        **{"scope.project.id": parent["id"], "role.id": inherited_role},
    )
    assert summary(tree) == {(user["id"], grandchild["id"], inherited_role, "projects")}
    resp = admin.get(RA, params={"include_subtree": "true", "scope.project.id": "missing"})
    assert resp.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"scope.project.id": "p", "scope.domain.id": "d"},
        {"scope.project.id": "p", "scope.system": "all"},
        {"scope.domain.id": "d", "scope.system": "all"},
        {"user.id": "u", "group.id": "g"},
        {"effective": "true", "group.id": "g"},
        {"effective": "true", "scope.domain.id": "d", "scope.OS-INHERIT:inherited_to": "projects"},
        {"include_subtree": "true"},
    ],
)
def test_contradictory_filters_are_400(admin: TestClient, params: dict[str, str]) -> None:
    resp = admin.get(RA, params=params)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 400


def test_non_admin_is_forbidden(client: TestClient) -> None:
    demo = {"X-Auth-Token": issue(client, "demo", ADMIN_PASSWORD, project="demo")}
    assert client.get(RA, headers=demo).status_code == 403
    resp = client.get(RA, headers=demo, params={"include_subtree": "1", "scope.project.id": "x"})
    assert resp.status_code == 403


def test_domain_reader_sees_only_their_domain(
    client: TestClient, admin: TestClient, ident: Identity
) -> None:
    domain = make_domain(admin)
    auditor = make_user(admin, domain["id"])
    reader = role_id(ident, "reader")
    admin.put(f"{V3}/domains/{domain['id']}/users/{auditor['id']}/roles/{reader}")
    inside, outside = make_project(admin, domain["id"]), make_project(admin)
    user = make_user(admin)
    role = make_role(ident)
    for project in (inside, outside):
        admin.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{role}")
    token = token_for(client, auditor["id"], {"domain": {"id": domain["id"]}})
    resp = client.get(RA, headers={"X-Auth-Token": token}, params={"user.id": user["id"]})
    assert resp.status_code == 200
    assert summary(resp.json()["role_assignments"]) == {(user["id"], inside["id"], role, "")}
