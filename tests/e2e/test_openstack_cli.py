"""A user's session with the real `openstack` CLI against a cloud started by `kumo up`.

Each test is what someone would type after reading devstack's docs, with the clouds
`kumo up` wrote into clouds.yaml.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.clients import Cloud, unique


def password_login(cloud: Cloud, user: str, password: str, *scope: str) -> list[str]:
    """`openstack` arguments for a user who logs in with a password instead of a cloud."""
    return [
        "--os-auth-url", cloud.auth_url,
        "--os-identity-api-version", "3",
        "--os-username", user,
        "--os-password", password,
        "--os-user-domain-id", "default",
        *scope,
    ]  # fmt: skip


def in_project(project: str) -> list[str]:
    """Scope a password login to a project of the Default domain."""
    return ["--os-project-name", project, "--os-project-domain-id", "default"]


def by_name(rows: list[dict[str, Any]], name: str, key: str = "Name") -> dict[str, Any]:
    """The row of a `list` output whose ``key`` is ``name``."""
    found = [row for row in rows if row.get(key) == name]
    assert found, f"{name!r} is not in the list: {[row.get(key) for row in rows]}"
    return found[0]


def assert_not_found(error: str, kind: str) -> None:
    """openstackclient's message for a name or id that does not exist (it varies by command)."""
    assert re.search(rf"No {kind} (found for|with a name or ID)", error, re.IGNORECASE), error


@pytest.fixture(scope="module")
def ids(cloud: Cloud) -> dict[str, dict[str, str]]:
    """The ids of the users and projects `kumo up` made, by name (two calls, not twenty)."""
    return {
        "project": {p["Name"]: p["ID"] for p in cloud.openstack("project", "list")},
        "user": {u["Name"]: u["ID"] for u in cloud.openstack("user", "list")},
    }


def test_admin_issues_a_token_for_the_admin_project(
    cloud: Cloud, ids: dict[str, dict[str, str]]
) -> None:
    token = cloud.openstack("token", "issue")
    assert token["id"].startswith("gAAAA")  # a Fernet token, as Keystone issues
    assert token["project_id"] == ids["project"]["admin"]
    assert token["user_id"] == ids["user"]["admin"]
    expires = datetime.strptime(token["expires"], "%Y-%m-%dT%H:%M:%S%z")
    assert expires > datetime.now(UTC)


@pytest.mark.parametrize(
    "cloud_name",
    ["devstack", "devstack-alt", "devstack-admin", "devstack-system-admin", "kumo", "kumo-admin"],
)
def test_every_cloud_in_clouds_yaml_logs_in(
    cloud: Cloud, ids: dict[str, dict[str, str]], cloud_name: str
) -> None:
    token = cloud.openstack("token", "issue", cloud=cloud_name)
    assert token["id"]
    if cloud_name == "devstack-system-admin":
        assert "project_id" not in token  # system scope: no project
        return
    user, project = {"devstack-alt": ("alt_demo", "alt_demo")}.get(
        cloud_name, ("admin", "admin") if cloud_name.endswith("admin") else ("demo", "demo")
    )
    assert token["project_id"] == ids["project"][project]
    assert token["user_id"] == ids["user"][user]


def test_catalog_lists_identity_in_region_one(cloud: Cloud) -> None:
    catalog = cloud.openstack("catalog", "list")
    identity = by_name(catalog, "identity", key="Type")
    interfaces = {ep["interface"]: ep for ep in identity["Endpoints"]}
    assert set(interfaces) == {"public", "internal", "admin"}
    assert interfaces["public"]["region"] == "RegionOne"
    assert interfaces["public"]["url"].rstrip("/") == cloud.auth_url


def test_project_create_list_show_delete(cloud: Cloud) -> None:
    name = unique("project")
    created = cloud.openstack("project", "create", "--description", "made by e2e", name)
    assert created["name"] == name
    assert created["enabled"] is True
    assert created["domain_id"] == "default"

    listed = by_name(cloud.openstack("project", "list"), name)
    assert listed["ID"] == created["id"]

    shown = cloud.openstack("project", "show", name)
    assert shown["id"] == created["id"]
    assert shown["description"] == "made by e2e"

    cloud.openstack_ok("project", "set", "--description", "renamed", "--disable", name)
    shown = cloud.openstack("project", "show", created["id"])
    assert (shown["description"], shown["enabled"]) == ("renamed", False)

    cloud.openstack_ok("project", "delete", name)
    assert_not_found(cloud.openstack_fails("project", "show", created["id"]), "project")
    assert name not in [p["Name"] for p in cloud.openstack("project", "list")]


def test_password_change_takes_effect_at_once(cloud: Cloud) -> None:
    name = unique("user")
    created = cloud.openstack("user", "create", "--password", "first-pw", "--email",
                              f"{name}@example.org", name)  # fmt: skip
    assert created["name"] == name
    assert created["email"] == f"{name}@example.org"
    assert "password" not in created  # never echoed back
    token = cloud.openstack(*password_login(cloud, name, "first-pw"), "token", "issue", cloud=None)
    assert token["user_id"] == created["id"]

    cloud.openstack_ok("user", "set", "--password", "second-pw", name)

    token = cloud.openstack(*password_login(cloud, name, "second-pw"), "token", "issue", cloud=None)
    assert token["user_id"] == created["id"]
    error = cloud.openstack_fails(*password_login(cloud, name, "first-pw"), "token", "issue",
                                  cloud=None)  # fmt: skip
    assert "The request you have made requires authentication. (HTTP 401)" in error


def test_deleted_user_is_gone_and_cannot_log_in(cloud: Cloud) -> None:
    name = unique("user")
    created = cloud.openstack("user", "create", "--password", "pw", name)
    cloud.openstack_ok("user", "delete", name)
    assert_not_found(cloud.openstack_fails("user", "show", created["id"]), "user")
    assert name not in [u["Name"] for u in cloud.openstack("user", "list")]
    error = cloud.openstack_fails(*password_login(cloud, name, "pw"), "token", "issue", cloud=None)
    assert "(HTTP 401)" in error


def test_role_add_shows_in_assignments_and_grants_the_project(cloud: Cloud) -> None:
    project, user = unique("project"), unique("user")
    cloud.openstack("project", "create", project)
    cloud.openstack("user", "create", "--password", "pw", user)
    # No role yet: a project-scoped login is refused.
    login = [*password_login(cloud, user, "pw", *in_project(project)), "token", "issue"]
    assert "(HTTP 401)" in cloud.openstack_fails(*login, cloud=None)

    cloud.openstack_ok("role", "add", "--user", user, "--project", project, "member")

    assignments = cloud.openstack("role", "assignment", "list", "--names", "--user", user)
    assert [(a["Role"], a["User"], a["Project"]) for a in assignments] == [
        ("member", f"{user}@Default", f"{project}@Default")
    ]
    token = cloud.openstack(*login, cloud=None)
    assert token["project_id"] == cloud.openstack("project", "show", project)["id"]

    cloud.openstack_ok("role", "remove", "--user", user, "--project", project, "member")
    assert cloud.openstack("role", "assignment", "list", "--names", "--user", user) == []


def test_application_credential_logs_in_as_its_creator(
    cloud: Cloud, ids: dict[str, dict[str, str]]
) -> None:
    name = unique("appcred")
    demo_project = ids["project"]["demo"]
    created = cloud.openstack(
        "application", "credential", "create", "--description", "ci robot", name,
        cloud="devstack",
    )  # fmt: skip
    # openstackclient shows this one with display names ("ID", "Secret", …).
    assert created["Name"] == name
    assert created["Secret"]
    assert created["Project ID"] == demo_project
    assert {r["name"] for r in created["Roles"]} >= {"member"}  # demo's roles on demo
    app_login = [
        "--os-auth-type", "v3applicationcredential",
        "--os-auth-url", cloud.auth_url,
        "--os-identity-api-version", "3",
        "--os-application-credential-id", created["ID"],
        "--os-application-credential-secret", created["Secret"],
    ]  # fmt: skip

    token = cloud.openstack(*app_login, "token", "issue", cloud=None)
    assert token["project_id"] == demo_project
    assert token["user_id"] == ids["user"]["demo"]

    listed = cloud.openstack("application", "credential", "list", cloud="devstack")
    assert by_name(listed, name)["ID"] == created["ID"]
    cloud.openstack_ok("application", "credential", "delete", name, cloud="devstack")
    assert "(HTTP 401)" in cloud.openstack_fails(*app_login, "token", "issue", cloud=None)


def test_application_credential_with_a_wrong_secret_is_refused(cloud: Cloud) -> None:
    created = cloud.openstack(
        "application", "credential", "create", unique("appcred"), cloud="devstack"
    )
    error = cloud.openstack_fails(
        "--os-auth-type", "v3applicationcredential",
        "--os-auth-url", cloud.auth_url,
        "--os-application-credential-id", created["ID"],
        "--os-application-credential-secret", "not-the-secret",
        "token", "issue",
        cloud=None,
    )  # fmt: skip
    assert "(HTTP 401)" in error


def test_domain_must_be_disabled_before_delete(cloud: Cloud) -> None:
    name = unique("domain")
    created = cloud.openstack("domain", "create", "--description", "e2e domain", name)
    assert (created["name"], created["enabled"]) == (name, True)
    assert by_name(cloud.openstack("domain", "list"), name)["Enabled"] is True

    error = cloud.openstack_fails("domain", "delete", name)
    assert "Cannot delete a domain that is enabled, please disable it first." in error

    cloud.openstack_ok("domain", "set", "--disable", name)
    assert cloud.openstack("domain", "show", name)["enabled"] is False
    cloud.openstack_ok("domain", "delete", name)
    assert_not_found(cloud.openstack_fails("domain", "show", created["id"]), "domain")


def test_group_membership(cloud: Cloud) -> None:
    group, user = unique("group"), unique("user")
    created = cloud.openstack("group", "create", "--description", "e2e group", group)
    assert (created["name"], created["domain_id"]) == (group, "default")
    cloud.openstack("user", "create", "--password", "pw", user)

    cloud.openstack_ok("group", "add", "user", group, user)
    assert cloud.openstack_ok("group", "contains", "user", group, user).strip() == (
        f"{user} in group {group}"
    )
    assert [u["Name"] for u in cloud.openstack("user", "list", "--group", group)] == [user]

    cloud.openstack_ok("group", "remove", "user", group, user)
    assert cloud.openstack("user", "list", "--group", group) == []
    cloud.openstack_ok("group", "delete", group)
    assert group not in [g["Name"] for g in cloud.openstack("group", "list")]


def test_role_create_and_delete(cloud: Cloud) -> None:
    roles = {r["Name"] for r in cloud.openstack("role", "list")}
    assert {"admin", "manager", "member", "reader"} <= roles  # Keystone's bootstrap roles

    name = unique("role")
    created = cloud.openstack("role", "create", "--description", "e2e role", name)
    assert created["name"] == name
    assert cloud.openstack("role", "show", name)["id"] == created["id"]
    assert by_name(cloud.openstack("role", "list"), name)["ID"] == created["id"]

    cloud.openstack_ok("role", "delete", name)
    assert name not in {r["Name"] for r in cloud.openstack("role", "list")}


def test_service_endpoint_and_region_lists_show_identity(cloud: Cloud) -> None:
    services = cloud.openstack("service", "list")
    keystone = by_name(services, "identity", key="Type")
    assert keystone["Name"] == "keystone"

    endpoints = [e for e in cloud.openstack("endpoint", "list") if e["Service Type"] == "identity"]
    assert sorted(e["Interface"] for e in endpoints) == ["admin", "internal", "public"]
    assert {e["Region"] for e in endpoints} == {"RegionOne"}
    assert {e["URL"].rstrip("/") for e in endpoints} == {cloud.auth_url}
    assert all(e["Enabled"] for e in endpoints)

    assert "RegionOne" in [r["Region"] for r in cloud.openstack("region", "list")]


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        (["project", "create", "e2e-not-allowed"], "identity:create_project"),
        (["user", "create", "--password", "pw", "e2e-not-allowed"], "identity:create_user"),
        (["domain", "create", "e2e-not-allowed"], "identity:create_domain"),
        (["role", "create", "e2e-not-allowed"], "identity:create_role"),
    ],
    ids=["project-create", "user-create", "domain-create", "role-create"],
)
def test_demo_is_refused_admin_operations(cloud: Cloud, command: list[str], rule: str) -> None:
    error = cloud.openstack_fails(*command, cloud="devstack")
    assert "403" in error
    assert f"You are not authorized to perform the requested action: {rule}." in error


def test_roles_imply_each_other_as_keystone_bootstraps_them(cloud: Cloud) -> None:
    inferences = {
        (r["Prior Role Name"], r["Implied Role Name"])
        for r in cloud.openstack("implied", "role", "list")
    }
    assert {("admin", "manager"), ("manager", "member"), ("member", "reader")} <= inferences


def test_credential_create_list_delete(cloud: Cloud) -> None:
    user = unique("user")
    cloud.openstack("user", "create", "--password", "pw", user)
    created = cloud.openstack("credential", "create", "--type", "cert", user, "cert-data-for-e2e")
    assert (created["type"], created["blob"]) == ("cert", "cert-data-for-e2e")
    listed = cloud.openstack("credential", "list", "--user", user)
    assert [(c["ID"], c["Data"]) for c in listed] == [(created["id"], "cert-data-for-e2e")]
    cloud.openstack_ok("credential", "delete", created["id"])
    assert cloud.openstack("credential", "list", "--user", user) == []


def test_ec2_credentials_for_the_demo_project(cloud: Cloud, ids: dict[str, dict[str, str]]) -> None:
    created = cloud.openstack("ec2", "credentials", "create", cloud="devstack")
    assert (created["project_id"], created["user_id"]) == (
        ids["project"]["demo"],
        ids["user"]["demo"],
    )
    assert created["access"] and created["secret"]
    listed = cloud.openstack("ec2", "credentials", "list", cloud="devstack")
    assert created["access"] in [c["Access"] for c in listed]
    cloud.openstack_ok("ec2", "credentials", "delete", created["access"], cloud="devstack")
    listed = cloud.openstack("ec2", "credentials", "list", cloud="devstack")
    assert created["access"] not in [c["Access"] for c in listed]
