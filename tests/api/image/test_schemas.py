"""/v2/schemas/*: the documents glanceclient and tempest read."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.image.conftest import Images


def test_image_schema(cloud: TestClient, demo: Images) -> None:
    resp = cloud.get("/image/v2/schemas/image", headers=demo.headers())
    assert resp.status_code == 200
    schema = resp.json()
    assert schema["name"] == "image"
    assert schema["additionalProperties"] == {"type": "string"}
    props = schema["properties"]
    for key in (
        "id",
        "name",
        "status",
        "visibility",
        "disk_format",
        "container_format",
        "os_hash_value",
        "tags",
        "min_ram",
        "protected",
        "os_hidden",
    ):
        assert key in props, key
    assert "qcow2" in props["disk_format"]["enum"]
    assert props["visibility"]["enum"] == ["public", "private", "shared", "community"]
    assert props["os_distro"]["is_base"] is False


def test_collection_and_member_schemas(cloud: TestClient, demo: Images) -> None:
    images = cloud.get("/image/v2/schemas/images", headers=demo.headers()).json()
    assert images["name"] == "images"
    assert images["properties"]["images"]["items"]["name"] == "image"
    member = cloud.get("/image/v2/schemas/member", headers=demo.headers()).json()
    assert member["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    members = cloud.get("/image/v2/schemas/members", headers=demo.headers()).json()
    assert members["properties"]["members"]["items"]["name"] == "member"


def test_schemas_need_a_token(cloud: TestClient) -> None:
    assert cloud.get("/image/v2/schemas/image").status_code == 401
