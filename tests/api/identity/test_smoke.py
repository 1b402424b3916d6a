"""First contact: discovery, a token, and the token's contents."""

from fastapi.testclient import TestClient

from tests.conftest import issue


def test_version_discovery(client: TestClient) -> None:
    for path in ("/identity", "/identity/"):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 300
    values = resp.json()["versions"]["values"]
    assert values[0]["id"].startswith("v3")
    assert values[0]["links"][0]["href"] == "http://127.0.0.1:8780/identity/v3/"
    resp = client.get("/identity/v3")
    assert resp.status_code == 200
    assert resp.json()["version"]["status"] == "stable"


def test_issue_project_token(client: TestClient) -> None:
    token = issue(client)
    resp = client.get(
        "/identity/v3/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()["token"]
    assert body["project"]["name"] == "admin"
    assert {r["name"] for r in body["roles"]} >= {"admin", "member", "reader"}
    assert "identity" in {s["type"] for s in body["catalog"]}
    assert resp.headers["X-Openstack-Request-Id"].startswith("req-")


def test_paths_outside_any_service_are_json_404(client: TestClient) -> None:
    resp = client.get("/no-such-service/v1")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == 404
    assert resp.headers["X-Openstack-Request-Id"].startswith("req-")
