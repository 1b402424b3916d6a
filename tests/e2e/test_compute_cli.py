"""The boot journey as a devstack user types it: image, flavor, keypair, server, actions.

Runs the real `openstack` CLI against a cloud started by `kumo up` (its default virt
driver until real compute lands is the fake one, labelled as such). A second project
(devstack-alt) must not see or touch the first project's server, image or keypair.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clients import Cloud, unique

DEMO = "devstack"
ALT = "devstack-alt"


def wait_for(
    what: str, probe: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60
) -> Any:
    """Poll ``probe`` until ``done`` holds for its result (a bounded wait, then fail)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if done(last):
            return last
        time.sleep(0.3)
    pytest.fail(f"{what} not reached within {timeout:g} s; last seen: {last}", pytrace=False)


def power_state(shown: dict[str, Any]) -> Any:
    """The power state as openstackclient prints it (its column name varies by release)."""
    return shown.get("power_state", shown.get("OS-EXT-STS:power_state"))


def server_status(cloud: Cloud, server: str, *, expect: str) -> dict[str, Any]:
    """`server show` until the status is ``expect`` (fails on ERROR with its fault)."""

    def show() -> dict[str, Any]:
        shown: dict[str, Any] = cloud.openstack("server", "show", server, cloud=DEMO)
        if shown["status"] == "ERROR" and expect != "ERROR":
            pytest.fail(f"server went to ERROR: {shown.get('fault')}", pytrace=False)
        return shown

    result: dict[str, Any] = wait_for(
        f"server status {expect}", show, lambda s: s["status"] == expect
    )
    return result


@pytest.fixture(scope="module")
def image(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small qcow2 the demo user uploads (private to project demo)."""
    path: Path = tmp_path_factory.mktemp("images") / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    created: dict[str, Any] = cloud.openstack(
        "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
        "--private", "--file", str(path), unique("image"), cloud=DEMO,
    )  # fmt: skip
    return created


@pytest.fixture(scope="module")
def flavors(cloud: Cloud) -> tuple[str, str]:
    """Two public flavors the admin creates: a small one and a bigger one for resize."""
    small = cloud.openstack(
        "flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", unique("small")
    )
    big = cloud.openstack(
        "flavor", "create", "--ram", "256", "--disk", "2", "--vcpus", "2", unique("big")
    )
    return small["name"], big["name"]


@pytest.fixture(scope="module")
def keypair(cloud: Cloud) -> str:
    """A keypair generated for the demo user (the private key is returned once)."""
    name = unique("key")
    # openstackclient prints the generated private key itself, not as a JSON field.
    printed = cloud.openstack_ok("keypair", "create", name, cloud=DEMO)
    assert "BEGIN" in printed and "PRIVATE KEY" in printed
    return name


@pytest.fixture(scope="module")
def server(
    cloud: Cloud, image: dict[str, Any], flavors: tuple[str, str], keypair: str
) -> dict[str, Any]:
    """A server booted by the demo user with `server create --wait`."""
    created: dict[str, Any] = cloud.openstack(
        "server", "create", "--image", image["id"], "--flavor", flavors[0],
        "--key-name", keypair, "--nic", "none", "--wait", unique("vm"), cloud=DEMO,
    )  # fmt: skip
    return created


def test_uploaded_image_is_active_with_its_checksum(image: dict[str, Any]) -> None:
    assert image["status"] == "active"
    assert image["disk_format"] == "qcow2"
    assert image["visibility"] == "private"


def test_server_create_wait_reaches_active(
    cloud: Cloud, server: dict[str, Any], flavors: tuple[str, str], keypair: str
) -> None:
    assert server["status"] == "ACTIVE"
    shown = cloud.openstack("server", "show", server["id"], cloud=DEMO)
    assert shown["status"] == "ACTIVE"
    assert shown["key_name"] == keypair
    assert power_state(shown) in ("Running", 1)


def test_instance_action_create_shows_the_boot_journey(
    cloud: Cloud, server: dict[str, Any]
) -> None:
    actions = cloud.openstack("server", "event", "list", server["id"], cloud="devstack-admin")
    create = [a for a in actions if a["Action"] == "create"]
    assert len(create) == 1
    shown = cloud.openstack(
        "server", "event", "show", server["id"], create[0]["Request ID"], cloud="devstack-admin"
    )
    events = shown["events"]
    assert len(events) >= 5, events
    assert all(e["result"] == "Success" for e in events), events
    assert all(e.get("finish_time") for e in events), events


def test_stop_start_and_reboot(cloud: Cloud, server: dict[str, Any]) -> None:
    cloud.openstack_ok("server", "stop", server["id"], cloud=DEMO)
    assert power_state(server_status(cloud, server["id"], expect="SHUTOFF")) in ("Shutdown", 4)
    cloud.openstack_ok("server", "start", server["id"], cloud=DEMO)
    server_status(cloud, server["id"], expect="ACTIVE")
    cloud.openstack_ok("server", "reboot", "--wait", server["id"], cloud=DEMO)
    server_status(cloud, server["id"], expect="ACTIVE")


def test_stopping_a_stopped_server_is_a_conflict(cloud: Cloud, server: dict[str, Any]) -> None:
    cloud.openstack_ok("server", "stop", server["id"], cloud=DEMO)
    server_status(cloud, server["id"], expect="SHUTOFF")
    error = cloud.openstack_fails("server", "stop", server["id"], cloud=DEMO)
    assert "409" in error or "conflict" in error.lower(), error
    cloud.openstack_ok("server", "start", server["id"], cloud=DEMO)
    server_status(cloud, server["id"], expect="ACTIVE")


def test_resize_then_confirm(
    cloud: Cloud, server: dict[str, Any], flavors: tuple[str, str]
) -> None:
    resize = ("server", "resize", "--flavor", flavors[1], "--wait", server["id"])
    cloud.openstack_ok(*resize, cloud=DEMO)
    server_status(cloud, server["id"], expect="VERIFY_RESIZE")
    cloud.openstack_ok("server", "resize", "confirm", server["id"], cloud=DEMO)
    shown = server_status(cloud, server["id"], expect="ACTIVE")
    assert flavors[1] in str(shown["flavor"])


def test_snapshot_becomes_an_image_that_boots(
    cloud: Cloud, server: dict[str, Any], flavors: tuple[str, str]
) -> None:
    name = unique("snap")
    snapshot = ("server", "image", "create", "--name", name, "--wait", server["id"])
    snap = cloud.openstack(*snapshot, cloud=DEMO)
    assert snap["name"] == name
    shown = cloud.openstack("image", "show", name, cloud=DEMO)
    assert shown["status"] == "active"
    # The server was resized to the bigger flavor: its snapshot needs that root disk.
    booted = cloud.openstack(
        "server", "create", "--image", shown["id"], "--flavor", flavors[1],
        "--nic", "none", "--wait", unique("from-snap"), cloud=DEMO,
    )  # fmt: skip
    assert booted["status"] == "ACTIVE"
    cloud.openstack_ok("server", "delete", "--wait", booted["id"], cloud=DEMO)


def test_another_project_sees_none_of_it(
    cloud: Cloud, server: dict[str, Any], image: dict[str, Any], keypair: str
) -> None:
    error = cloud.openstack_fails("server", "show", server["id"], cloud=ALT)
    assert "no server" in error.lower(), error
    assert server["id"] not in {s["ID"] for s in cloud.openstack("server", "list", cloud=ALT)}
    error = cloud.openstack_fails("server", "stop", server["id"], cloud=ALT)
    assert "no server" in error.lower(), error
    assert image["id"] not in {i["ID"] for i in cloud.openstack("image", "list", cloud=ALT)}
    error = cloud.openstack_fails("image", "show", image["id"], cloud=ALT)
    assert "no image" in error.lower(), error
    assert keypair not in {k["Name"] for k in cloud.openstack("keypair", "list", cloud=ALT)}


def test_delete_wait_removes_the_server(
    cloud: Cloud, image: dict[str, Any], flavors: tuple[str, str]
) -> None:
    created = cloud.openstack(
        "server", "create", "--image", image["id"], "--flavor", flavors[0],
        "--nic", "none", "--wait", unique("doomed"), cloud=DEMO,
    )  # fmt: skip
    cloud.openstack_ok("server", "delete", "--wait", created["id"], cloud=DEMO)
    assert created["id"] not in {s["ID"] for s in cloud.openstack("server", "list", cloud=DEMO)}
