"""/v2/images/{id}/file: streamed upload, checksums, download with Range."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from fastapi.testclient import TestClient

from kumo.common.config import Settings
from kumo.image.service import store
from tests.api.image.conftest import OCTET, Images


def _raw(images: Images, **extra: object) -> dict[str, object]:
    return images.create(disk_format="raw", container_format="bare", **extra)


def test_upload_sets_size_checksums_and_active(cloud: TestClient, demo: Images) -> None:
    image = _raw(demo)
    data = bytes(range(256)) * 1000
    demo.upload(image["id"], data)
    shown = demo.get(image["id"])
    assert shown["status"] == "active"
    assert shown["size"] == len(data)
    assert shown["virtual_size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    resp = cloud.get(f"/image/v2/images/{image['id']}/file", headers=demo.headers())
    assert resp.status_code == 200
    assert resp.content == data
    assert resp.headers["Content-Type"] == OCTET
    assert resp.headers["Content-MD5"] == shown["checksum"]
    assert resp.headers["Content-Length"] == str(len(data))


def test_upload_streams_a_generator_body_larger_than_the_json_limit(demo: Images) -> None:
    image = _raw(demo)
    chunk = b"k" * 65536
    count = 40  # 2.5 MiB: over the 1 MiB JSON body limit, fine for data

    def body() -> Iterator[bytes]:
        for _ in range(count):
            yield chunk

    demo.upload(image["id"], body())
    shown = demo.get(image["id"])
    assert shown["size"] == len(chunk) * count
    assert shown["checksum"] == hashlib.md5(chunk * count, usedforsecurity=False).hexdigest()


def test_json_routes_keep_the_body_limit(cloud: TestClient, demo: Images) -> None:
    resp = cloud.post(
        "/image/v2/images",
        content=b"{" + b" " * (2 << 20) + b"}",
        headers=demo.headers(**{"Content-Type": "application/json"}),
    )
    assert resp.status_code == 413


def test_range_requests(cloud: TestClient, demo: Images) -> None:
    image = _raw(demo)
    data = bytes(range(256)) * 40
    demo.upload(image["id"], data)
    url = f"/image/v2/images/{image['id']}/file"
    resp = cloud.get(url, headers=demo.headers(Range="bytes=10-19"))
    assert resp.status_code == 206
    assert resp.content == data[10:20]
    assert resp.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    resp = cloud.get(url, headers=demo.headers(Range="bytes=-5"))
    assert resp.status_code == 206 and resp.content == data[-5:]
    resp = cloud.get(url, headers=demo.headers(Range="bytes=10000-"))
    assert resp.status_code == 206 and resp.content == data[10000:]
    resp = cloud.get(url, headers=demo.headers(Range=f"bytes={len(data)}-"))
    assert resp.status_code == 416
    assert resp.headers["Content-Range"] == f"bytes */{len(data)}"


def test_download_without_data_is_204(cloud: TestClient, demo: Images) -> None:
    image = _raw(demo)
    resp = cloud.get(f"/image/v2/images/{image['id']}/file", headers=demo.headers())
    assert resp.status_code == 204


def test_upload_to_active_image_is_409(demo: Images) -> None:
    image = _raw(demo)
    demo.upload(image["id"], b"first")
    body = demo.upload(image["id"], b"second", expect=409).json()
    assert body["code"] == "409 Conflict"
    assert "active" in body["message"]


def test_upload_needs_formats_and_octet_stream(cloud: TestClient, demo: Images) -> None:
    image = demo.create()
    body = demo.upload(image["id"], b"data", expect=400).json()
    assert "disk_format, container_format must be set" in body["message"]
    assert demo.get(image["id"])["status"] == "queued"
    image = _raw(demo)
    resp = cloud.put(
        f"/image/v2/images/{image['id']}/file",
        content=b"{}",
        headers=demo.headers(**{"Content-Type": "application/json"}),
    )
    assert resp.status_code == 400


def test_others_cannot_upload_or_download(cloud: TestClient, demo: Images, alt: Images) -> None:
    image = _raw(demo, visibility="private")
    alt.upload(image["id"], b"x", expect=404)
    demo.upload(image["id"], b"secret")
    resp = cloud.get(f"/image/v2/images/{image['id']}/file", headers=alt.headers())
    assert resp.status_code == 404


def test_delete_removes_the_data_file(cloud: TestClient, demo: Images, settings: Settings) -> None:
    image = _raw(demo)
    demo.upload(image["id"], b"bytes to delete")
    path = store.data_path(settings.state_dir, image["id"])
    assert path.read_bytes() == b"bytes to delete"
    resp = cloud.delete(f"/image/v2/images/{image['id']}", headers=demo.headers())
    assert resp.status_code == 204
    assert not path.exists()
