"""The Debian guest builder and its registration, without debootstrap (fast; `make test`).

The build itself (minutes, as root, with the Debian mirror) is `make guest-debian`;
booting it is tests/guests (`make test-guests`). Here: the pieces a build is made
of, the "rebuild only when missing" rule, and registration through the real Image API.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kumo.guest import debian
from kumo.guest.debian import (
    DebianImageError,
    apt_mirror,
    build_debian_image,
    configure_rootfs,
    debootstrap_command,
    load_debian_image,
    missing_initrd_modules,
)
from kumo.guest.debian_register import register_debian_image
from tests.conftest import issue


def test_apt_mirror_reads_deb822_sources_and_skips_security(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
    )
    assert apt_mirror(tmp_path) == "http://mirror.example/debian"


def test_apt_mirror_reads_one_line_sources_and_falls_back(tmp_path: Path) -> None:
    assert apt_mirror(tmp_path) == debian.DEFAULT_MIRROR
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://ftp.example/debian bookworm main\n"
    )
    assert apt_mirror(tmp_path) == "http://ftp.example/debian"


def test_debootstrap_command_is_minbase_with_cloud_init_and_the_cloud_kernel(
    tmp_path: Path,
) -> None:
    command = debootstrap_command(tmp_path / "root", "http://m/debian", tmp_path / "debs")
    assert command[:2] == ["debootstrap", "--variant=minbase"]
    assert f"--cache-dir={tmp_path / 'debs'}" in command
    include = next(arg for arg in command if arg.startswith("--include="))
    packages = include.removeprefix("--include=").split(",")
    for package in ("linux-image-cloud-amd64", "cloud-init", "openssh-server", "sudo"):
        assert package in packages
    assert command[-3:] == ["bookworm", str(tmp_path / "root"), "http://m/debian"]


def test_configure_rootfs_makes_a_cloud_image(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/ssh").mkdir(parents=True)
    (root / "etc/ssh/ssh_host_ed25519_key").write_text("build host key")
    (root / "etc/ssh/sshd_config").write_text("# kept\n")
    (root / "etc/resolv.conf").write_text("nameserver 192.0.2.53\n")
    (root / "etc/machine-id").write_text("0123456789abcdef\n")
    (root / "etc/shadow").write_text("root:$6$secret:19000:0:99999:7:::\ndaemon:*:19000::::::\n")
    configure_rootfs(root)
    assert not list((root / "etc/ssh").glob("ssh_host_*"))
    assert (root / "etc/ssh/sshd_config").exists()
    assert not (root / "etc/resolv.conf").exists()
    assert (root / "etc/machine-id").read_text() == ""
    assert (root / "etc/shadow").read_text().splitlines()[0].split(":")[1] == "*"
    config = (root / "etc/cloud/cloud.cfg.d/90_kumo.cfg").read_text()
    assert "datasource_list: [ConfigDrive, OpenStack, None]" in config
    assert "LABEL=cloudimg-rootfs / ext4" in (root / "etc/fstab").read_text()
    modules = (root / "etc/initramfs-tools/modules").read_text().split()
    assert modules == ["virtio_pci", "virtio_blk", "ext4"]
    getty = root / "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
    assert getty.is_symlink()
    assert "source /etc/network/interfaces.d/*" in (root / "etc/network/interfaces").read_text()
    configure_rootfs(root)  # twice is fine (a rebuild into a kept chroot)


def test_missing_initrd_modules_reads_an_lsinitramfs_listing() -> None:
    listing = (
        "usr/lib/modules/6.1.0-28-cloud-amd64/kernel/drivers/block/virtio_blk.ko\n"
        "usr/lib/modules/6.1.0-28-cloud-amd64/kernel/fs/ext4/ext4.ko\n"
        "usr/lib/modules/6.1.0-28-cloud-amd64/kernel/drivers/virtio/virtio_pci.ko.xz\n"
    )
    assert missing_initrd_modules(listing) == []
    assert missing_initrd_modules(listing.replace("virtio_blk", "nvme")) == ["virtio_blk"]
    # The cloud kernel builds ext4 in: modules.builtin names it, the initramfs does not.
    without_ext4 = listing.replace("fs/ext4/ext4.ko", "fs/fat/vfat.ko")
    assert missing_initrd_modules(without_ext4) == ["ext4"]
    assert missing_initrd_modules(without_ext4, "kernel/fs/ext4/ext4.ko\n") == []


def _fake_build(directory: Path) -> None:
    """A directory laid out as a build leaves it (tiny files, a valid tiny qcow2)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vmlinuz").write_bytes(b"\x4d\x5a kernel bytes" * 64)
    (directory / "initrd.img").write_bytes(b"070701 initrd bytes" * 64)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(directory / "root.qcow2"), "64M"],
        check=True,
    )
    files = {
        name: {
            "sha256": debian._sha256(directory / name),
            "size": (directory / name).stat().st_size,
        }
        for name in debian.FILES
    }
    manifest = {
        "builder": debian.BUILDER_VERSION,
        "kernel_version": "6.1.0-28-cloud-amd64",
        "cloud_init_version": "22.4.2-1+deb12u1",
        "os_command_line": debian.COMMAND_LINE,
        "virtual_size": 64 << 20,
        "files": files,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))


def _refusing_runner(command: Sequence[str]) -> str:
    raise AssertionError(f"an intact build ran {list(command)}")


def test_an_intact_build_is_not_rebuilt(tmp_path: Path) -> None:
    _fake_build(tmp_path)
    image = build_debian_image(tmp_path, runner=_refusing_runner)
    assert image.rebuilt is False
    assert image.kernel_version == "6.1.0-28-cloud-amd64"
    assert image.command_line == "root=/dev/vda rw console=ttyS0"
    assert load_debian_image(tmp_path, verify=True).root_disk == tmp_path / "root.qcow2"


def test_a_damaged_or_missing_build_is_not_loaded(tmp_path: Path) -> None:
    with pytest.raises(DebianImageError, match="make guest-debian"):
        load_debian_image(tmp_path)
    _fake_build(tmp_path)
    with (tmp_path / "initrd.img").open("ab") as stream:
        stream.write(b"x")
    with pytest.raises(DebianImageError):
        load_debian_image(tmp_path)
    _fake_build(tmp_path)
    (tmp_path / "root.qcow2").unlink()
    with pytest.raises(DebianImageError):
        load_debian_image(tmp_path)


def test_registration_uploads_kernel_ramdisk_and_root_disk_once(
    cloud: TestClient, tmp_path: Path
) -> None:
    _fake_build(tmp_path)
    image = load_debian_image(tmp_path)
    token = issue(cloud)
    first = register_debian_image(cloud, token, image, name="debian-unit")
    assert first.uploaded
    headers = {"X-Auth-Token": token}
    root = cloud.get(f"/image/v2/images/{first.image_id}", headers=headers).json()
    assert root["status"] == "active"
    assert (root["disk_format"], root["container_format"]) == ("qcow2", "bare")
    assert root["kernel_id"] == first.kernel_id
    assert root["ramdisk_id"] == first.ramdisk_id
    assert root["os_command_line"] == "root=/dev/vda rw console=ttyS0"
    assert root["hw_machine_type"] == "q35"
    assert root["visibility"] == "public"
    kernel = cloud.get(f"/image/v2/images/{first.kernel_id}", headers=headers).json()
    assert (kernel["disk_format"], kernel["status"]) == ("aki", "active")
    data = cloud.get(f"/image/v2/images/{first.ramdisk_id}/file", headers=headers)
    assert data.content == image.initrd.read_bytes()
    again = register_debian_image(cloud, token, image, name="debian-unit")
    assert not again.uploaded
    assert again.image_id == first.image_id
    named = cloud.get("/image/v2/images?name=debian-unit", headers=headers).json()["images"]
    assert len(named) == 1


class FakeDebootstrap:
    """Plays debootstrap and the chroot's tools; mkfs.ext4 and qemu-img run for real."""

    def __init__(self, listing: str = "kernel/drivers/block/virtio_blk.ko\n") -> None:
        self.listing = listing
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> str:
        self.commands.append(list(command))
        if command[0] == "debootstrap":
            root = Path(command[-2])
            version = "6.1.0-28-cloud-amd64"
            (root / "boot").mkdir(parents=True)
            (root / "boot" / f"vmlinuz-{version}").write_bytes(b"kernel")
            (root / "boot" / f"initrd.img-{version}").write_bytes(b"initrd")
            (root / "lib/modules" / version).mkdir(parents=True)
            (root / "lib/modules" / version / "modules.builtin").write_text(
                "kernel/fs/ext4/ext4.ko\nkernel/drivers/virtio/virtio_pci.ko\n"
            )
            (root / "etc/ssh").mkdir(parents=True)
            (root / "etc/ssh/ssh_host_rsa_key").write_text("build host key")
            return ""
        if command[:2] == ["chroot", command[1]] and command[2] == "lsinitramfs":
            return self.listing
        if command[0] in ("chroot", "umount"):
            return ""
        if command[0] == "dpkg-query":
            return "cloud-init 22.4.2-1+deb12u4\nlinux-image-cloud-amd64 6.1.0-28\n"
        return debian.run_command(command)


@pytest.fixture
def build_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host checks pass (the fake runner stands in for root's tools)."""
    for tool in ("mkfs.ext4", "qemu-img", "debugfs"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    monkeypatch.setattr(debian, "check_build_host", lambda: None)


def test_a_build_makes_kernel_initrd_an_ext4_qcow2_and_a_manifest(
    build_host: None, tmp_path: Path
) -> None:
    runner = FakeDebootstrap()
    image = build_debian_image(tmp_path, mirror="http://m/debian", runner=runner)
    assert image.rebuilt
    assert image.kernel.read_bytes() == b"kernel"
    assert image.initrd.read_bytes() == b"initrd"
    info = json.loads(
        debian.run_command(["qemu-img", "info", "--output=json", str(image.root_disk)])
    )
    assert (info["format"], info["virtual-size"]) == ("qcow2", debian.ROOT_SIZE)
    assert not (tmp_path / "rootfs").exists()  # the chroot is gone
    assert not (tmp_path / "root.raw").exists()
    assert image.manifest["cloud_init_version"] == "22.4.2-1+deb12u4"
    assert image.manifest["mirror"] == "http://m/debian"
    # The initramfs was regenerated inside the chroot after the config was written.
    assert any(c[2:4] == ["update-initramfs", "-u"] for c in runner.commands if c[0] == "chroot")
    assert load_debian_image(tmp_path, verify=True).manifest == image.manifest
    # The disk holds the configured chroot: cloud-init's config, no build host key.
    listing = debian.run_command(
        ["debugfs", "-R", "ls -p /etc/cloud/cloud.cfg.d", str(_raw(tmp_path))]
    )
    assert "90_kumo.cfg" in listing
    ssh = debian.run_command(["debugfs", "-R", "ls -p /etc/ssh", str(_raw(tmp_path))])
    assert "ssh_host_rsa_key" not in ssh


def _raw(directory: Path) -> Path:
    raw = directory / "check.raw"
    if not raw.exists():
        debian.run_command(
            [
                "qemu-img",
                "convert",
                "-f",
                "qcow2",
                "-O",
                "raw",
                str(directory / "root.qcow2"),
                str(raw),
            ]
        )
    return raw


def test_a_build_whose_initramfs_cannot_mount_root_fails_and_leaves_no_image(
    build_host: None, tmp_path: Path
) -> None:
    runner = FakeDebootstrap(listing="kernel/drivers/nvme/host/nvme.ko\n")
    with pytest.raises(DebianImageError, match="the initramfs lacks virtio_blk"):
        build_debian_image(tmp_path, mirror="http://m/debian", runner=runner)
    assert not (tmp_path / "manifest.json").exists()
    assert not (tmp_path / "rootfs").exists()
    with pytest.raises(DebianImageError):
        load_debian_image(tmp_path)


def test_a_chroot_still_mounted_is_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "rootfs"
    (root / "proc").mkdir(parents=True)
    unmounted: list[list[str]] = []
    # umount "fails" silently: the mount stays, so deleting would reach the host's /proc.
    monkeypatch.setattr(debian, "_mounts_under", lambda directory: [str(root / "proc")])
    with pytest.raises(DebianImageError, match="still mounted"):
        debian.remove_chroot(root, lambda command: unmounted.append(list(command)) or "")
    assert unmounted == [["umount", "--lazy", str(root / "proc")]]
    assert (root / "proc").exists()


def test_the_metadata_service_gives_cloud_init_a_dhcp_link_per_nic() -> None:
    # The real cloud-init renders no config for a NIC network_data.json does not name,
    # and the Debian guest's NIC went down after reading the metadata service.
    from kumo.compute.metadata import _network_data

    view = {
        "uuid": "8c1d1b5e-7f4a-4c1e-9a7e-0d6f3e2b1a00",
        "network_info": {
            "private": [
                {"addr": "10.94.0.3", "version": 4, "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"},
                {"addr": "fd00::3", "version": 6, "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"},
            ],
            "other": [
                {"addr": "10.95.0.4", "version": 4, "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:02"}
            ],
        },
    }
    data = _network_data(view)
    links = data["links"]
    networks = data["networks"]
    assert isinstance(links, list) and isinstance(networks, list)
    assert [link["ethernet_mac_address"] for link in links] == [
        "fa:16:3e:00:00:01",
        "fa:16:3e:00:00:02",
    ]
    assert [(n["type"], n["link"]) for n in networks] == [
        ("ipv4_dhcp", links[0]["id"]),
        ("ipv4_dhcp", links[1]["id"]),
    ]
    assert _network_data({"uuid": view["uuid"]}) == {"links": [], "networks": [], "services": []}
