"""openstacksdk against a cloud started by `kumo up`, as a user's script would use it.

The scenarios are in sdk_scenario.py and run once, in the clients venv (openstacksdk is
not installed in the main venv, on purpose); each test asserts on one scenario's result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clients import CLIENT_PYTHON, Cloud

SCRIPT = Path(__file__).with_name("sdk_scenario.py")


@pytest.fixture(scope="module")
def sdk(cloud: Cloud) -> dict[str, Any]:
    """Every scenario's outcome, keyed by scenario name."""
    done = cloud.run([str(CLIENT_PYTHON), str(SCRIPT)], timeout=900)
    if done.returncode != 0:
        pytest.fail(f"sdk_scenario.py exited {done.returncode}:\n{done.stderr}", pytrace=False)
    results: dict[str, Any] = json.loads(done.stdout)
    return results


def outcome(sdk: dict[str, Any], name: str) -> dict[str, Any]:
    """The result of one scenario; fails the test with the SDK's traceback if it raised."""
    ran = sdk[name]
    if not ran["ok"]:
        pytest.fail(f"scenario {name} raised {ran['error']}\n{ran['traceback']}", pytrace=False)
    result: dict[str, Any] = ran["result"]
    return result


def test_connect_with_devstack_admin_gives_the_admin_project(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "token")
    assert result["token"].startswith("gAAAA")
    assert (result["user"], result["project"]) == ("admin", "admin")


def test_catalog_services_endpoints_and_regions(sdk: dict[str, Any], cloud: Cloud) -> None:
    result = outcome(sdk, "catalog")
    assert ["identity", "keystone"] in result["services"]
    identity = [e for e in result["endpoints"] if e[0] == "identity"]
    assert [(e[1], e[2]) for e in identity] == [
        ("admin", "RegionOne"),
        ("internal", "RegionOne"),
        ("public", "RegionOne"),
    ]
    assert {e[3].rstrip("/") for e in identity} == {cloud.auth_url}
    assert "RegionOne" in result["regions"]
    assert result["identity_url"].rstrip("/") == cloud.auth_url


def test_project_create_update_list_delete(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "projects")
    assert result["created"]["tags"] == ["e2e", "sdk"]
    assert result["created"]["enabled"] is True
    assert result["found_id_matches"] is True
    assert result["updated"] == {"description": "updated", "enabled": False}
    assert result["listed"] is True
    assert result["after_delete"] is True


def test_cloud_layer_project_calls_used_by_ansible(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "cloud_layer_projects")
    assert result["got"] is True
    assert result["deleted"] is True
    assert result["after_delete"] is True


def test_password_change_takes_effect_at_once(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "user_password")
    assert result["first"]["ok"] is True
    assert result["first"]["user_id"] == result["user_id"]
    assert result["second"]["ok"] is True
    assert result["old_after_change"]["ok"] is False
    assert "(HTTP 401)" in result["old_after_change"]["error"]


def test_domain_is_deleted_only_once_disabled(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "domains")
    assert result["created"][1] is True
    assert result["delete_enabled"] == (
        "403: Cannot delete a domain that is enabled, please disable it first."
    )
    assert result["enabled_after_disable"] is False
    assert result["after_delete"] is True


def test_role_grant_opens_the_project_and_revoke_closes_it(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "role_grants")
    ids = result["ids"]
    assert result["login_before_grant"]["ok"] is False
    assert "(HTTP 401)" in result["login_before_grant"]["error"]
    assert result["has_role"] is True
    assert result["assignments"] == [[ids["role"], ids["project"], ids["user"]]]
    assert result["login_after_grant"] == {
        "ok": True,
        "user_id": ids["user"],
        "project_id": ids["project"],
    }
    assert result["has_role_after_revoke"] is False


def test_group_membership(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "groups")
    names = result["names"]
    assert result["member"] is True
    assert result["members"] == [names["user"]]
    assert result["user_groups"] == [names["group"]]
    assert result["member_after_remove"] is False


def test_application_credential_logs_in_as_its_creator(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "application_credentials")
    assert result["has_secret"] is True
    assert result["project_id"] == result["demo"]["project_id"]
    assert result["login"] == {"ok": True, **result["demo"]}
    assert result["listed"] is True
    assert result["login_after_delete"]["ok"] is False
    assert "(HTTP 401)" in result["login_after_delete"]["error"]


def test_demo_cannot_create_a_project(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "demo_forbidden")
    assert result["status"] == 403
    assert result["type"] == "ForbiddenException"
    assert (
        "You are not authorized to perform the requested action: identity:create_project."
        in result["message"]
    )


def test_compute_journey_boots_stops_starts_and_deletes(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "compute_journey")
    assert (result["active"], result["stopped"], result["started"]) == (
        "ACTIVE",
        "SHUTOFF",
        "ACTIVE",
    )
    assert {"create", "stop", "start"} <= set(result["actions"])
    assert result["deleted"] is True


def test_another_project_sees_nothing_of_the_journey(sdk: dict[str, Any]) -> None:
    result = outcome(sdk, "compute_journey")
    assert result["alt_sees_server"] is False
    assert result["alt_sees_image"] is False
    assert result["alt_sees_key"] is False
