"""The format inspector on its own: real images of each format qemu-img makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kumo.image.service import inspector
from tests.api.image.conftest import needs_qemu, qemu_img

pytestmark = needs_qemu

#: Glance disk format → qemu-img's name for it.
FORMATS = {"qcow2": "qcow2", "vmdk": "vmdk", "vhd": "vpc", "vhdx": "vhdx", "vdi": "vdi"}


@pytest.mark.parametrize("disk_format", sorted(FORMATS))
def test_each_format_is_recognised_and_sized(tmp_path: Path, disk_format: str) -> None:
    path = tmp_path / f"disk.{disk_format}"
    qemu_img("create", "-f", FORMATS[disk_format], str(path), "4M")
    assert inspector.detect_format(path) == disk_format
    found = inspector.inspect(path, disk_format)
    assert found.format == disk_format
    assert found.virtual_size is not None and found.virtual_size >= 4 << 20


@pytest.mark.parametrize("disk_format", sorted(FORMATS))
def test_each_format_refused_when_claimed_raw(tmp_path: Path, disk_format: str) -> None:
    path = tmp_path / f"disk.{disk_format}"
    qemu_img("create", "-f", FORMATS[disk_format], str(path), "4M")
    with pytest.raises(inspector.UnsafeImage, match=disk_format):
        inspector.inspect(path, "raw")


def test_raw_and_iso(tmp_path: Path) -> None:
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\x01" * 4096)
    assert inspector.inspect(raw, "raw").virtual_size == 4096
    with pytest.raises(inspector.UnsafeImage):
        inspector.inspect(raw, "iso")
    iso = tmp_path / "disk.iso"
    data = bytearray(0x9000)
    data[0x8001:0x8006] = b"CD001"
    iso.write_bytes(bytes(data))
    assert inspector.detect_format(iso) == "iso"
    # An ISO is plain bytes: acceptable where raw is claimed.
    assert inspector.inspect(iso, "raw").format == "iso"


def test_truncated_qcow2_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.qcow2"
    path.write_bytes(b"QFI\xfb\x00\x00\x00\x03")
    with pytest.raises(inspector.UnsafeImage, match="truncated"):
        inspector.inspect(path, "qcow2")
