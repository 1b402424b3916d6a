"""One real guest through the real `openstack` CLI, on the cloud `kumo up` started.

`kumo up` builds the guest image and registers it as ``kumo-guest``; its default
``virt_driver = "auto"`` then runs servers as QEMU guests. The guest's serial
console (``openstack console log show``) must show cloud-init's "finished" line
and the server's hostname; delete must remove the QEMU process.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

import pytest

from tests.e2e.clients import Cloud, unique

DEMO = "devstack"
FINISHED = "Cloud-init v. kumo finished at"
DEADLINE = 300.0  # bounded; TCG boots slowly when the machine is busy

pytestmark = pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None,
    reason="qemu-system-x86_64 is not installed: `kumo up` runs the fake driver",
)


def _pids_of(cloud: Cloud, server_id: str) -> list[int]:
    from kumo.agents.compute.virt.qemu import process

    return [g.pid for g in process.running_guests() if g.uuid == server_id]


def test_real_guest_boots_and_prints_its_console(cloud: Cloud) -> None:
    # The compute host registers shortly after `kumo up` (after its KVM probe).
    end = time.monotonic() + 60
    hypervisors: list[dict[str, Any]] = []
    while not hypervisors and time.monotonic() < end:
        hypervisors = cloud.openstack("hypervisor", "list", "--long")
        time.sleep(0 if hypervisors else 1)
    assert hypervisors and all(h["Hypervisor Type"] == "QEMU" for h in hypervisors), hypervisors
    name = unique("real")
    started = time.monotonic()
    server: dict[str, Any] = cloud.openstack(
        "server", "create", "--image", "kumo-guest", "--flavor", "m1.tiny",
        "--nic", "none", "--wait", name, cloud=DEMO,
    )  # fmt: skip
    try:
        assert server["status"] == "ACTIVE"
        assert _pids_of(cloud, server["id"]), "no QEMU process runs the server"
        console = ""
        while time.monotonic() - started < DEADLINE:
            console = cloud.openstack_ok("console", "log", "show", server["id"], cloud=DEMO)
            if FINISHED in console:
                break
            time.sleep(1)
        assert FINISHED in console, console[-3000:]
        print(f"\nserver create -> finished line: {time.monotonic() - started:.1f} s")
        assert f"kumo-init: hostname {name}" in console
        assert "Datasource DataSourceConfigDrive" in console
    finally:
        cloud.openstack_ok("server", "delete", "--wait", server["id"], cloud=DEMO)
    end = time.monotonic() + 30
    while _pids_of(cloud, server["id"]) and time.monotonic() < end:
        time.sleep(0.2)
    assert not _pids_of(cloud, server["id"])
