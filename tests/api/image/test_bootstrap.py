"""The default image: a tiny public qcow2, registered once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.image.service import inspector
from kumo.image.service.bootstrap import DEFAULT_IMAGE_NAME, register_default_image, tiny_qcow2
from tests.api.image.conftest import Images, project_id


def test_register_default_image_is_idempotent_and_visible(
    cloud: TestClient, settings: Settings, admin: Images, demo: Images
) -> None:
    db = Database(settings.effective_database_url)
    try:
        first = register_default_image(settings, db)
        assert register_default_image(settings, db) == first
    finally:
        db.dispose()
    found = demo.list(name=DEFAULT_IMAGE_NAME)["images"]
    assert [i["id"] for i in found] == [first]
    image = found[0]
    assert image["status"] == "active"
    assert image["visibility"] == "public"
    assert image["disk_format"] == "qcow2" and image["container_format"] == "bare"
    assert image["kumo_placeholder"] == "true"
    assert image["virtual_size"] == 1 << 20
    assert image["owner"] == project_id(cloud, admin)
    resp = cloud.get(f"/image/v2/images/{first}/file", headers=demo.headers())
    assert resp.status_code == 200
    assert resp.content == tiny_qcow2()
    assert resp.headers["Content-MD5"] == image["checksum"]


def test_the_placeholder_is_a_safe_qcow2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tiny.qcow2"
    path.write_bytes(tiny_qcow2())
    assert inspector.check_header(path, "qcow2") == "qcow2"
