"""Role grants on projects, domains and the system, and OS-INHERIT grants."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kumo.identity.service.core import Identity
from tests.api.identity._grant_helpers import (
    TOKENS,
    V3,
    auth_body,
    make_domain,
    make_group,
    make_project,
    make_role,
    make_user,
    role_id,
    token_for,
    token_roles,
    validate,
)
from tests.conftest import ADMIN_PASSWORD, issue

INHERIT = f"{V3}/OS-INHERIT"


def _grant_url(admin: TestClient, target: str, actor: str) -> str:
    """The grant list URL of a fresh actor on a fresh target (roles go below it)."""
    actor_id = (make_user(admin) if actor == "users" else make_group(admin))["id"]
    if target == "system":
        base = f"{V3}/system/{actor}/{actor_id}/roles"
    else:
        target_id = (make_project(admin) if target == "projects" else make_domain(admin))["id"]
        base = f"{V3}/{target}/{target_id}/{actor}/{actor_id}/roles"
    return base


@pytest.mark.parametrize("target", ["projects", "domains", "system"])
@pytest.mark.parametrize("actor", ["users", "groups"])
def test_grant_list_check_revoke(
    admin: TestClient, ident: Identity, target: str, actor: str
) -> None:
    base = _grant_url(admin, target, actor)
    role = make_role(ident)
    assert admin.get(base).json()["roles"] == []

    assert admin.put(f"{base}/{role}").status_code == 204
    assert admin.put(f"{base}/{role}").status_code == 204  # granting twice is fine
    listed = admin.get(base)
    assert listed.status_code == 200
    roles = listed.json()["roles"]
    assert [r["id"] for r in roles] == [role]
    assert set(roles[0]) >= {"id", "name", "domain_id", "description", "options", "links"}
    assert roles[0]["domain_id"] is None
    assert roles[0]["links"]["self"].endswith(f"/identity/v3/roles/{role}")
    assert listed.json()["links"]["self"].endswith(base.removeprefix("/identity"))
    assert admin.head(base).status_code == 200

    assert admin.head(f"{base}/{role}").status_code == 204
    assert admin.get(f"{base}/{role}").status_code == 204
    assert admin.delete(f"{base}/{role}").status_code == 204
    assert admin.head(f"{base}/{role}").status_code == 404
    assert admin.delete(f"{base}/{role}").status_code == 404
    assert admin.get(base).json()["roles"] == []


@pytest.mark.parametrize("target", ["projects", "domains", "system"])
@pytest.mark.parametrize("actor", ["users", "groups"])
def test_missing_parties_are_404(
    admin: TestClient, ident: Identity, target: str, actor: str
) -> None:
    base = _grant_url(admin, target, actor)
    role = make_role(ident)
    resp = admin.put(f"{base}/missing-role")
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "Could not find role: missing-role."
    if target == "system":
        missing_actor = f"{V3}/system/{actor}/missing/roles"
    else:
        parts = base.split("/")
        missing_target = "/".join([*parts[:4], "missing", *parts[5:]])
        assert admin.put(f"{missing_target}/{role}").status_code == 404
        assert admin.get(missing_target).status_code == 404
        missing_actor = "/".join([*parts[:6], "missing", *parts[7:]])
    assert admin.put(f"{missing_actor}/{role}").status_code == 404
    assert admin.head(f"{missing_actor}/{role}").status_code == 404
    assert admin.get(missing_actor).status_code == 404


def test_domain_specific_roles_stay_in_their_domain(admin: TestClient, ident: Identity) -> None:
    domain = make_domain(admin)
    local_role = make_role(ident, domain_id=domain["id"])
    user = make_user(admin)
    inside = make_project(admin, domain["id"])
    outside = make_project(admin)
    ok = admin.put(f"{V3}/projects/{inside['id']}/users/{user['id']}/roles/{local_role}")
    assert ok.status_code == 204
    listed = admin.get(f"{V3}/projects/{inside['id']}/users/{user['id']}/roles").json()
    assert listed["roles"][0]["domain_id"] == domain["id"]
    wrong = admin.put(f"{V3}/projects/{outside['id']}/users/{user['id']}/roles/{local_role}")
    assert wrong.status_code == 403
    system = admin.put(f"{V3}/system/users/{user['id']}/roles/{local_role}")
    assert system.status_code == 400


def test_non_admin_cannot_grant_or_read_grants(
    client: TestClient, admin: TestClient, ident: Identity
) -> None:
    user, project = make_user(admin), make_project(admin)
    member = role_id(ident, "member")
    demo = {"X-Auth-Token": issue(client, "demo", ADMIN_PASSWORD, project="demo")}
    url = f"{V3}/projects/{project['id']}/users/{user['id']}/roles"
    assert client.put(f"{url}/{member}", headers=demo).status_code == 403
    assert client.get(url, headers=demo).status_code == 403
    assert (
        client.put(f"{V3}/system/users/{user['id']}/roles/{member}", headers=demo).status_code
        == 403
    )
    admin.put(f"{url}/{member}")
    assert client.delete(f"{url}/{member}", headers=demo).status_code == 403
    assert admin.head(f"{url}/{member}").status_code == 204


def test_domain_reader_reads_grants_only_within_their_domain(
    client: TestClient, admin: TestClient, ident: Identity
) -> None:
    domain = make_domain(admin)
    auditor = make_user(admin, domain["id"])
    reader, member = role_id(ident, "reader"), role_id(ident, "member")
    admin.put(f"{V3}/domains/{domain['id']}/users/{auditor['id']}/roles/{reader}")
    headers = {"X-Auth-Token": token_for(client, auditor["id"], {"domain": {"id": domain["id"]}})}
    project = make_project(admin, domain["id"])
    local, foreign = make_user(admin, domain["id"]), make_user(admin)
    for user in (local, foreign):
        admin.put(f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{member}")

    ok = f"{V3}/projects/{project['id']}/users/{local['id']}/roles"
    assert client.get(ok, headers=headers).status_code == 200
    assert client.head(f"{ok}/{member}", headers=headers).status_code == 204
    # Keystone: both the target and the user must be in the reader's domain.
    bad = f"{V3}/projects/{project['id']}/users/{foreign['id']}/roles"
    assert client.get(bad, headers=headers).status_code == 403
    elsewhere = f"{V3}/projects/{make_project(admin)['id']}/users/{local['id']}/roles"
    assert client.get(elsewhere, headers=headers).status_code == 403
    # Reading is not writing: a reader cannot grant.
    assert client.put(f"{ok}/{reader}", headers=headers).status_code == 403


def test_group_grant_reaches_members(
    client: TestClient, admin: TestClient, admin_token: str, ident: Identity
) -> None:
    project, user, group = make_project(admin), make_user(admin), make_group(admin)
    role = make_role(ident)
    admin.put(f"{V3}/projects/{project['id']}/groups/{group['id']}/roles/{role}")
    scope = {"project": {"id": project["id"]}}
    # Not a member yet: no role on the project, so no token for it.
    resp = client.post(TOKENS, json=auth_body(user["id"], scope), headers={"X-Auth-Token": ""})
    assert resp.status_code == 401

    assert admin.put(f"{V3}/groups/{group['id']}/users/{user['id']}").status_code == 204
    resp = client.post(TOKENS, json=auth_body(user["id"], scope), headers={"X-Auth-Token": ""})
    assert resp.status_code == 201
    assert [r["id"] for r in resp.json()["token"]["roles"]] == [role]
    token = resp.headers["X-Subject-Token"]
    assert validate(client, admin_token, token).status_code == 200

    assert admin.delete(f"{V3}/groups/{group['id']}/users/{user['id']}").status_code == 204
    assert validate(client, admin_token, token).status_code == 404


def test_revoking_a_grant_takes_the_role_from_existing_tokens(
    client: TestClient, admin: TestClient, admin_token: str, ident: Identity
) -> None:
    project, user = make_project(admin), make_user(admin)
    member, extra = role_id(ident, "member"), make_role(ident)
    url = f"{V3}/projects/{project['id']}/users/{user['id']}/roles"
    admin.put(f"{url}/{member}")
    admin.put(f"{url}/{extra}")
    token = token_for(client, user["id"], {"project": {"id": project["id"]}})
    names = token_roles(client, admin_token, token)
    assert {"member", "reader"} < names

    # Roles are computed when a token is validated, so revoking one shows at once.
    assert admin.delete(f"{url}/{extra}").status_code == 204
    assert token_roles(client, admin_token, token) == {"member", "reader"}
    # With no role left on its project the token is no longer valid.
    assert admin.delete(f"{url}/{member}").status_code == 204
    assert validate(client, admin_token, token).status_code == 404


def test_inherited_domain_grant_applies_to_projects_not_the_domain(
    client: TestClient, admin: TestClient, admin_token: str, ident: Identity
) -> None:
    domain = make_domain(admin)
    parent = make_project(admin, domain["id"])
    child = make_project(admin, domain["id"], parent_id=parent["id"])
    user = make_user(admin)
    member = role_id(ident, "member")
    base = f"{INHERIT}/domains/{domain['id']}/users/{user['id']}/roles"
    assert admin.put(f"{base}/{member}/inherited_to_projects").status_code == 204
    assert admin.head(f"{base}/{member}/inherited_to_projects").status_code == 204
    assert admin.get(f"{base}/{member}/inherited_to_projects").status_code == 204
    listed = admin.get(f"{base}/inherited_to_projects")
    assert [r["id"] for r in listed.json()["roles"]] == [member]
    # The inherited grant is not a grant on the domain itself.
    plain = admin.get(f"{V3}/domains/{domain['id']}/users/{user['id']}/roles")
    assert plain.json()["roles"] == []
    assert (
        admin.head(f"{V3}/domains/{domain['id']}/users/{user['id']}/roles/{member}").status_code
        == 404
    )

    for project in (parent, child):
        token = token_for(client, user["id"], {"project": {"id": project["id"]}})
        assert "member" in token_roles(client, admin_token, token)
    resp = client.post(
        TOKENS,
        json=auth_body(user["id"], {"domain": {"id": domain["id"]}}),
        headers={"X-Auth-Token": ""},
    )
    assert resp.status_code == 401

    assert admin.delete(f"{base}/{member}/inherited_to_projects").status_code == 204
    assert admin.get(f"{base}/inherited_to_projects").json()["roles"] == []
    assert admin.delete(f"{base}/{member}/inherited_to_projects").status_code == 404


def test_inherited_group_grant_on_a_project_reaches_its_subprojects(
    client: TestClient, admin: TestClient, admin_token: str, ident: Identity
) -> None:
    parent = make_project(admin)
    child = make_project(admin, parent_id=parent["id"])
    user, group = make_user(admin), make_group(admin)
    admin.put(f"{V3}/groups/{group['id']}/users/{user['id']}")
    member = role_id(ident, "member")
    url = (
        f"{INHERIT}/projects/{parent['id']}/groups/{group['id']}/roles/{member}"
        "/inherited_to_projects"
    )
    assert admin.put(url).status_code == 204
    assert admin.head(url).status_code == 204

    token = token_for(client, user["id"], {"project": {"id": child["id"]}})
    assert "member" in token_roles(client, admin_token, token)
    resp = client.post(
        TOKENS,
        json=auth_body(user["id"], {"project": {"id": parent["id"]}}),
        headers={"X-Auth-Token": ""},
    )
    assert resp.status_code == 401
    assert admin.delete(url).status_code == 204
    assert admin.head(url).status_code == 404


def test_system_grants_give_system_scope(
    client: TestClient, admin: TestClient, admin_token: str, ident: Identity
) -> None:
    user, group = make_user(admin), make_group(admin)
    reader = role_id(ident, "reader")
    admin.put(f"{V3}/groups/{group['id']}/users/{user['id']}")
    assert admin.put(f"{V3}/system/groups/{group['id']}/roles/{reader}").status_code == 204
    token = token_for(client, user["id"], {"system": {"all": True}})
    assert token_roles(client, admin_token, token) == {"reader"}
    assert admin.delete(f"{V3}/system/groups/{group['id']}/roles/{reader}").status_code == 204
    assert validate(client, admin_token, token).status_code == 404


def test_a_deleted_users_leftover_grant_can_be_revoked(admin: TestClient, ident: Identity) -> None:
    project, user = make_project(admin), make_user(admin)
    role = make_role(ident)
    url = f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{role}"
    admin.put(url)
    admin.delete(f"{V3}/users/{user['id']}")
    # The user's grants went with them; revoking again is a plain 404, not a 500.
    assert admin.delete(url).status_code == 404
