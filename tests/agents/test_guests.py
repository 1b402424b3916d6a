"""Real guests under QEMU (TCG here): boot with a config drive, power actions, snapshot,
re-adoption. Few and slow-ish by nature; every QEMU they start is killed at the end.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kumo.agents.compute.virt.driver import PAUSED, RUNNING, SHUTDOWN, SUSPENDED, GuestSpec
from kumo.agents.compute.virt.qemu import QemuDriver, process
from kumo.agents.compute.virt.qemu.qmp import QMPSession
from tests.agents.conftest import wait_for_console

pytestmark = pytest.mark.guest

FINISHED = "Cloud-init v. kumo finished at"
USER_DATA = """#!/bin/sh
echo "USER-DATA-RAN on $(hostname)"
cat > /var/lib/cloud/scripts/per-boot/10-hello <<'EOS'
#!/bin/sh
echo PER-BOOT-HELLO
EOS
chmod +x /var/lib/cloud/scripts/per-boot/10-hello
"""


def _public_key(tmp_path: Path) -> str:
    key = tmp_path / "k"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tester@kumo", "-f", str(key)],
        check=True,
    )
    return (tmp_path / "k.pub").read_text().strip()


def _fingerprint(public_key: str) -> str:
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _spec(uuid: str, name: str, **changes: object) -> GuestSpec:
    spec = GuestSpec(uuid=uuid, name=name, vcpus=1, memory_mb=256, root_gb=1)
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


async def _qmp_status(driver: QemuDriver, uuid: str) -> str:
    async with QMPSession(driver.instances_dir / uuid / "qmp.sock") as qmp:
        status = await qmp.run("query-status")
    return str(status["status"])


class _FileImages:
    """An image source serving local files (the image service's role)."""

    def __init__(self, images: dict[str, Path]) -> None:
        self.images = images

    async def download(self, image_id: str, destination: Path) -> None:
        shutil.copyfile(self.images[image_id], destination)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
async def test_guest_boots_from_config_drive_and_obeys_power_actions(
    make_driver: Callable[..., QemuDriver], tmp_path: Path
) -> None:
    driver = make_driver()
    key = _public_key(tmp_path)
    uuid = "6a1f3a52-0c4e-4f5e-9b1e-000000000001"
    user_data = base64.b64encode(USER_DATA.encode()).decode()
    await driver.spawn(_spec(uuid, "Test VM_1", key_data=key, user_data=user_data))
    pid = driver.pid(uuid)
    assert pid is not None

    console = await wait_for_console(driver, uuid, FINISHED)
    assert "Kumo guest" in console  # the boot banner
    assert "kumo-init: hostname test-vm-1" in console
    assert f"authorized key for root: ssh-ed25519 {_fingerprint(key)} tester@kumo" in console
    assert "root has 1 authorized key(s)" in console
    assert "USER-DATA-RAN on test-vm-1" in console
    assert "Datasource DataSourceConfigDrive" in console
    assert "instance state on disk /dev/vda" in console
    assert (await driver.get_info(uuid)).power_state == RUNNING

    # pause / unpause: QMP stop / cont
    await driver.pause(uuid)
    assert await _qmp_status(driver, uuid) == "paused"
    assert (await driver.get_info(uuid)).power_state == PAUSED
    await driver.unpause(uuid)
    assert await _qmp_status(driver, uuid) == "running"

    # stop: the guest honours the ACPI power button and its QEMU exits
    await driver.power_off(uuid)
    assert (await driver.get_info(uuid)).power_state == SHUTDOWN
    assert not process.alive(pid)
    assert "power button pressed" in await driver.get_console_output(uuid)

    # start: boots again from the same disk; user_data ran once per instance only,
    # and the per-boot script it left on the disk runs now
    await driver.power_on(uuid)
    console = await wait_for_console(driver, uuid, FINISHED, count=2)
    assert console.count("USER-DATA-RAN") == 1
    assert "user_data script already ran" in console
    assert console.count("PER-BOOT-HELLO") == 1

    # hard reboot: system_reset in the same QEMU process
    pid = driver.pid(uuid)
    await driver.reboot(uuid, hard=True)
    console = await wait_for_console(driver, uuid, FINISHED, count=3)
    assert driver.pid(uuid) == pid
    assert console.count("PER-BOOT-HELLO") == 2

    # snapshot: one standalone qcow2 with the guest's disk contents
    snapshot = tmp_path / "snapshot.qcow2"
    await driver.snapshot_to(uuid, snapshot)
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", str(snapshot)],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert info["format"] == "qcow2"
    assert "backing-filename" not in info
    assert await _qmp_status(driver, uuid) == "running"  # resumed after the copy

    # destroy: no process, no files
    await driver.destroy(uuid)
    assert not process.alive(pid)
    assert not (driver.instances_dir / uuid).exists()
    assert uuid not in await driver.list_instances()

    # boot a new server from the snapshot: the old disk's per-boot script runs,
    # and the new instance's user_data runs (a new instance id)
    digest = hashlib.sha512(snapshot.read_bytes()).hexdigest()
    images = _FileImages({"snap-1": snapshot})
    from_snapshot = make_driver(image_source=images)
    uuid2 = "6a1f3a52-0c4e-4f5e-9b1e-000000000002"
    image = {"id": "snap-1", "disk_format": "qcow2", "os_hash_algo": "sha512"}
    image["os_hash_value"] = digest
    await from_snapshot.spawn(_spec(uuid2, "from-snapshot", image=image, user_data=user_data))
    console = await wait_for_console(from_snapshot, uuid2, FINISHED)
    assert "PER-BOOT-HELLO" in console
    assert "USER-DATA-RAN on from-snapshot" in console
    await from_snapshot.destroy(uuid2)
    assert await from_snapshot.list_instances() == []


async def test_suspend_resume_and_readoption_by_a_new_driver(
    make_driver: Callable[..., QemuDriver], qemu_state: Path
) -> None:
    first = make_driver()
    uuid = "6a1f3a52-0c4e-4f5e-9b1e-00000000000a"
    await first.spawn(_spec(uuid, "adoptee"))

    # A Kumo guest of another state directory: this host must report it, not kill it.
    stranger_driver = make_driver(state_dir=qemu_state / "other")
    stranger = "6a1f3a52-0c4e-4f5e-9b1e-00000000000b"
    await stranger_driver.spawn(_spec(stranger, "stranger"))
    await stranger_driver.pause(stranger)  # it need not boot; save the CPU

    # suspend mid-boot; the restored guest carries on and finishes booting
    await wait_for_console(first, uuid, "Kumo guest")
    await first.suspend(uuid)
    assert (await first.get_info(uuid)).power_state == SUSPENDED
    assert first.pid(uuid) is None
    await first.resume(uuid)
    assert (await first.get_info(uuid)).power_state == RUNNING
    await wait_for_console(first, uuid, FINISHED)
    del first

    # a new driver (a restarted agent) re-adopts the running guest and controls it
    second = make_driver()
    report = await second.init_host()
    assert report.adopted == [uuid]
    # Other Kumo guests on this host (another test's cloud, running in parallel) are
    # reported as unknown too; the stranger this test made must be among them.
    assert stranger in [g.uuid for g in report.unknown]
    assert uuid not in [g.uuid for g in report.unknown]
    stranger_pid = stranger_driver.pid(stranger)
    assert stranger_pid is not None and process.alive(stranger_pid)
    assert (await second.get_info(uuid)).power_state == RUNNING
    await second.pause(uuid)
    assert await _qmp_status(second, uuid) == "paused"
    await second.unpause(uuid)
    assert await _qmp_status(second, uuid) == "running"

    # a guest that died while the agent was down is found shut off
    pid = second.pid(uuid)
    assert pid is not None
    process.kill(pid)
    third = make_driver()
    for _ in range(50):
        if not process.alive(pid):
            break
        await asyncio.sleep(0.1)
    report = await third.init_host()
    assert report.stopped == [uuid]
    assert (await third.get_info(uuid)).power_state == SHUTDOWN

    await third.destroy(uuid)
    await stranger_driver.destroy(stranger)
    assert not process.alive(stranger_pid)
    assert await third.list_instances() == []


def _nic_without_backend(guest: GuestSpec, machine: str) -> list[str]:
    """A NIC with no host side at all: the guest configures it, nothing leaves it."""
    device = "virtio-net-device" if machine == "microvm" else "virtio-net-pci"
    return [
        "-device",
        f"{device},mac={guest.ports[0]['mac_address']}",
    ]


async def test_q35_guest_gets_static_network_and_powers_off(
    make_driver: Callable[..., QemuDriver],
) -> None:
    driver = make_driver(machine="q35", nic_hook=_nic_without_backend)
    uuid = "6a1f3a52-0c4e-4f5e-9b1e-00000000000c"
    port = {
        "id": "port-1",
        "mac_address": "fa:16:3e:12:34:56",
        "ip_address": "10.0.0.5",
        "netmask": "255.255.255.0",
        "gateway": "10.0.0.1",
        "dns_nameservers": ["10.0.0.2"],
    }
    await driver.spawn(_spec(uuid, "pci-guest", ports=[port]))
    pid = driver.pid(uuid)
    console = await wait_for_console(driver, uuid, FINISHED)
    assert "(fa:16:3e:12:34:56): static 10.0.0.5/24" in console
    assert "route default via 10.0.0.1" in console
    await driver.power_off(uuid)
    assert (await driver.get_info(uuid)).power_state == SHUTDOWN
    assert pid is not None and not process.alive(pid)
    assert "power button pressed" in await driver.get_console_output(uuid)
    await driver.destroy(uuid)
