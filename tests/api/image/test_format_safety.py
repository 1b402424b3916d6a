"""Uploaded data is inspected: wrong formats and images pointing outside themselves die.

The corpus is built with ``qemu-img create``, as an attacker would: qcow2 with a
backing file (CVE-2022-47951 family), qcow2 with an external data file
(CVE-2024-32498), VMDK monolithicFlat descriptors naming another file
(CVE-2024-40767), and format lies (a qcow2 uploaded as raw).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kumo.common.config import Settings
from kumo.image.service import inspector, store
from tests.api.image.conftest import Images, needs_qemu, qemu_img

pytestmark = needs_qemu

SECRET = b"kumo-secret-that-must-never-be-read\n"


@pytest.fixture(autouse=True)
def qemu_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file qemu-img was asked to open (unsafe files must never get there)."""
    calls: list[Path] = []
    real = inspector.qemu_img_info

    def spy(path: Path, qemu_format: str) -> dict[str, object]:
        calls.append(path)
        return real(path, qemu_format)

    monkeypatch.setattr(inspector, "qemu_img_info", spy)
    return calls


def _upload_file(images: Images, path: Path, disk_format: str) -> tuple[dict[str, object], int]:
    image = images.create(disk_format=disk_format, container_format="bare")
    resp = images.cloud.put(
        f"/image/v2/images/{image['id']}/file",
        content=path.read_bytes(),
        headers=images.headers(**{"Content-Type": "application/octet-stream"}),
    )
    return images.get(str(image["id"])), resp.status_code


def _assert_killed(
    images: Images, settings: Settings, image: dict[str, object], status: int, why: str
) -> None:
    assert status == 400
    assert image["status"] == "killed"
    assert image["checksum"] is None
    # The data is gone from the store and cannot be downloaded.
    assert not store.data_path(settings.state_dir, str(image["id"])).exists()
    resp = images.cloud.get(f"/image/v2/images/{image['id']}/file", headers=images.headers())
    assert resp.status_code == 204
    assert SECRET not in resp.content
    del why


def _secret(workdir: Path) -> Path:
    path = workdir / "secret.raw"
    path.write_bytes(SECRET * 1000)
    return path


def test_valid_qcow2_becomes_active(demo: Images, workdir: Path, qemu_calls: list[Path]) -> None:
    path = workdir / "good.qcow2"
    qemu_img("create", "-f", "qcow2", str(path), "16M")
    image, status = _upload_file(demo, path, "qcow2")
    assert len(qemu_calls) == 1  # qemu-img's second opinion ran on the safe file
    assert status == 204
    assert image["status"] == "active"
    assert image["virtual_size"] == 16 << 20
    assert image["size"] == path.stat().st_size


def test_valid_vmdk_subformats_become_active(demo: Images, workdir: Path) -> None:
    for subformat in ("monolithicSparse", "streamOptimized"):
        path = workdir / f"{subformat}.vmdk"
        qemu_img("create", "-f", "vmdk", "-o", f"subformat={subformat}", str(path), "4M")
        image, status = _upload_file(demo, path, "vmdk")
        assert (status, image["status"]) == (204, "active"), subformat


def test_qcow2_with_backing_file_is_killed(
    demo: Images,
    workdir: Path,
    settings: Settings,
    qemu_calls: list[Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = _secret(workdir)
    path = workdir / "evil.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(path))
    with caplog.at_level("WARNING", logger="kumo.image.api.image_data"):
        image, status = _upload_file(demo, path, "qcow2")
    _assert_killed(demo, settings, image, status, "backing file")
    # Refused by our own header check: qemu never opened it, so never followed the link.
    assert qemu_calls == []
    assert any(
        "backing file" in r.getMessage() and "killed" in r.getMessage() for r in caplog.records
    )


def test_qcow2_backing_etc_passwd_is_killed(
    demo: Images, workdir: Path, settings: Settings
) -> None:
    path = workdir / "passwd.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(path))
    image, status = _upload_file(demo, path, "qcow2")
    _assert_killed(demo, settings, image, status, "backing file")


def test_qcow2_with_external_data_file_is_killed(
    demo: Images, workdir: Path, settings: Settings, qemu_calls: list[Path]
) -> None:
    secret = _secret(workdir)
    path = workdir / "datafile.qcow2"
    qemu_img("create", "-f", "qcow2", "-o", f"data_file={secret}", str(path), "1M")
    image, status = _upload_file(demo, path, "qcow2")
    _assert_killed(demo, settings, image, status, "data file")
    assert qemu_calls == []


def test_vmdk_monolithic_flat_is_killed(
    demo: Images, workdir: Path, settings: Settings, qemu_calls: list[Path]
) -> None:
    path = workdir / "flat.vmdk"
    qemu_img("create", "-f", "vmdk", "-o", "subformat=monolithicFlat", str(path), "1M")
    image, status = _upload_file(demo, path, "vmdk")
    _assert_killed(demo, settings, image, status, "monolithicFlat")
    assert qemu_calls == []


def test_vmdk_descriptor_pointing_at_etc_passwd_is_killed(
    demo: Images, workdir: Path, settings: Settings, qemu_calls: list[Path]
) -> None:
    path = workdir / "passwd.vmdk"
    path.write_text(
        "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
        'createType="monolithicSparse"\n\n# Extent description\n'
        'RW 2048 FLAT "/etc/passwd" 0\n'
    )
    image, status = _upload_file(demo, path, "vmdk")
    _assert_killed(demo, settings, image, status, "flat extent")
    assert qemu_calls == []


def test_sparse_vmdk_with_an_extra_flat_extent_is_killed(
    demo: Images, workdir: Path, settings: Settings, qemu_calls: list[Path]
) -> None:
    path = workdir / "sneaky.vmdk"
    qemu_img("create", "-f", "vmdk", str(path), "1M")
    data = bytearray(path.read_bytes())
    offset, length = struct.unpack("<QQ", data[28:44])
    start = offset * 512
    descriptor = bytes(data[start : start + length * 512]).split(b"\0", 1)[0]
    evil = descriptor.replace(
        b'SPARSE "sneaky.vmdk"', b'SPARSE "sneaky.vmdk"\nRW 2048 FLAT "/etc/passwd" 0'
    )
    assert evil != descriptor
    data[start : start + len(evil)] = evil
    path.write_bytes(bytes(data))
    image, status = _upload_file(demo, path, "vmdk")
    _assert_killed(demo, settings, image, status, "extra extent")
    assert qemu_calls == []


@pytest.mark.parametrize("claimed", ["raw", "vmdk", "iso"])
def test_qcow2_claiming_another_format_is_killed(
    demo: Images, workdir: Path, settings: Settings, claimed: str
) -> None:
    path = workdir / "liar.qcow2"
    qemu_img("create", "-f", "qcow2", str(path), "1M")
    image, status = _upload_file(demo, path, claimed)
    _assert_killed(demo, settings, image, status, "format mismatch")


def test_raw_claiming_qcow2_is_killed(demo: Images, workdir: Path, settings: Settings) -> None:
    path = workdir / "plain.raw"
    path.write_bytes(b"\0" * 65536)
    image, status = _upload_file(demo, path, "qcow2")
    _assert_killed(demo, settings, image, status, "not qcow2")


def test_iso_is_accepted_as_iso(demo: Images, workdir: Path) -> None:
    path = workdir / "disk.iso"
    data = bytearray(0x9000)
    data[0x8001:0x8006] = b"CD001"
    path.write_bytes(bytes(data))
    image, status = _upload_file(demo, path, "iso")
    assert (status, image["status"]) == (204, "active")


def test_killed_image_is_not_listed_and_reupload_is_409(
    cloud: TestClient, demo: Images, workdir: Path
) -> None:
    path = workdir / "evil2.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(path))
    image, _ = _upload_file(demo, path, "qcow2")
    assert image["status"] == "killed"
    assert image["id"] not in demo.ids()
    demo.upload(str(image["id"]), b"again", expect=409)
