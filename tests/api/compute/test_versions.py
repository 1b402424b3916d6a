"""Compute version discovery, the legacy /v2 endpoint and /extensions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.compute._resources import Caller, project_id


def test_root_lists_both_versions(cloud: TestClient) -> None:
    resp = cloud.get("/compute/")
    assert resp.status_code == 200
    versions = {v["id"]: v for v in resp.json()["versions"]}
    assert set(versions) == {"v2.0", "v2.1"}
    v21 = versions["v2.1"]
    assert v21["status"] == "CURRENT"
    assert v21["version"] == "2.100"
    assert v21["min_version"] == "2.1"
    assert v21["links"][0]["href"] == "http://127.0.0.1:8780/compute/v2.1/"
    assert versions["v2.0"]["status"] == "SUPPORTED"
    assert versions["v2.0"]["version"] == ""


def test_v21_document_needs_no_token(cloud: TestClient) -> None:
    resp = cloud.get("/compute/v2.1/")
    assert resp.status_code == 200
    doc = resp.json()["version"]
    assert doc["id"] == "v2.1"
    assert doc["media-types"][0]["type"] == "application/vnd.openstack.compute+json;version=2.1"
    assert {"rel": "self", "href": "http://127.0.0.1:8780/compute/v2.1/"} in doc["links"]


def test_legacy_v2_document(cloud: TestClient) -> None:
    resp = cloud.get("/compute/v2/")
    assert resp.status_code == 200
    assert resp.json()["version"]["id"] == "v2.0"


def test_legacy_v2_serves_the_api_without_microversions(
    cloud: TestClient, nova_admin: Caller, rdb: object
) -> None:
    headers = {"X-Auth-Token": nova_admin.token, "OpenStack-API-Version": "compute 2.61"}
    resp = cloud.get("/compute/v2/flavors/detail", headers=headers)
    assert resp.status_code == 200
    tiny = next(f for f in resp.json()["flavors"] if f["id"] == "1")
    # The version header is ignored on /v2: no 2.55 description, no 2.61 extra specs.
    assert "description" not in tiny and "extra_specs" not in tiny
    assert tiny["links"][0]["href"].endswith("/compute/v2/flavors/1")


def test_project_id_in_url_is_accepted(cloud: TestClient, nova_admin: Caller, rdb: object) -> None:
    pid = project_id(cloud, nova_admin)
    headers = {"X-Auth-Token": nova_admin.token}
    for prefix in ("/compute/v2/", "/compute/v2.1/"):
        resp = cloud.get(prefix + pid + "/flavors/42", headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["flavor"]["name"] == "m1.nano"


def test_microversion_headers_are_echoed(cloud: TestClient, nova_admin: Caller) -> None:
    resp = nova_admin.get("/os-keypairs", "2.35")
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == "compute 2.35"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.35"
    assert resp.headers["X-Compute-Request-Id"] == resp.headers["X-Openstack-Request-Id"]
    too_new = nova_admin.get("/os-keypairs", "2.999")
    assert too_new.status_code == 406
    assert too_new.headers["X-Compute-Request-Id"] == too_new.headers["X-Openstack-Request-Id"]


def test_extensions(nova_demo: Caller, cloud: TestClient) -> None:
    listed = nova_demo.get("/extensions").json()["extensions"]
    aliases = [e["alias"] for e in listed]
    assert aliases == sorted(aliases) and "Hosts" in [e["name"] for e in listed]
    assert cloud.get("/compute/v2.1/extensions").status_code == 401
    consoles = nova_demo.get("/extensions/os-consoles").json()["extension"]
    assert consoles["alias"] == "os-consoles" and consoles["links"] == []
    missing = nova_demo.get("/extensions/os-no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["code"] == 404
