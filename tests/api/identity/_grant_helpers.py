"""Helpers shared by the group, grant and role-assignment tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from kumo.identity.db.models import NULL_DOMAIN_ID, ImpliedRole, Role
from kumo.identity.service.core import Identity, new_id
from tests.conftest import unique

V3 = "/identity/v3"
TOKENS = f"{V3}/auth/tokens"
PASSWORD = "a-user-password-1"


def role_id(ident: Identity, name: str) -> str:
    """The id of a bootstrapped global role."""
    with ident.db.reader() as s:
        found = s.scalars(
            select(Role.id).where(Role.name == name, Role.domain_id == NULL_DOMAIN_ID)
        ).one()
        return str(found)


def make_role(ident: Identity, domain_id: str | None = None, implies: str | None = None) -> str:
    """A new role (global, or specific to ``domain_id``), straight in the database.

    Roles are another module's API; these tests need only the rows.
    """
    rid = new_id()
    with ident.db.writer() as s:
        s.add(Role(id=rid, name=unique("role"), domain_id=domain_id or NULL_DOMAIN_ID))
        s.flush()
        if implies:
            s.add(ImpliedRole(prior_role_id=rid, implied_role_id=implies))
    return rid


def make_domain(admin: TestClient) -> dict[str, Any]:
    """A new domain."""
    resp = admin.post(f"{V3}/domains", json={"domain": {"name": unique("dom")}})
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["domain"])


def make_project(
    admin: TestClient, domain_id: str = "default", parent_id: str | None = None
) -> dict[str, Any]:
    """A new project."""
    body: dict[str, Any] = {"name": unique("proj"), "domain_id": domain_id}
    if parent_id:
        body["parent_id"] = parent_id
    resp = admin.post(f"{V3}/projects", json={"project": body})
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["project"])


def make_user(admin: TestClient, domain_id: str = "default") -> dict[str, Any]:
    """A new user with password ``PASSWORD``."""
    body = {"name": unique("user"), "domain_id": domain_id, "password": PASSWORD}
    resp = admin.post(f"{V3}/users", json={"user": body})
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["user"])


def make_group(admin: TestClient, domain_id: str = "default") -> dict[str, Any]:
    """A new group."""
    resp = admin.post(
        f"{V3}/groups", json={"group": {"name": unique("grp"), "domain_id": domain_id}}
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["group"])


def auth_body(user_id: str, scope: dict[str, Any] | None = None) -> dict[str, Any]:
    """A password auth request for a user id, with an optional scope."""
    body: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"id": user_id, "password": PASSWORD}},
        }
    }
    if scope is not None:
        body["scope"] = scope
    return {"auth": body}


def token_for(client: TestClient, user_id: str, scope: dict[str, Any] | None = None) -> str:
    """Issue a token for a user made by ``make_user`` (asserting 201)."""
    resp = client.post(TOKENS, json=auth_body(user_id, scope), headers={"X-Auth-Token": ""})
    assert resp.status_code == 201, resp.text
    return str(resp.headers["X-Subject-Token"])


def validate(client: TestClient, admin_token: str, subject: str) -> Any:
    """GET /v3/auth/tokens for ``subject`` with the admin's token."""
    return client.get(TOKENS, headers={"X-Auth-Token": admin_token, "X-Subject-Token": subject})


def token_roles(client: TestClient, admin_token: str, subject: str) -> set[str]:
    """The role names a valid token carries."""
    resp = validate(client, admin_token, subject)
    assert resp.status_code == 200, resp.text
    return {r["name"] for r in resp.json()["token"].get("roles", [])}
