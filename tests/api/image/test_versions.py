"""Version discovery at /image (Glance answers 300 Multiple Choices)."""

from fastapi.testclient import TestClient


def test_root_lists_versions_with_300(cloud: TestClient) -> None:
    resp = cloud.get("/image")
    assert resp.status_code == 300
    versions = resp.json()["versions"]
    ids = [v["id"] for v in versions]
    assert "v2.0" in ids and "v2.17" in ids
    current = [v for v in versions if v["status"] == "CURRENT"]
    assert [v["id"] for v in current] == ["v2.17"]
    for v in versions:
        assert v["status"] in ("CURRENT", "SUPPORTED")
        assert v["links"] == [{"rel": "self", "href": "http://127.0.0.1:8780/image/v2/"}]


def test_versions_path_answers_200(cloud: TestClient) -> None:
    resp = cloud.get("/image/versions")
    assert resp.status_code == 200
    assert any(v["id"] == "v2.0" for v in resp.json()["versions"])


def test_v2_routes_need_a_token(cloud: TestClient) -> None:
    resp = cloud.get("/image/v2/images")
    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == "401 Unauthorized" and body["title"] == "Unauthorized"
