"""The guest as kernel/ramdisk/machine images, with ephemeral and swap disks, via `openstack`.

`kumo up` registers ``kumo-guest-kernel`` (aki), ``kumo-guest-ramdisk`` (ari) and
``kumo-guest-ami`` (ami) naming them. A server booted from the ami with a flavor that
has an ephemeral and a swap disk runs the kernel and initrd from the image service,
mounts the ephemeral disk on /mnt and swaps on the swap disk (its console says so).
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


def test_machine_image_boots_with_its_ephemeral_and_swap_disks(cloud: Cloud) -> None:
    kernel = cloud.openstack("image", "show", "kumo-guest-kernel")
    ramdisk = cloud.openstack("image", "show", "kumo-guest-ramdisk")
    ami = cloud.openstack("image", "show", "kumo-guest-ami")
    assert (kernel["disk_format"], kernel["container_format"]) == ("aki", "aki")
    assert (ramdisk["disk_format"], ramdisk["container_format"]) == ("ari", "ari")
    assert ami["disk_format"] == "ami"
    assert ami["properties"]["kernel_id"] == kernel["id"]
    assert ami["properties"]["ramdisk_id"] == ramdisk["id"]

    flavor = unique("disks")
    cloud.openstack(
        "flavor", "create", "--ram", "512", "--disk", "1", "--vcpus", "1",
        "--ephemeral", "1", "--swap", "32", flavor,
    )  # fmt: skip
    started = time.monotonic()
    server: dict[str, Any] = cloud.openstack(
        "server", "create", "--image", "kumo-guest-ami", "--flavor", flavor,
        "--nic", "none", "--wait", unique("ami"), cloud=DEMO,
    )  # fmt: skip
    try:
        assert server["status"] == "ACTIVE", server
        console = ""
        while time.monotonic() - started < DEADLINE:
            console = cloud.openstack_ok("console", "log", "show", server["id"], cloud=DEMO)
            if FINISHED in console:
                break
            time.sleep(1)
        assert FINISHED in console, console[-3000:]
        assert "kumo-init: ephemeral0 /dev/vdb mounted on /mnt" in console
        assert "kumo-init: swap on /dev/vdc (32764 KiB)" in console
    finally:
        cloud.openstack_ok("server", "delete", "--wait", server["id"], cloud=DEMO)
        cloud.openstack_ok("flavor", "delete", flavor)
