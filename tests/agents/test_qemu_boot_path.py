"""The boot path's shortcuts, without booting a guest: what overlaps, what is remembered.

- the compute agent serializes the messages of one server, not of the host;
- the driver makes the config drive while qemu-img makes the disks, and a failure
  of either leaves nothing written;
- the guest image and a base image's virtual size are checked once per file
  version, not once per spawn;
- the guest init's network plan (one awk pass) and netmask arithmetic.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kumo.agents.compute.manager import ComputeManager
from kumo.agents.compute.virt.driver import GuestSpec, VirtError
from kumo.agents.compute.virt.fake import FakeDriver
from kumo.agents.compute.virt.qemu import QemuDriver, images
from kumo.agents.compute.virt.qemu import driver as qemu_driver
from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.compute.virt.qemu.instance import InstanceDir
from kumo.common.config import Settings
from kumo.guest import image as guest_image_module
from kumo.guest.configdrive import ConfigDriveError
from kumo.guest.image import GuestImage, GuestImageError, load_guest_image

TCG = Accelerator("tcg", "test")
INIT = Path(guest_image_module.ROOTFS) / "init"


# --- the compute agent: one message at a time per server ----------------------------


class _Conductor:
    """Just what run_action's console read asks for."""

    async def instance_view(self, uuid: str) -> dict[str, Any]:
        return {"uuid": uuid, "vm_state": "active", "task_state": None}


def _manager(tmp_path: Path) -> ComputeManager:
    settings = Settings(state_dir=tmp_path, service_password="x")
    return ComputeManager(
        "h1",
        FakeDriver("h1"),
        _Conductor(),  # type: ignore[arg-type]
        settings,
        placement=None,  # type: ignore[arg-type]
        image=None,  # type: ignore[arg-type]
        network=None,  # type: ignore[arg-type]
    )


async def test_messages_of_one_server_run_one_at_a_time_others_overlap(
    tmp_path: Path,
) -> None:
    agent = _manager(tmp_path)
    order: list[str] = []
    release = asyncio.Event()

    async def hold(uuid: str, name: str) -> None:
        async with agent._serialized(uuid):
            order.append(f"{name} in")
            await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(hold("s1", "build s1"))
    await asyncio.sleep(0)
    same = asyncio.create_task(hold("s1", "delete s1"))
    other = asyncio.create_task(hold("s2", "build s2"))
    for _ in range(5):
        await asyncio.sleep(0)
    # Another server's build runs meanwhile; the same server's delete waits.
    assert order == ["build s1 in", "build s2 in"]
    release.set()
    await asyncio.gather(first, same, other)
    assert order.index("delete s1 in") > order.index("build s1 out")
    assert agent._instance_locks == {}  # nothing kept once no one holds or waits


async def test_a_console_read_does_not_wait_for_the_servers_build(tmp_path: Path) -> None:
    agent = _manager(tmp_path)
    await agent.driver.spawn(GuestSpec(uuid="s1", name="g", vcpus=1, memory_mb=64, root_gb=1))
    release = asyncio.Event()

    async def build() -> None:
        async with agent._serialized("s1"):
            await release.wait()

    holder = asyncio.create_task(build())
    await asyncio.sleep(0)
    text = await asyncio.wait_for(
        agent.run_action({}, "s1", "get_console_output", "req-1", {}), timeout=30
    )
    assert isinstance(text, str)
    assert not holder.done()  # the read finished while the build still held the server
    release.set()
    await holder


# --- the driver: config drive and disks at once -----------------------------------


def _spec(uuid: str) -> GuestSpec:
    return GuestSpec(uuid=uuid, name="g", vcpus=1, memory_mb=128, root_gb=1)


async def test_config_drive_is_made_while_the_disk_is(
    qemu_state: Path, guest_image: GuestImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    drive_started = threading.Event()
    make_overlay = qemu_driver.create_overlay
    write_drive = qemu_driver.write_config_drive

    async def overlay(*args: Any, **kwargs: Any) -> None:
        events.append("disk start")
        # The config drive's thread starts while the disk is still being made.
        await asyncio.to_thread(drive_started.wait, 30)
        await make_overlay(*args, **kwargs)
        events.append("disk done")

    def drive(*args: Any) -> Path:
        events.append("drive start")
        drive_started.set()
        return write_drive(*args)

    monkeypatch.setattr(qemu_driver, "create_overlay", overlay)
    monkeypatch.setattr(qemu_driver, "write_config_drive", drive)
    driver = QemuDriver(
        qemu_state, host_name="h", guest_image_dir=guest_image.directory, accelerator=TCG
    )
    files = InstanceDir(driver.instances_dir, "a1")
    files.path.mkdir(parents=True)
    await driver._prepare(_spec("a1"), files)
    assert events.index("drive start") < events.index("disk done")
    assert files.disk.exists() and files.config_drive.exists()


async def test_a_failed_disk_waits_for_the_config_drive_and_leaves_nothing(
    qemu_state: Path, guest_image: GuestImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished: list[str] = []
    write_drive = qemu_driver.write_config_drive

    async def overlay(*args: Any, **kwargs: Any) -> None:
        raise VirtError("qemu-img create failed: no space")

    def slow_drive(*args: Any) -> Path:
        time.sleep(0.3)  # still writing when the disk has failed
        path = write_drive(*args)
        finished.append("drive")
        return path

    monkeypatch.setattr(qemu_driver, "create_overlay", overlay)
    monkeypatch.setattr(qemu_driver, "write_config_drive", slow_drive)
    driver = QemuDriver(
        qemu_state, host_name="h", guest_image_dir=guest_image.directory, accelerator=TCG
    )
    with pytest.raises(VirtError, match="no space"):
        await driver.spawn(_spec("a2"))
    # spawn() returned only after the drive's thread was done, then removed the directory.
    assert finished == ["drive"]
    assert not (driver.instances_dir / "a2").exists()


async def test_a_config_drive_failure_is_a_virt_error_and_leaves_nothing(
    qemu_state: Path, guest_image: GuestImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Path:
        raise ConfigDriveError("genisoimage failed: boom")

    monkeypatch.setattr(qemu_driver, "write_config_drive", broken)
    driver = QemuDriver(
        qemu_state, host_name="h", guest_image_dir=guest_image.directory, accelerator=TCG
    )
    with pytest.raises(VirtError, match="genisoimage failed: boom"):
        await driver.spawn(_spec("a3"))
    assert not (driver.instances_dir / "a3").exists()


# --- checked once per file version --------------------------------------------------


def _copy_image(image: GuestImage, target: Path) -> Path:
    target.mkdir()
    for name in ("vmlinuz", "initramfs.img", "manifest.json"):
        shutil.copy2(image.directory / name, target / name)
    return target


def test_the_guest_image_is_hashed_once_per_file_version(
    tmp_path: Path, guest_image: GuestImage, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _copy_image(guest_image, tmp_path / "guest")
    hashed: list[str] = []
    real = guest_image_module.sha256_file

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(guest_image_module, "sha256_file", counting)
    monkeypatch.setattr(guest_image_module, "_HASHED", {})
    # Files just written are not remembered: a change within the same clock tick would
    # not show in their stat.
    load_guest_image(directory)
    load_guest_image(directory)
    assert hashed.count("initramfs.img") == 2

    monkeypatch.setattr(guest_image_module, "_SETTLED_NS", 0)
    hashed.clear()
    load_guest_image(directory)
    load_guest_image(directory)
    assert hashed.count("initramfs.img") == 1

    # Rewritten (same size, other bytes): its stat changed, so it is hashed again and
    # found corrupt.
    initramfs = directory / "initramfs.img"
    data = bytearray(initramfs.read_bytes())
    data[100] ^= 0xFF
    initramfs.write_bytes(bytes(data))
    stat = initramfs.stat()
    os.utime(initramfs, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(GuestImageError, match="no intact guest image"):
        load_guest_image(directory)


async def test_a_base_images_virtual_size_is_read_once_per_file_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("qemu-img") is None:
        pytest.skip("qemu-img is not installed")
    base = tmp_path / "base"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "64M"], check=True)
    asked: list[Path] = []
    real = images.image_info

    async def counting(path: Path) -> dict[str, Any]:
        asked.append(path)
        return await real(path)

    monkeypatch.setattr(images, "image_info", counting)
    monkeypatch.setattr(images, "_VIRTUAL_SIZES", {})
    monkeypatch.setattr(images, "_SETTLED_NS", 0)
    assert await images.base_virtual_size(base) == 64 << 20
    assert await images.base_virtual_size(base) == 64 << 20
    assert len(asked) == 1
    # Replaced by a bigger image under the same name: read again.
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "128M"], check=True)
    stat = base.stat()
    os.utime(base, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert await images.base_virtual_size(base) == 128 << 20
    # The overlay still refuses a base larger than the flavor's disk.
    with pytest.raises(VirtError, match="larger than the flavor's root disk"):
        big = tmp_path / "big"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(big), "2G"], check=True)
        await images.create_overlay(tmp_path / "disk", 1, big)


# --- the guest init's network plan -----------------------------------------------------


def _init_part(pattern: str) -> str:
    match = re.search(pattern, INIT.read_text(), re.S | re.M)
    assert match, f"{pattern!r} is not in {INIT}"
    return match.group(0)


def _busybox_sh(script: str, tmp_path: Path) -> str:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed")
    path = tmp_path / "script.sh"
    path.write_text(script)
    done = subprocess.run(
        [busybox, "sh", str(path)], capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout


def test_the_init_turns_network_data_into_one_plan(tmp_path: Path) -> None:
    flat = tmp_path / "net.flat"
    flat.write_text(
        "links.0.id\ttapabc\nlinks.0.mtu\t1450\nlinks.0.ethernet_mac_address\tFA:16:3E:00:00:01\n"
        "networks.0.type\tipv4\nnetworks.0.link\ttapabc\nnetworks.0.ip_address\t10.0.0.5\n"
        "networks.0.netmask\t255.255.255.0\nnetworks.0.routes.0.network\t0.0.0.0\n"
        "networks.0.routes.0.netmask\t0.0.0.0\nnetworks.0.routes.0.gateway\t10.0.0.1\n"
        "links.1.id\ttapdef\nlinks.1.mtu\tnull\nlinks.1.ethernet_mac_address\tfa:16:3e:00:00:02\n"
        "networks.1.type\tipv4_dhcp\nnetworks.1.link\ttapdef\n"
        "services.0.type\tdns\nservices.0.address\t10.0.0.2\n"
    )
    plan = _init_part(r"^NETPLAN='.*?^}'$")
    out = _busybox_sh(f"{plan}\nbusybox awk -F '\\t' -v OFS='|' \"$NETPLAN\" {flat}\n", tmp_path)
    assert out.splitlines() == [
        "net|0|ipv4|fa:16:3e:00:00:01|1450|10.0.0.5|255.255.255.0",
        "route|0|0.0.0.0|0.0.0.0|10.0.0.1",
        "net|1|ipv4_dhcp|fa:16:3e:00:00:02|||",
        "dns||10.0.0.2",
    ]


def test_the_init_computes_prefix_lengths_without_ipcalc(tmp_path: Path) -> None:
    function = _init_part(r"^prefix_of\(\) \{.*?^\}$")
    masks = ["255.255.255.0", "255.255.255.192", "255.255.0.0", "0.0.0.0", "255.255.255.255"]  # noqa: S104
    calls = "".join(f'prefix_of {m}; echo "$PREFIX"\n' for m in masks)
    out = _busybox_sh(f"{function}\n{calls}", tmp_path)
    assert out.split() == ["24", "26", "16", "0", "32"]
