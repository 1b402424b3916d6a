"""`kumo image build`: the guest image built offline from Debian packages."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kumo.guest import cpio
from kumo.guest.image import ROOTFS, GuestImage, build_guest_image, module_load_order


def _cpio_members(archive: bytes) -> dict[str, tuple[int, bytes]]:
    """name → (mode, data) of a newc archive (a reader for the writer under test)."""
    members, offset = {}, 0
    while True:
        header = archive[offset : offset + 110]
        assert header[:6] == b"070701"
        fields = [int(header[6 + 8 * i : 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = fields[1], fields[6], fields[11]
        name_start = offset + 110
        name = archive[name_start : name_start + namesize - 1].decode()
        data_start = name_start + namesize + (-(110 + namesize) % 4)
        data = archive[data_start : data_start + size]
        offset = data_start + size + (-size % 4)
        if name == "TRAILER!!!":
            return members
        members[name] = (mode, data)


def test_build_writes_kernel_initramfs_and_manifest(guest_image: GuestImage) -> None:
    manifest = json.loads((guest_image.directory / "manifest.json").read_text())
    for name in ("vmlinuz", "initramfs.img"):
        data = (guest_image.directory / name).read_bytes()
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["files"][name]["size"] == len(data)
    assert manifest["kernel_version"].endswith("-cloud-amd64")
    assert set(manifest["debian_packages"]) == {
        "linux-image-cloud-amd64",
        "busybox-static",
        "dropbear-bin",
    }


def test_build_is_idempotent_and_fast_when_up_to_date(guest_image: GuestImage) -> None:
    before = (guest_image.directory / "initramfs.img").stat().st_mtime_ns
    started = time.monotonic()
    again = build_guest_image(guest_image.directory)
    assert not again.rebuilt
    assert time.monotonic() - started < 10
    assert (guest_image.directory / "initramfs.img").stat().st_mtime_ns == before


def test_build_redoes_a_damaged_image(guest_image: GuestImage, tmp_path: Path) -> None:
    copy = tmp_path / "guest"
    shutil.copytree(guest_image.directory, copy)
    (copy / "initramfs.img").write_bytes(b"damaged")
    rebuilt = build_guest_image(copy)
    assert rebuilt.rebuilt
    assert (copy / "initramfs.img").read_bytes() == guest_image.initramfs.read_bytes()


def test_initramfs_holds_init_busybox_dropbear_and_modules(guest_image: GuestImage) -> None:
    members = _cpio_members(gzip.decompress(guest_image.initramfs.read_bytes()))
    mode, init = members["init"]
    assert init == (ROOTFS / "init").read_bytes()
    assert mode & 0o111
    assert "bin/busybox" in members
    assert members["bin/sh"][1] == b"/bin/busybox"  # applets are symlinks
    assert "usr/sbin/dropbear" in members
    assert "dev/console" in members
    order = members["lib/modules/kumo-load-order"][1].decode().split()
    for needed in ("virtio_pci.ko", "virtio_blk.ko", "isofs.ko", "vfat.ko", "virtio_net.ko"):
        assert needed in order
        assert f"lib/modules/{needed}" in members
    # Dependencies come first.
    assert order.index("virtio.ko") < order.index("virtio_blk.ko")
    assert order.index("cdrom.ko") < order.index("isofs.ko")
    assert order.index("fat.ko") < order.index("vfat.ko")


def test_module_load_order_resolves_dependencies_from_modules_dep(tmp_path: Path) -> None:
    (tmp_path / "modules.dep").write_text(
        "kernel/a.ko: kernel/b.ko kernel/c.ko\nkernel/b.ko: kernel/c.ko\nkernel/c.ko:\n"
        "kernel/d-e.ko:\n"
    )
    assert module_load_order(tmp_path, ("a", "d_e", "missing")) == [
        "kernel/c.ko",
        "kernel/b.ko",
        "kernel/a.ko",
        "kernel/d-e.ko",
    ]


def test_cpio_archive_round_trips() -> None:
    archive = cpio.archive(
        [cpio.directory("etc"), cpio.regular("etc/x", b"hello", 0o600), cpio.symlink("y", "/x")]
    )
    members = _cpio_members(archive)
    assert members["etc/x"] == (0o100600, b"hello")
    assert members["y"][1] == b"/x"


@pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox is not installed")
def test_init_json_flattener_reads_nova_metadata() -> None:
    """The guest init reads JSON with busybox awk (there is no jq in the guest)."""
    document = {
        "uuid": "u-1",
        "public_keys": {"mykey": "ssh-ed25519 AAAA me@host\n"},
        "links": [{"id": "tap1", "ethernet_mac_address": "FA:16:3E:00:00:01", "mtu": 1450}],
        "meta": {},
        "quote": 'a"b\\c',
        "n": None,
    }
    done = subprocess.run(
        ["busybox", "awk", "-f", str(ROOTFS / "usr/share/kumo/jsonflat.awk")],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = dict(line.split("\t", 1) for line in done.stdout.splitlines())
    assert lines == {
        "uuid": "u-1",
        "public_keys.mykey": "ssh-ed25519 AAAA me@host",
        "links.0.id": "tap1",
        "links.0.ethernet_mac_address": "FA:16:3E:00:00:01",
        "links.0.mtu": "1450",
        "quote": 'a"b\\c',
        "n": "null",
    }


@pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox is not installed")
def test_init_scripts_parse_with_busybox_sh() -> None:
    for script in ("init", "usr/share/udhcpc/default.script", "etc/acpi/PWRF/00000080"):
        done = subprocess.run(["busybox", "sh", "-n", str(ROOTFS / script)], capture_output=True)
        assert done.returncode == 0, done.stderr
