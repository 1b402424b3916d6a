"""Boot sources and local disks without a running guest: kernel/ramdisk images, machine
types, ephemeral and swap disks, their place on the command line and in the metadata.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.agents.compute.virt.driver import GuestSpec, ImageUnusable, VirtError
from kumo.agents.compute.virt.qemu import QemuDriver
from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.compute.virt.qemu.bootsource import boot_source, make_local_disks
from kumo.agents.compute.virt.qemu.images import (
    ImageCache,
    ImageLookup,
    ephemeral_extension,
    ephemeral_fs,
)
from kumo.agents.compute.virt.qemu.instance import (
    BootConfig,
    InstanceDir,
    image_machine_type,
    qemu_command,
)
from kumo.agents.compute.virt.qemu.metadata import block_device_mapping, instance_metadata
from kumo.common import errors
from kumo.guest.configdrive import config_drive_files
from kumo.guest.image import GuestImage
from kumo.guest.register import (
    AMI_IMAGE_ID,
    GUEST_IMAGE_ID,
    KERNEL_IMAGE_ID,
    RAMDISK_IMAGE_ID,
    register_guest_image,
)
from kumo.identity.service.core import Identity
from tests.conftest import issue

pytestmark = pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-img") is None,
    reason="QEMU is not installed (make debs)",
)

PROJECT = "p-1"


def _qemu_info(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["qemu-img", "info", "--output=json", "-U", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    info: dict[str, Any] = json.loads(done.stdout)
    return info


def _sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


class _Glance:
    """An image source that also answers image metadata (the agent's service client)."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}
        self.data: dict[str, bytes] = {}
        self.downloads: list[str] = []

    def add(self, image_id: str, data: bytes, **fields: Any) -> dict[str, Any]:
        record = {
            "id": image_id,
            "status": "active",
            "visibility": "public",
            "owner": "admin-project",
            "os_hash_algo": "sha512",
            "os_hash_value": _sha512(data),
            **fields,
        }
        self.images[image_id] = record
        self.data[image_id] = data
        return record

    async def get_image(self, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise errors.NotFound(f"No image found with ID {image_id}")
        return dict(self.images[image_id])

    async def download(self, image_id: str, destination: Path) -> None:
        self.downloads.append(image_id)
        destination.write_bytes(self.data[image_id])


def _machine_image(glance: _Glance, **properties: Any) -> dict[str, Any]:
    glance.add("kernel-1", b"KERNEL" * 100, disk_format="aki", container_format="aki")
    glance.add("ramdisk-1", b"INITRD" * 100, disk_format="ari", container_format="ari")
    fields: dict[str, Any] = {"kernel_id": "kernel-1", "ramdisk_id": "ramdisk-1", **properties}
    return glance.add("ami-1", bytes(1 << 20), disk_format="ami", container_format="ami", **fields)


def _guest(image: dict[str, Any], **changes: Any) -> GuestSpec:
    spec = GuestSpec(
        uuid="0d5c0a4e-0000-4000-8000-000000000001",
        name="g",
        vcpus=1,
        memory_mb=256,
        root_gb=1,
        image=image,
        project_id=PROJECT,
    )
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


# --- the command line --------------------------------------------------------------


def _boot(**changes: Any) -> BootConfig:
    boot = BootConfig(
        uuid="u1", name="n", vcpus=1, memory_mb=256, root_gb=1, machine="q35",
        accel="tcg", kernel="/k", initrd="/i", kernel_args="console=ttyS0",
    )  # fmt: skip
    for key, value in changes.items():
        setattr(boot, key, value)
    return boot


def _drives(command: list[str]) -> list[str]:
    return [command[i + 1] for i, arg in enumerate(command) if arg == "-drive"]


def test_disks_are_root_then_ephemeral_then_swap_then_config_drive(tmp_path: Path) -> None:
    files = InstanceDir(tmp_path, "u1")
    files.path.mkdir()
    for path in (files.disk, files.ephemeral_disk, files.swap_disk, files.config_drive):
        path.write_bytes(b"")
    drives = _drives(qemu_command("qemu-system-x86_64", _boot(), files))
    assert [d.split(",file=")[1].split(",")[0] for d in drives] == [
        str(files.disk),
        str(files.ephemeral_disk),
        str(files.swap_disk),
        str(files.config_drive),
    ]
    assert "format=qcow2" in drives[1] and "format=qcow2" in drives[2]
    assert "readonly=on" in drives[3] and "readonly=on" not in drives[1]
    # Only swap: it takes the second place, as the metadata says (vdb).
    files.ephemeral_disk.unlink()
    drives = _drives(qemu_command("qemu-system-x86_64", _boot(), files))
    assert str(files.swap_disk) in drives[1]
    assert block_device_mapping(0, 64) == {"ami": "vda", "root": "/dev/vda", "swap": "/dev/vdb"}


def test_a_kernel_without_ramdisk_boots_with_no_initrd(tmp_path: Path) -> None:
    files = InstanceDir(tmp_path, "u1")
    command = qemu_command("qemu-system-x86_64", _boot(initrd=""), files)
    assert "-initrd" not in command
    assert command[command.index("-kernel") + 1] == "/k"
    with_initrd = qemu_command("qemu-system-x86_64", _boot(), files)
    assert with_initrd[with_initrd.index("-initrd") + 1] == "/i"


def test_hw_machine_type_overrides_the_host_default() -> None:
    assert image_machine_type(None, "microvm") == "microvm"
    assert image_machine_type("", "microvm") == "microvm"
    assert image_machine_type("q35", "microvm") == "q35"
    assert image_machine_type("PC", "microvm") == "pc"
    assert image_machine_type("pc-q35-7.2", "microvm") == "q35"
    assert image_machine_type("pc-i440fx-7.2", "microvm") == "pc"
    with pytest.raises(ImageUnusable, match="hw_machine_type 'virt' is not supported"):
        image_machine_type("virt", "microvm")


# --- metadata ----------------------------------------------------------------------


def test_ec2_metadata_maps_ephemeral_and_swap_disks_as_nova_does() -> None:
    guest = _guest({"id": "ami-1", "kernel_id": "kernel-1", "ramdisk_id": "ramdisk-1"})
    guest.ephemeral_gb, guest.swap_mb = 1, 64
    files = config_drive_files(instance_metadata(guest))
    ec2 = json.loads(files["ec2/latest/meta-data.json"])
    assert ec2["block-device-mapping"] == {
        "ami": "vda",
        "root": "/dev/vda",
        "ephemeral0": "/dev/vdb",
        "swap": "/dev/vdc",
    }
    assert ec2["kernel-id"] == "kernel-1" and ec2["ramdisk-id"] == "ramdisk-1"
    assert files["ec2/2009-04-04/meta-data.json"] == files["ec2/latest/meta-data.json"]
    plain = json.loads(
        config_drive_files(instance_metadata(_guest({})))["ec2/latest/meta-data.json"]
    )
    assert plain["block-device-mapping"] == {"ami": "vda", "root": "/dev/vda"}
    assert "kernel-id" not in plain


# --- ephemeral and swap bases ------------------------------------------------------


def test_ephemeral_file_system_follows_nova() -> None:
    assert ephemeral_fs("linux") == "ext4"
    assert ephemeral_fs(None) == "vfat"
    assert ephemeral_fs("linux", "xfs") == "xfs"
    assert (
        ephemeral_extension("ext4") == hashlib.md5(b"ext4", usedforsecurity=False).hexdigest()[:7]
    )


@pytest.mark.skipif(shutil.which("mkfs.ext4") is None, reason="e2fsprogs is not installed")
async def test_ephemeral_and_swap_bases_are_formatted_once_and_shared(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "_base", None)
    first = await cache.ephemeral_base(1, "ext4")
    assert first.name == f"ephemeral_1_{ephemeral_extension('ext4')}"
    assert first.stat().st_size == 1 << 30
    assert first.stat().st_mode & 0o777 == 0o444
    label = subprocess.run(
        ["e2label", str(first)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert label == "ephemeral0"
    made = first.stat().st_mtime_ns
    assert await cache.ephemeral_base(1, "ext4") == first
    assert first.stat().st_mtime_ns == made  # not formatted again
    swap = await cache.swap_base(32)
    assert swap.name == "swap_32"
    assert swap.stat().st_size == 32 << 20
    with swap.open("rb") as stream:
        stream.seek(4086)
        assert stream.read(10) == b"SWAPSPACE2"
    with pytest.raises(VirtError, match=r"mkfs\.nofs is missing"):
        await cache.ephemeral_base(1, "nofs")
    with pytest.raises(VirtError, match="must be positive"):
        await cache.swap_base(0)
    assert not list((tmp_path / "_base").glob(".*.part"))


@pytest.mark.skipif(
    shutil.which("mkfs.vfat") is None and shutil.which("busybox") is None,
    reason="neither dosfstools nor busybox is installed",
)
async def test_an_ephemeral_disk_without_os_type_is_vfat_labelled_ephemeral0(
    tmp_path: Path,
) -> None:
    cache = ImageCache(tmp_path / "_base", None)
    files = InstanceDir(tmp_path / "instances", "u1")
    files.path.mkdir(parents=True)
    await make_local_disks(_guest({}, ephemeral_gb=1), files, cache)
    base = tmp_path / "_base" / f"ephemeral_1_{ephemeral_extension('vfat')}"
    assert _qemu_info(files.ephemeral_disk)["backing-filename"] == str(base)
    with base.open("rb") as stream:
        boot = stream.read(512)
    assert boot[510:512] == b"\x55\xaa"  # a FAT boot sector
    assert boot[82:90] == b"FAT32   "  # 1 GiB: FAT32
    assert boot[71:81] == b"ephemeral0"  # the volume label cloud-init looks for


@pytest.mark.skipif(shutil.which("mkfs.ext4") is None, reason="e2fsprogs is not installed")
async def test_local_disks_are_overlays_on_the_bases(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "_base", None)
    files = InstanceDir(tmp_path / "instances", "u1")
    files.path.mkdir(parents=True)
    guest = _guest({"os_type": "linux"}, ephemeral_gb=1, swap_mb=16)
    await make_local_disks(guest, files, cache)
    for disk, base in (
        (files.ephemeral_disk, f"ephemeral_1_{ephemeral_extension('ext4')}"),
        (files.swap_disk, "swap_16"),
    ):
        info = _qemu_info(disk)
        assert info["format"] == "qcow2"
        assert info["backing-filename"] == str(tmp_path / "_base" / base)
        assert info["backing-filename-format"] == "raw"
    bare = InstanceDir(tmp_path / "instances", "u2")
    bare.path.mkdir()
    await make_local_disks(_guest({}), bare, cache)
    assert not bare.ephemeral_disk.exists() and not bare.swap_disk.exists()


# --- kernel and ramdisk images -----------------------------------------------------


async def test_machine_image_boots_its_kernel_and_ramdisk_from_the_cache(tmp_path: Path) -> None:
    glance = _Glance()
    assert isinstance(glance, ImageLookup)
    image = _machine_image(glance, os_command_line="root=/dev/vda rw", hw_machine_type="q35")
    cache = ImageCache(tmp_path / "_base", glance)
    source = await boot_source(
        _guest(image), images=cache, lookup=glance,
        guest_image_dir=tmp_path / "no-local-guest", default_machine="microvm",
    )  # fmt: skip
    assert source.kernel == tmp_path / "_base" / "kernel-1"
    assert source.initrd == tmp_path / "_base" / "ramdisk-1"
    assert source.kernel.read_bytes() == glance.data["kernel-1"]
    assert source.machine == "q35"
    assert source.extra_args == "root=/dev/vda rw"
    await boot_source(
        _guest(image), images=cache, lookup=glance,
        guest_image_dir=tmp_path, default_machine="microvm",
    )  # fmt: skip
    assert glance.downloads == ["kernel-1", "ramdisk-1"]  # once per host
    # Without os_command_line: Nova's root=/dev/vda; without a ramdisk: no initrd.
    del image["os_command_line"], image["ramdisk_id"]
    source = await boot_source(
        _guest(image), images=cache, lookup=glance,
        guest_image_dir=tmp_path, default_machine="microvm",
    )  # fmt: skip
    assert source.initrd is None and source.extra_args == "root=/dev/vda"


async def test_a_kernel_image_that_lies_or_hides_fails_the_build(tmp_path: Path) -> None:
    glance = _Glance()
    image = _machine_image(glance)
    cache = ImageCache(tmp_path / "_base", glance)

    async def boot(**properties: Any) -> None:
        await boot_source(
            _guest({**image, **properties}), images=cache, lookup=glance,
            guest_image_dir=tmp_path, default_machine="microvm",
        )  # fmt: skip

    # The image's fault, not the host's: the build is aborted, not rescheduled.
    with pytest.raises(ImageUnusable, match="Kernel image missing-1 could not be found"):
        await boot(kernel_id="missing-1")
    with pytest.raises(VirtError, match="is not an image id"):
        await boot(kernel_id="../v2/images")
    with pytest.raises(VirtError, match="ramdisk_id but no kernel_id"):
        await boot(kernel_id="")
    glance.add("private-k", b"K", disk_format="aki", visibility="private", owner="other")
    with pytest.raises(VirtError, match="Kernel image private-k could not be found"):
        await boot(kernel_id="private-k")
    glance.add("mine-k", b"K", disk_format="aki", visibility="private", owner=PROJECT)
    await boot(kernel_id="mine-k")
    glance.add("disk-k", b"K", disk_format="qcow2")
    with pytest.raises(VirtError, match="a kernel image must be aki or raw"):
        await boot(kernel_id="disk-k")
    glance.add("bad-hash", b"K", disk_format="aki")
    glance.images["bad-hash"]["os_hash_value"] = "0" * 128
    with pytest.raises(VirtError, match="does not match its sha512 hash"):
        await boot(kernel_id="bad-hash")
    glance.add("queued-k", b"K", disk_format="aki", status="queued")
    with pytest.raises(VirtError, match="is not active"):
        await boot(kernel_id="queued-k")
    with pytest.raises(VirtError, match="no image service"):
        await boot_source(
            _guest(image), images=cache, lookup=None,
            guest_image_dir=tmp_path, default_machine="microvm",
        )  # fmt: skip


async def test_ami_data_may_be_raw_or_qcow2_but_never_point_elsewhere(tmp_path: Path) -> None:
    glance = _Glance()
    qcow2 = tmp_path / "q.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2), "16M"], check=True)
    backed = tmp_path / "b.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(qcow2), str(backed)],
        check=True,
    )
    cache = ImageCache(tmp_path / "_base", glance)
    raw = glance.add("raw-ami", bytes(65536), disk_format="ami")
    assert (await cache.fetch_disk(raw))[1] == "raw"
    packed = glance.add("qcow2-ami", qcow2.read_bytes(), disk_format="ami")
    assert (await cache.fetch_disk(packed))[1] == "qcow2"
    assert (await cache.fetch_disk(packed))[1] == "qcow2"  # from the cache record
    evil = glance.add("backed-ami", backed.read_bytes(), disk_format="ami")
    with pytest.raises(VirtError, match="backing file"):
        await cache.fetch_disk(evil)
    vmdk = tmp_path / "v.vmdk"
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(vmdk), "16M"], check=True)
    other = glance.add("vmdk-ami", vmdk.read_bytes(), disk_format="ami")
    with pytest.raises(ImageUnusable, match="ami image data is vmdk"):
        await cache.fetch_disk(other)
    with pytest.raises(ImageUnusable, match="cannot be a root disk"):
        await cache.fetch_disk({"id": "k", "disk_format": "aki"})


# --- the driver's preparation (no QEMU started) ------------------------------------


@pytest.mark.skipif(shutil.which("mkfs.ext4") is None, reason="e2fsprogs is not installed")
async def test_driver_prepares_a_machine_image_guest_with_local_disks(tmp_path: Path) -> None:
    glance = _Glance()
    image = _machine_image(
        glance, os_command_line="root=/dev/vda rw KUMO_TEST=1", hw_machine_type="q35",
        os_type="linux",
    )  # fmt: skip
    driver = QemuDriver(
        tmp_path / "state", host_name="h1", image_source=glance,
        accelerator=Accelerator("tcg", "chosen by the test"),
    )  # fmt: skip
    assert driver.image_lookup is glance
    guest = _guest(image, ephemeral_gb=1, swap_mb=16, config_drive=False)
    files = driver._files(guest.uuid)
    files.path.mkdir(parents=True)
    boot = await driver._prepare(guest, files)
    assert boot.machine == "q35"
    assert boot.kernel == str(driver.images.directory / "kernel-1")
    assert boot.initrd == str(driver.images.directory / "ramdisk-1")
    # q35 has a display: the VGA console first, so the serial one stays /dev/console.
    assert boot.kernel_args.startswith("console=tty0 console=ttyS0")
    assert boot.kernel_args.endswith("root=/dev/vda rw KUMO_TEST=1")
    assert "tsc_early_khz" not in boot.kernel_args  # q35 has a PIT to calibrate against
    disk = _qemu_info(files.disk)
    assert disk["backing-filename"] == str(driver.images.directory / "ami-1")
    assert disk["backing-filename-format"] == "raw"
    assert disk["virtual-size"] == 1 << 30  # the flavor's root_gb grows the 1 MiB ami
    command = qemu_command("qemu-system-x86_64", boot, files)
    drives = _drives(command)
    assert len(drives) == 3 and "disk.local" in drives[1] and "disk.swap" in drives[2]
    assert "virtio-blk-pci" in " ".join(command)
    boot.save(files.boot_config)
    await driver.destroy(guest.uuid)
    assert not files.path.exists()
    # The bases stay for the next guest; only the instance's overlays went.
    assert (driver.images.directory / "swap_16").exists()


# --- registration ------------------------------------------------------------------


def _fake_guest_image(directory: Path, kernel: bytes, initrd: bytes) -> GuestImage:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vmlinuz").write_bytes(kernel)
    (directory / "initramfs.img").write_bytes(initrd)
    return GuestImage(
        directory, directory / "vmlinuz", directory / "initramfs.img",
        {"kernel_version": "6.1.0-test-cloud-amd64"},
    )  # fmt: skip


def test_kumo_up_registers_kernel_ramdisk_and_machine_images(
    cloud: TestClient, ident: Identity, tmp_path: Path
) -> None:
    guest = _fake_guest_image(tmp_path / "g", b"KERNEL-1", b"INITRD-1")
    assert register_guest_image(ident.settings, ident.db, guest) == GUEST_IMAGE_ID
    token = issue(cloud)

    def show(image_id: str) -> dict[str, Any]:
        response = cloud.get(f"/image/v2/images/{image_id}", headers={"X-Auth-Token": token})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(image_id: str) -> bytes:
        response = cloud.get(f"/image/v2/images/{image_id}/file", headers={"X-Auth-Token": token})
        assert response.status_code == 200, response.text
        content: bytes = response.content
        return content

    kernel, ramdisk, ami = show(KERNEL_IMAGE_ID), show(RAMDISK_IMAGE_ID), show(AMI_IMAGE_ID)
    assert (kernel["name"], kernel["disk_format"], kernel["container_format"]) == (
        "kumo-guest-kernel", "aki", "aki",
    )  # fmt: skip
    assert (ramdisk["name"], ramdisk["disk_format"]) == ("kumo-guest-ramdisk", "ari")
    assert (ami["name"], ami["disk_format"], ami["container_format"]) == (
        "kumo-guest-ami", "ami", "ami",
    )  # fmt: skip
    assert ami["kernel_id"] == KERNEL_IMAGE_ID and ami["ramdisk_id"] == RAMDISK_IMAGE_ID
    assert ami["status"] == kernel["status"] == "active"
    assert kernel["visibility"] == "public"
    assert data(KERNEL_IMAGE_ID) == b"KERNEL-1"
    assert data(RAMDISK_IMAGE_ID) == b"INITRD-1"
    assert kernel["os_hash_value"] == _sha512(b"KERNEL-1")
    # Again: a no-op. After a rebuild of the guest: the new kernel and initrd.
    assert register_guest_image(ident.settings, ident.db, guest) == GUEST_IMAGE_ID
    assert show(KERNEL_IMAGE_ID)["updated_at"] == kernel["updated_at"]
    rebuilt = _fake_guest_image(tmp_path / "g2", b"KERNEL-2", b"INITRD-1")
    register_guest_image(ident.settings, ident.db, rebuilt)
    assert data(KERNEL_IMAGE_ID) == b"KERNEL-2"
    assert show(KERNEL_IMAGE_ID)["os_hash_value"] == _sha512(b"KERNEL-2")
    assert show(RAMDISK_IMAGE_ID)["os_hash_value"] == _sha512(b"INITRD-1")


def test_the_agent_driver_looks_images_up_through_its_image_source(tmp_path: Path) -> None:
    from kumo.agents.compute.image_source import ServiceImageSource
    from kumo.common.config import Settings

    service = ServiceImageSource(session=None)  # type: ignore[arg-type]
    assert isinstance(service, ImageLookup)
    settings = Settings(state_dir=tmp_path, default_ephemeral_format="ext4")
    driver = QemuDriver.from_settings(settings, "h1", image_source=service)
    assert driver.image_lookup is service
    assert driver.default_ephemeral_format == "ext4"

    class _DataOnly:
        async def download(self, image_id: str, destination: Path) -> None:
            raise AssertionError("not called")

    plain = QemuDriver.from_settings(Settings(state_dir=tmp_path), "h1", image_source=_DataOnly())
    assert plain.image_lookup is None and plain.default_ephemeral_format is None
