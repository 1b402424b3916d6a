"""Interoperable import: /stage + /import with glance-direct; other methods disabled."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.image.conftest import OCTET, Images, needs_qemu, qemu_img


def _stage(images: Images, image_id: str, data: bytes, expect: int = 204) -> None:
    resp = images.cloud.put(
        f"/image/v2/images/{image_id}/stage",
        content=data,
        headers=images.headers(**{"Content-Type": OCTET}),
    )
    assert resp.status_code == expect, resp.text


def _import(images: Images, image_id: str, method: object, expect: int = 202) -> dict[str, str]:
    resp = images.cloud.post(
        f"/image/v2/images/{image_id}/import", json={"method": method}, headers=images.headers()
    )
    assert resp.status_code == expect, resp.text
    return resp.json() if resp.content else {}


def test_info_import_lists_glance_direct(cloud: TestClient, demo: Images) -> None:
    resp = cloud.get("/image/v2/info/import", headers=demo.headers())
    assert resp.status_code == 200
    assert resp.json()["import-methods"]["value"] == ["glance-direct"]


def test_glance_direct_import(demo: Images) -> None:
    image = demo.create(disk_format="raw", container_format="bare")
    data = b"staged data" * 1000
    _stage(demo, image["id"], data)
    assert demo.get(image["id"])["status"] == "uploading"
    resp = demo.cloud.post(
        f"/image/v2/images/{image['id']}/import",
        json={"method": {"name": "glance-direct"}},
        headers=demo.headers(),
    )
    assert resp.status_code == 202
    tasks = demo.cloud.get(f"/image/v2/images/{image['id']}/tasks", headers=demo.headers())
    assert tasks.status_code == 200
    [task] = tasks.json()["tasks"]
    assert task["status"] == "success" and task["type"] == "api_image_import"
    assert task["request_id"] == resp.headers["x-openstack-request-id"]
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    shown = demo.get(image["id"])
    assert shown["status"] == "active"
    assert shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    resp = demo.cloud.get(f"/image/v2/images/{image['id']}/file", headers=demo.headers())
    assert resp.content == data
    # Importing again into an active image is a conflict.
    _import(demo, image["id"], {"name": "glance-direct"}, expect=409)


def test_import_before_staging_is_409(demo: Images) -> None:
    image = demo.create(disk_format="raw", container_format="bare")
    body = _import(demo, image["id"], {"name": "glance-direct"}, expect=409)
    assert "staged" in body["message"]


def test_web_download_is_disabled(demo: Images) -> None:
    image = demo.create(disk_format="raw", container_format="bare")
    body = _import(demo, image["id"], {"name": "web-download", "uri": "http://x/y"}, expect=400)
    assert "web-download is disabled" in body["message"]
    assert demo.get(image["id"])["status"] == "queued"
    body = _import(demo, image["id"], {"name": "bogus"}, expect=400)
    assert "Unknown import method" in body["message"]
    body = _import(demo, image["id"], "glance-direct", expect=400)
    assert "'method'" in body["message"]


@needs_qemu
def test_import_of_an_unsafe_image_kills_it(demo: Images, tmp_path: Path) -> None:
    path = tmp_path / "evil.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(path))
    image = demo.create(disk_format="qcow2", container_format="bare")
    _stage(demo, image["id"], path.read_bytes())
    _import(demo, image["id"], {"name": "glance-direct"})
    assert demo.get(image["id"])["status"] == "killed"
    resp = demo.cloud.get(f"/image/v2/images/{image['id']}/tasks", headers=demo.headers())
    [task] = resp.json()["tasks"]
    assert task["status"] == "failure" and "backing file" in task["message"]


def test_stores_info(cloud: TestClient, demo: Images, admin: Images) -> None:
    resp = cloud.get("/image/v2/info/stores", headers=demo.headers())
    assert resp.status_code == 200
    stores = resp.json()["stores"]
    assert len(stores) == 1 and stores[0]["default"] is True
    assert cloud.get("/image/v2/info/stores/detail", headers=demo.headers()).status_code == 403
    resp = cloud.get("/image/v2/info/stores/detail", headers=admin.headers())
    assert resp.status_code == 200 and resp.json()["stores"][0]["type"] == "file"


def test_tasks_are_admin_only(cloud: TestClient, demo: Images, admin: Images) -> None:
    assert cloud.get("/image/v2/tasks", headers=demo.headers()).status_code == 403
    resp = cloud.get("/image/v2/tasks", headers=admin.headers())
    assert resp.status_code == 200 and resp.json()["tasks"] == []


def test_url_import_tasks_are_refused(cloud: TestClient, demo: Images, admin: Images) -> None:
    task = {"type": "import", "input": {"import_from": "http://example.com/x.qcow2"}}
    assert cloud.post("/image/v2/tasks", json=task, headers=demo.headers()).status_code == 403
    resp = cloud.post("/image/v2/tasks", json=task, headers=admin.headers())
    assert resp.status_code == 400
    assert "disabled" in resp.json()["message"]
