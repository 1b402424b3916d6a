"""Per-project image quotas: image_count_total and image_size_total (MiB)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from kumo.common.config import Settings
from tests.api.image.conftest import Images


def test_image_count_quota(settings: Settings, demo: Images, alt: Images) -> None:
    settings.image_count_total = 2
    demo.create()
    demo.create()
    body = demo.create(expect=413)
    assert body["code"] == "413 Over Limit" or body["code"].startswith("413")
    assert "image_count_total" in body["message"]
    # The quota is per project.
    alt.create()


def test_image_size_quota(cloud: TestClient, settings: Settings, demo: Images) -> None:
    settings.image_size_total = 1  # MiB
    first = demo.create(disk_format="raw", container_format="bare")
    demo.upload(first["id"], b"a" * (600 << 10))
    second = demo.create(disk_format="raw", container_format="bare")

    def body() -> Iterator[bytes]:
        for _ in range(10):
            yield b"b" * (64 << 10)

    resp = demo.upload(second["id"], body(), expect=413)
    assert "quota" in resp.json()["message"]
    # Nothing was kept; the image may be uploaded again once there is room.
    assert demo.get(second["id"])["status"] == "queued"
    assert (
        cloud.delete(f"/image/v2/images/{first['id']}", headers=demo.headers()).status_code == 204
    )
    demo.upload(second["id"], b"b" * (640 << 10))
    assert demo.get(second["id"])["status"] == "active"


def test_declared_length_over_quota_is_refused_at_once(settings: Settings, demo: Images) -> None:
    settings.image_size_total = 1
    image = demo.create(disk_format="raw", container_format="bare")
    demo.upload(image["id"], b"x" * ((1 << 20) + 1), expect=413)
    assert demo.get(image["id"])["status"] == "queued"


def test_usage_reports_the_quotas(cloud: TestClient, settings: Settings, demo: Images) -> None:
    settings.image_count_total = 5
    demo.create()
    resp = cloud.get("/image/v2/info/usage", headers=demo.headers())
    assert resp.status_code == 200
    usage = resp.json()["usage"]
    assert usage["image_count_total"] == {"limit": 5, "usage": 1}
    assert usage["image_size_total"]["limit"] == -1


def test_tag_and_property_limits(cloud: TestClient, demo: Images) -> None:
    body = demo.create(expect=413, tags=[f"t{i}" for i in range(129)])
    assert "image tags" in body["message"]
    body = demo.create(expect=413, **{f"p{i}": "v" for i in range(129)})
    assert "image properties" in body["message"]
    image = demo.create(tags=[f"t{i}" for i in range(128)])
    resp = cloud.put(f"/image/v2/images/{image['id']}/tags/one-more", headers=demo.headers())
    assert resp.status_code == 413
