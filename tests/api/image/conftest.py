"""Fixtures for the image API tests: tokens per project and small helpers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import issue, unique

PATCH = "application/openstack-images-v2.1-json-patch"
OCTET = "application/octet-stream"


def hdr(token: str, **extra: str) -> dict[str, str]:
    """Headers sending ``token``."""
    return {"X-Auth-Token": token, **extra}


class Images:
    """A thin client of /image/v2 for one caller."""

    def __init__(self, cloud: TestClient, token: str) -> None:
        self.cloud = cloud
        self.token = token

    def headers(self, **extra: str) -> dict[str, str]:
        return hdr(self.token, **extra)

    def create(self, expect: int = 201, **body: Any) -> dict[str, Any]:
        body.setdefault("name", unique("img"))
        resp = self.cloud.post("/image/v2/images", json=body, headers=self.headers())
        assert resp.status_code == expect, resp.text
        result: dict[str, Any] = resp.json()
        return result

    def get(self, image_id: str, expect: int = 200) -> dict[str, Any]:
        resp = self.cloud.get(f"/image/v2/images/{image_id}", headers=self.headers())
        assert resp.status_code == expect, resp.text
        result: dict[str, Any] = resp.json()
        return result

    def patch(self, image_id: str, ops: list[dict[str, Any]], expect: int = 200) -> Any:
        resp = self.cloud.patch(
            f"/image/v2/images/{image_id}",
            json=ops,
            headers=self.headers(**{"Content-Type": PATCH}),
        )
        assert resp.status_code == expect, resp.text
        return resp.json()

    def upload(self, image_id: str, data: Any, expect: int = 204) -> Any:
        resp = self.cloud.put(
            f"/image/v2/images/{image_id}/file",
            content=data,
            headers=self.headers(**{"Content-Type": OCTET}),
        )
        assert resp.status_code == expect, resp.text
        return resp

    def list(self, expect: int = 200, **params: Any) -> dict[str, Any]:
        resp = self.cloud.get("/image/v2/images", params=params, headers=self.headers())
        assert resp.status_code == expect, resp.text
        result: dict[str, Any] = resp.json()
        return result

    def ids(self, **params: Any) -> set[str]:
        params.setdefault("limit", 1000)
        return {i["id"] for i in self.list(**params)["images"]}


@pytest.fixture
def admin(cloud: TestClient) -> Images:
    return Images(cloud, issue(cloud))


@pytest.fixture
def demo(cloud: TestClient) -> Images:
    return Images(cloud, issue(cloud, "demo"))


@pytest.fixture
def alt(cloud: TestClient) -> Images:
    return Images(cloud, issue(cloud, "alt_demo"))


def project_id(cloud: TestClient, images: Images) -> str:
    """The project of ``images``' token."""
    resp = cloud.get(
        "/identity/v3/auth/tokens",
        headers={"X-Auth-Token": images.token, "X-Subject-Token": images.token},
    )
    assert resp.status_code == 200, resp.text
    pid: str = resp.json()["token"]["project"]["id"]
    return pid


def qemu_img(*args: str) -> None:
    """Run ``qemu-img`` (tests that need it are skipped without it)."""
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, timeout=60)


needs_qemu = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img missing")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "corpus"
    path.mkdir()
    return path
