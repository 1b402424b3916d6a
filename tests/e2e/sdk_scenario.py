"""Scenarios a user writes with openstacksdk; run with the clients venv's Python.

    OS_CLIENT_CONFIG_FILE=<state>/clouds.yaml .venv-clients/bin/python sdk_scenario.py [NAME…]

Prints one JSON object: for each scenario, ``{"ok": true, "result": {…}}`` with what
the SDK returned, or ``{"ok": false, "error": "…", "traceback": "…"}``. The tests in
test_openstacksdk.py assert on it; the main venv never imports openstacksdk.
"""

from __future__ import annotations

import json
import sys
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import openstack
from openstack import exceptions
from openstack.connection import Connection

Scenario = Callable[[], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(fn: Scenario) -> Scenario:
    """Register a scenario under its function name."""
    SCENARIOS[fn.__name__] = fn
    return fn


def unique(prefix: str) -> str:
    """A name no other run uses."""
    return f"e2e-sdk-{prefix}-{uuid.uuid4().hex[:8]}"


def admin() -> Connection:
    """The devstack-admin cloud from clouds.yaml."""
    return openstack.connect(cloud="devstack-admin")


def auth_url() -> str:
    """The identity endpoint clouds.yaml names."""
    return str(admin().config.auth["auth_url"])


def login(**auth: Any) -> dict[str, Any]:
    """Log in with explicit credentials; what the token says, or why it was refused."""
    conn = openstack.connect(auth_url=auth_url(), identity_api_version="3", **auth)
    try:
        conn.authorize()
    except exceptions.SDKException as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "user_id": conn.current_user_id, "project_id": conn.current_project_id}


def password_login(user: str, password: str, project: str | None = None) -> dict[str, Any]:
    """A password login in the Default domain, optionally scoped to a project."""
    scope = {"project_name": project, "project_domain_id": "default"} if project else {}
    return login(username=user, password=password, user_domain_id="default", **scope)


@scenario
def token() -> dict[str, Any]:
    conn = admin()
    issued = conn.authorize()
    project = conn.identity.get_project(conn.current_project_id)
    user = conn.identity.get_user(conn.current_user_id)
    return {"token": issued, "project": project.name, "user": user.name}


@scenario
def catalog() -> dict[str, Any]:
    conn = admin()
    services = {s.id: s for s in conn.identity.services()}
    return {
        "services": sorted((s.type, s.name) for s in services.values()),
        "endpoints": sorted(
            (services[e.service_id].type, e.interface, e.region_id, e.url)
            for e in conn.identity.endpoints()
        ),
        "regions": sorted(r.id for r in conn.identity.regions()),
        "identity_url": conn.session.get_endpoint(service_type="identity", interface="public"),
    }


@scenario
def projects() -> dict[str, Any]:
    conn = admin()
    name = unique("project")
    created = conn.identity.create_project(
        name=name, description="made by the sdk", domain_id="default", tags=["e2e", "sdk"]
    )
    as_created = {"name": created.name, "tags": sorted(created.tags), "enabled": created.is_enabled}
    found = conn.identity.find_project(name)
    # update_project changes the object it is given, so read it first (above).
    conn.identity.update_project(created, description="updated", is_enabled=False)
    updated = conn.identity.get_project(created.id)
    listed = [p.id for p in conn.identity.projects(name=name)]
    conn.identity.delete_project(created)
    return {
        "created": as_created,
        "found_id_matches": found is not None and found.id == created.id,
        "updated": {"description": updated.description, "enabled": updated.is_enabled},
        "listed": listed == [created.id],
        "after_delete": conn.identity.find_project(name) is None,
    }


@scenario
def cloud_layer_projects() -> dict[str, Any]:
    # The "cloud" layer is what Ansible's openstack.cloud collection calls.
    conn = admin()
    name = unique("cloud-project")
    created = conn.create_project(name=name, description="ansible style", domain_id="default")
    got = conn.get_project(name)
    deleted = conn.delete_project(name)
    return {
        "created": created.name,
        "got": got is not None and got.id == created.id,
        "deleted": deleted,
        "after_delete": conn.get_project(name) is None,
    }


@scenario
def user_password() -> dict[str, Any]:
    conn = admin()
    name = unique("user")
    user = conn.identity.create_user(
        name=name, password="first-pw", email=f"{name}@example.org", domain_id="default"
    )
    try:
        first = password_login(name, "first-pw")
        conn.identity.update_user(user, password="second-pw")
        return {
            "user_id": user.id,
            "email": user.email,
            "first": first,
            "second": password_login(name, "second-pw"),
            "old_after_change": password_login(name, "first-pw"),
        }
    finally:
        conn.identity.delete_user(user)


@scenario
def domains() -> dict[str, Any]:
    conn = admin()
    name = unique("domain")
    created = conn.identity.create_domain(name=name, description="sdk domain")
    as_created = (created.name, created.is_enabled)
    try:
        conn.identity.delete_domain(created)
        delete_enabled = "deleted"
    except exceptions.HttpException as exc:
        delete_enabled = f"{exc.status_code}: {exc.details}"
    conn.identity.update_domain(created, is_enabled=False)
    disabled = conn.identity.get_domain(created.id).is_enabled
    conn.identity.delete_domain(created)
    return {
        "created": as_created,
        "delete_enabled": delete_enabled,
        "enabled_after_disable": disabled,
        "after_delete": conn.identity.find_domain(name) is None,
    }


@scenario
def role_grants() -> dict[str, Any]:
    conn = admin()
    project = conn.identity.create_project(name=unique("project"), domain_id="default")
    user = conn.identity.create_user(name=unique("user"), password="pw", domain_id="default")
    role = conn.identity.create_role(name=unique("role"))
    try:
        before = password_login(user.name, "pw", project.name)
        conn.identity.assign_project_role_to_user(project, user, role)
        has_role = conn.identity.validate_user_has_project_role(project, user, role)
        assignments = [
            (a.role["id"], a.scope.get("project", {}).get("id"), a.user["id"])
            for a in conn.identity.role_assignments(user_id=user.id)
        ]
        after = password_login(user.name, "pw", project.name)
        conn.identity.unassign_project_role_from_user(project, user, role)
        still = conn.identity.validate_user_has_project_role(project, user, role)
        return {
            "ids": {"project": project.id, "user": user.id, "role": role.id},
            "login_before_grant": before,
            "has_role": has_role,
            "assignments": assignments,
            "login_after_grant": after,
            "has_role_after_revoke": still,
        }
    finally:
        conn.identity.delete_role(role)
        conn.identity.delete_user(user)
        conn.identity.delete_project(project)


@scenario
def groups() -> dict[str, Any]:
    conn = admin()
    group = conn.identity.create_group(name=unique("group"), domain_id="default")
    user = conn.identity.create_user(name=unique("user"), password="pw", domain_id="default")
    try:
        conn.identity.add_user_to_group(user, group)
        member = conn.identity.check_user_in_group(user, group)
        members = [u.name for u in conn.identity.group_users(group)]
        user_groups = [g.name for g in conn.identity.user_groups(user)]
        conn.identity.remove_user_from_group(user, group)
        return {
            "names": {"user": user.name, "group": group.name},
            "member": member,
            "members": members,
            "user_groups": user_groups,
            "member_after_remove": conn.identity.check_user_in_group(user, group),
        }
    finally:
        conn.identity.delete_user(user)
        conn.identity.delete_group(group)


@scenario
def application_credentials() -> dict[str, Any]:
    demo = openstack.connect(cloud="devstack")
    demo.authorize()
    name = unique("appcred")
    cred = demo.identity.create_application_credential(
        user=demo.current_user_id, name=name, description="ci robot"
    )
    app_auth = {
        "auth_type": "v3applicationcredential",
        "application_credential_id": cred.id,
        "application_credential_secret": cred.secret,
    }
    logged_in = login(**app_auth)
    listed = [c.name for c in demo.identity.application_credentials(user=demo.current_user_id)]
    demo.identity.delete_application_credential(demo.current_user_id, cred)
    return {
        "demo": {"user_id": demo.current_user_id, "project_id": demo.current_project_id},
        "has_secret": bool(cred.secret),
        "project_id": cred.project_id,
        "login": logged_in,
        "listed": name in listed,
        "login_after_delete": login(**app_auth),
    }


@scenario
def demo_forbidden() -> dict[str, Any]:
    demo = openstack.connect(cloud="devstack")
    try:
        demo.identity.create_project(name=unique("forbidden"), domain_id="default")
    except exceptions.HttpException as exc:
        return {"status": exc.status_code, "type": type(exc).__name__, "message": str(exc)}
    return {"status": "created"}


@scenario
def compute_journey() -> dict[str, Any]:
    """A demo user's script: upload an image, boot, stop/start, delete; alt_demo looks on."""
    import subprocess
    import tempfile
    from pathlib import Path

    demo = openstack.connect(cloud="devstack")
    alt = openstack.connect(cloud="devstack-alt")
    flavor = admin().compute.create_flavor(name=unique("flavor"), ram=128, vcpus=1, disk=1)
    with tempfile.TemporaryDirectory() as tmp:
        disk = Path(tmp) / "disk.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "64M"], check=True)
        image = demo.image.create_image(
            name=unique("image"),
            filename=str(disk),
            disk_format="qcow2",
            container_format="bare",
            visibility="private",
            wait=True,
        )
    key = demo.compute.create_keypair(name=unique("key"))
    server = demo.compute.create_server(
        name=unique("vm"), image_id=image.id, flavor_id=flavor.id, key_name=key.name,
        networks="none",
    )  # fmt: skip
    server = demo.compute.wait_for_server(server, status="ACTIVE", wait=300)
    result: dict[str, Any] = {"active": server.status, "key_name": server.key_name}
    demo.compute.stop_server(server)
    result["stopped"] = demo.compute.wait_for_server(server, status="SHUTOFF", wait=180).status
    demo.compute.start_server(server)
    result["started"] = demo.compute.wait_for_server(server, status="ACTIVE", wait=300).status
    result["actions"] = sorted(a.action for a in demo.compute.server_actions(server))
    result["alt_sees_server"] = alt.compute.find_server(server.id) is not None
    result["alt_sees_image"] = image.id in {i.id for i in alt.image.images()}
    result["alt_sees_key"] = key.name in {k.name for k in alt.compute.keypairs()}
    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, wait=180)
    result["deleted"] = demo.compute.find_server(server.id) is None
    demo.image.delete_image(image)
    demo.compute.delete_keypair(key)
    admin().compute.delete_flavor(flavor)
    return result


def main(names: list[str]) -> int:
    """Run the named scenarios (all by default) and print their results as JSON."""
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        print(f"unknown scenarios {unknown}; known: {sorted(SCENARIOS)}", file=sys.stderr)
        return 2
    out: dict[str, Any] = {}
    for name in names or list(SCENARIOS):
        try:
            out[name] = {"ok": True, "result": SCENARIOS[name]()}
        except Exception as exc:
            out[name] = {
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            }
    json.dump(out, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
