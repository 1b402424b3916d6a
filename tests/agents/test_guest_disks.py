"""Real guests with the flavor's ephemeral and swap disks, and booted from kernel/ramdisk images.

Two guests under TCG: one on the driver with ephemeral + swap (the guest mounts the
one on /mnt and swaps on the other, and says so on its console), and one through the
compute API from ``kumo-guest-ami``, whose kernel and initrd come from the image
service (``kumo-guest-kernel``/``kumo-guest-ramdisk``), not from the host's build.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.agents.compute.virt.driver import GuestSpec
from kumo.agents.compute.virt.qemu import QemuDriver, process
from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.compute.virt.qemu.images import ephemeral_extension
from kumo.common.config import Settings
from kumo.compute.service.flavors import bootstrap_flavors
from kumo.guest.image import GuestImage
from kumo.guest.register import (
    AMI_IMAGE_ID,
    KERNEL_IMAGE_ID,
    RAMDISK_IMAGE_ID,
    register_guest_image,
)
from kumo.identity.service.core import Identity
from tests.agents.conftest import wait_for_console
from tests.agents.guestlib import (
    DEADLINE,
    FINISHED,
    C,
    boot_server,
    delete_server,
    qemu_settings,
    server_action,
    wait_console,
    wait_status,
)
from tests.conftest import issue

pytestmark = pytest.mark.guest

DISK_SCRIPT = """#!/bin/sh
echo "MNT: $(awk '$2 == "/mnt" { print $1, $2, $3 }' /proc/mounts)"
echo "SWAPS: $(awk 'NR > 1 { print $1, $3 }' /proc/swaps)"
echo written > /mnt/probe && echo "EPHEMERAL-WRITABLE: $(cat /mnt/probe)"
"""


async def test_guest_mounts_its_ephemeral_disk_and_swaps_on_its_swap_disk(
    make_driver: Callable[..., QemuDriver],
) -> None:
    driver = make_driver()
    guest = GuestSpec(
        uuid="6a1f3a52-0c4e-4f5e-9b1e-00000000d15c",
        name="disks",
        vcpus=1,
        memory_mb=256,
        root_gb=1,
        image={"os_type": "linux"},  # Nova: ext4 for a linux guest's ephemeral disk
        user_data=base64.b64encode(DISK_SCRIPT.encode()).decode(),
        ephemeral_gb=1,
        swap_mb=64,
    )
    await driver.spawn(guest)
    console = await wait_for_console(driver, guest.uuid, FINISHED, deadline=DEADLINE)
    # Where the metadata says they are (ec2 block-device-mapping): vdb, then vdc.
    assert "kumo-init: ephemeral0 /dev/vdb mounted on /mnt" in console
    assert "kumo-init: swap on /dev/vdc (65532 KiB)" in console
    assert "MNT: /dev/vdb /mnt ext4" in console
    assert "SWAPS: /dev/vdc 65532" in console
    assert "EPHEMERAL-WRITABLE: written" in console
    files = driver._files(guest.uuid)
    base = driver.images.directory
    assert files.ephemeral_disk.exists() and files.swap_disk.exists()
    assert (base / f"ephemeral_1_{ephemeral_extension('ext4')}").exists()
    assert (base / "swap_64").exists()
    await driver.destroy(guest.uuid)
    assert not files.path.exists()


# --- a distribution's kernel, initrd and root disk (the Debian guest's contract) ------


class _Glance:
    """Image metadata and data from local files (the image service's role)."""

    def __init__(self, images: dict[str, tuple[Path, str]]) -> None:
        self.images = images

    async def get_image(self, image_id: str) -> dict[str, Any]:
        path, disk_format = self.images[image_id]
        digest = hashlib.sha512(path.read_bytes()).hexdigest()
        return {
            "id": image_id,
            "status": "active",
            "visibility": "public",
            "disk_format": disk_format,
            "os_hash_algo": "sha512",
            "os_hash_value": digest,
        }

    async def download(self, image_id: str, destination: Path) -> None:
        shutil.copyfile(self.images[image_id][0], destination)


def _debian_initrd() -> Path | None:
    found = sorted(Path("/boot").glob("initrd.img-*-cloud-amd64"))
    return found[-1] if found else None


@pytest.mark.skipif(_debian_initrd() is None, reason="no Debian cloud initrd in /boot")
@pytest.mark.skipif(shutil.which("mkfs.ext4") is None, reason="e2fsprogs is not installed")
async def test_a_distribution_kernel_and_initrd_mount_the_root_disk_on_q35(
    make_driver: Callable[..., QemuDriver], tmp_path: Path
) -> None:
    # What the Debian cloud-init guest uploads: its kernel (aki), its initramfs-tools
    # initrd (ari) and an ext4 root disk naming them, root=/dev/vda rw, q35.
    initrd = _debian_initrd()
    assert initrd is not None
    kernel = Path("/boot") / initrd.name.replace("initrd.img-", "vmlinuz-")
    rootfs = tmp_path / "rootfs"
    for directory in ("bin", "sbin", "dev", "proc", "sys", "run"):
        (rootfs / directory).mkdir(parents=True)
    shutil.copyfile("/bin/busybox", rootfs / "bin" / "busybox")
    (rootfs / "bin" / "busybox").chmod(0o755)
    init = rootfs / "sbin" / "init"
    init.write_text(
        "#!/bin/busybox sh\n"
        "/bin/busybox mount -t proc proc /proc\n"
        "echo \"ROOT-INIT-RAN: $(/bin/busybox grep ' / ' /proc/mounts)\"\n"
        'echo "CMDLINE: $(/bin/busybox cat /proc/cmdline)"\n'
        "exec /bin/busybox sleep 3600\n"
    )
    init.chmod(0o755)
    root = tmp_path / "root.raw"
    with root.open("wb") as stream:
        stream.truncate(64 << 20)
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(rootfs), str(root)], check=True
    )
    glance = _Glance({"deb-k": (kernel, "aki"), "deb-r": (initrd, "ari")})
    driver = make_driver(image_source=glance)
    image = {
        "id": "deb-root",
        "disk_format": "raw",
        "kernel_id": "deb-k",
        "ramdisk_id": "deb-r",
        "os_command_line": "root=/dev/vda rw",
        "hw_machine_type": "q35",
    }
    glance.images["deb-root"] = (root, "raw")
    guest = GuestSpec(
        uuid="6a1f3a52-0c4e-4f5e-9b1e-0000000deb12",
        name="debian",
        vcpus=1,
        memory_mb=512,
        root_gb=1,
        image=image,
        config_drive=False,
    )
    await driver.spawn(guest)
    console = await wait_for_console(driver, guest.uuid, "CMDLINE:", deadline=DEADLINE)
    assert "ROOT-INIT-RAN: /dev/vda / ext4 rw" in console
    assert "root=/dev/vda rw" in console
    pid = driver.pid(guest.uuid)
    assert pid is not None
    command = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert command[command.index("-machine") + 1] == "q35"
    assert command[command.index("-initrd") + 1] == str(driver.images.directory / "deb-r")
    assert "kumo" not in command[command.index("-initrd") + 1]  # not the Kumo initramfs
    await driver.destroy(guest.uuid)


# --- kumo-guest-ami through the compute API -------------------------------------------


@pytest.fixture
def settings(
    settings: Settings, qemu_state: Path, guest_image: GuestImage, accelerator: Accelerator
) -> Settings:
    """The QEMU driver on a short state dir; SQLite only (the boot path has no SQL in it)."""
    return qemu_settings(
        settings,
        qemu_state,
        guest_image,
        accelerator,
        sqlite_only="one real guest is enough: run on SQLite only",
    )


@pytest.fixture
def real_cloud(cloud: TestClient, ident: Identity, guest_image: GuestImage) -> Iterator[TestClient]:
    """The cloud with devstack's flavors and the guest images registered as `kumo up` does."""
    bootstrap_flavors(ident.db)
    register_guest_image(ident.settings, ident.db, guest_image)
    yield cloud


def _wait(client: TestClient, token: str, server_id: str, status: str) -> dict[str, Any]:
    return wait_status(client, server_id, status, {"X-Auth-Token": token})


def _boot(client: TestClient, token: str, image_id: str) -> str:
    name = f"ami-{uuid.uuid4().hex[:6]}"
    return boot_server(client, name, image_id, {"X-Auth-Token": token})


def _action(client: TestClient, token: str, server_id: str, body: dict[str, Any]) -> None:
    server_action(client, server_id, body, {"X-Auth-Token": token}, codes=(200, 202, 204))


def _console(client: TestClient, token: str, server_id: str, text: str) -> str:
    return wait_console(client, server_id, text, {"X-Auth-Token": token})[0]


def test_kumo_guest_ami_boots_with_the_kernel_and_ramdisk_images_and_resizes_to_local_disks(
    real_cloud: TestClient, settings: Settings
) -> None:
    client = real_cloud
    token = issue(client)
    server_id = _boot(client, token, AMI_IMAGE_ID)
    _wait(client, token, server_id, "ACTIVE")
    console = _console(client, token, server_id, FINISHED)
    assert "Kumo guest" in console
    assert "Datasource DataSourceConfigDrive" in console

    # QEMU runs the kernel and initrd the image service gave this host, not the build's.
    state = settings.state_dir.resolve()
    instance_dir = state / "instances" / server_id
    pid = int((instance_dir / "qemu.pid").read_text())
    command = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert command[command.index("-kernel") + 1] == str(state / "_base" / KERNEL_IMAGE_ID)
    assert command[command.index("-initrd") + 1] == str(state / "_base" / RAMDISK_IMAGE_ID)
    assert command[command.index("-append") + 1].endswith(" root=/dev/vda")

    # Resize to a flavor with ephemeral and swap disks: the guest is made again with them.
    flavor = client.post(
        f"{C}/flavors",
        json={
            "flavor": {
                "name": f"disks-{uuid.uuid4().hex[:6]}",
                "ram": 512,
                "vcpus": 1,
                "disk": 1,
                "OS-FLV-EXT-DATA:ephemeral": 1,
                "swap": 32,
            }
        },
        headers={"X-Auth-Token": token},
    )
    assert flavor.status_code == 200, flavor.text
    _action(client, token, server_id, {"resize": {"flavorRef": flavor.json()["flavor"]["id"]}})
    _wait(client, token, server_id, "VERIFY_RESIZE")
    console = _console(client, token, server_id, "kumo-init: swap on /dev/vdc (32764 KiB)")
    assert "kumo-init: ephemeral0 /dev/vdb mounted on /mnt" in console
    _action(client, token, server_id, {"confirmResize": None})
    _wait(client, token, server_id, "ACTIVE")
    assert (instance_dir / "disk.local").exists() and (instance_dir / "disk.swap").exists()
    pid = int((instance_dir / "qemu.pid").read_text())
    assert process.is_guest(pid, server_id, instance_dir / "qemu.pid")

    delete_server(client, server_id, {"X-Auth-Token": token})
    assert not process.alive(pid)
    assert not instance_dir.exists()


def test_a_machine_image_whose_kernel_is_missing_ends_in_error_with_a_fault(
    real_cloud: TestClient, settings: Settings
) -> None:
    client = real_cloud
    token = issue(client)
    headers = {"X-Auth-Token": token}
    missing = str(uuid.uuid4())
    created = client.post(
        "/image/v2/images",
        json={
            "name": "broken-ami",
            "disk_format": "ami",
            "container_format": "ami",
            "kernel_id": missing,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    image_id = created.json()["id"]
    uploaded = client.put(
        f"/image/v2/images/{image_id}/file",
        content=bytes(65536),
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 204, uploaded.text
    server_id = _boot(client, token, image_id)
    server = _wait(client, token, server_id, "ERROR")
    fault = server.get("fault") or {}
    assert f"Kernel image {missing} could not be found" in str(fault.get("message", "")) + str(
        fault.get("details", "")
    ), server
    assert not (settings.state_dir / "instances" / server_id).exists()
