"""What tempest's fake image data meets: Glance's format enforcement
(``[image_format] require_image_format_match``, on by default since 2024.2).

tempest uploads random bytes (1–4 KiB) claiming any disk format. Glance inspects
uploads of ``container_format=bare``: data with no recognisable header is accepted
for formats that have none (raw, and ami/ari/aki which it cannot inspect), and
refused for formats it can recognise (qcow2, vhd, vmdk, …). That is why tempest.conf
says ``image_format_enforcement = true`` and tempest's ``ListUserImagesTest`` skips
itself, as against a default Glance.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.api.image.conftest import Images, needs_qemu

pytestmark = needs_qemu


def _tempest_bytes() -> bytes:
    """Like tempest's ``data_utils.random_bytes(size)`` for its listing images."""
    return os.urandom(random.randint(1024, 4096))


def _upload(images: Images, disk_format: str, container_format: str = "bare") -> tuple[int, str]:
    image = images.create(disk_format=disk_format, container_format=container_format)
    resp = images.cloud.put(
        f"/image/v2/images/{image['id']}/file",
        content=_tempest_bytes(),
        headers=images.headers(**{"Content-Type": "application/octet-stream"}),
    )
    return resp.status_code, str(images.get(image["id"])["status"])


@pytest.mark.parametrize("disk_format", ["raw", "ami", "ari", "aki"])
def test_headerless_formats_accept_random_bytes(demo: Images, disk_format: str) -> None:
    assert _upload(demo, disk_format) == (204, "active")


@pytest.mark.parametrize("disk_format", ["qcow2", "vhd", "vhdx", "vmdk", "vdi", "iso"])
def test_inspectable_formats_refuse_random_bytes(demo: Images, disk_format: str) -> None:
    status, image_status = _upload(demo, disk_format)
    assert status == 400
    assert image_status == "killed"


@pytest.mark.parametrize("container_format", ["ami", "ari", "aki"])
def test_amazon_containers_accept_their_payloads(demo: Images, container_format: str) -> None:
    assert _upload(demo, container_format, container_format) == (204, "active")
