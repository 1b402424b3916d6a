"""/v3/policies (stored blobs) and OS-EP-FILTER endpoint groups, which shape catalogs."""

from fastapi.testclient import TestClient

from tests.conftest import issue, unique

V3 = "/identity/v3"
EG = f"{V3}/OS-EP-FILTER/endpoint_groups"


def test_policy_blobs(admin: TestClient, client: TestClient) -> None:
    resp = admin.post(
        f"{V3}/policies",
        json={"policy": {"type": "application/json", "blob": '{"x": "@"}', "note": "n"}},
    )
    assert resp.status_code == 201
    policy = resp.json()["policy"]
    assert policy["blob"] == '{"x": "@"}' and policy["note"] == "n"
    listed = admin.get(f"{V3}/policies", params={"type": "application/json"}).json()
    assert policy["id"] in [p["id"] for p in listed["policies"]]
    updated = admin.patch(f"{V3}/policies/{policy['id']}", json={"policy": {"type": "t2"}})
    assert updated.json()["policy"]["type"] == "t2"
    assert admin.post(f"{V3}/policies", json={"policy": {"blob": "x"}}).status_code == 400
    demo = {"X-Auth-Token": issue(client, "demo", project="demo")}
    assert (
        client.post(
            f"{V3}/policies", json={"policy": {"type": "a", "blob": "b"}}, headers=demo
        ).status_code
        == 403
    )
    assert admin.delete(f"{V3}/policies/{policy['id']}").status_code == 204
    assert admin.get(f"{V3}/policies/{policy['id']}").status_code == 404


def test_endpoint_group_limits_a_projects_catalog(admin: TestClient, client: TestClient) -> None:
    svc = admin.post(f"{V3}/services", json={"service": {"type": unique("t"), "name": "x"}})
    assert svc.status_code == 201, svc.text
    service_id = svc.json()["service"]["id"]
    ep = admin.post(
        f"{V3}/endpoints",
        json={
            "endpoint": {
                "service_id": service_id,
                "interface": "public",
                "url": "http://127.0.0.1:1/x",
                "region_id": "RegionOne",
            }
        },
    )
    assert ep.status_code == 201, ep.text
    assert (
        admin.post(
            EG, json={"endpoint_group": {"name": "bad", "filters": {"colour": "x"}}}
        ).status_code
        == 400
    )
    resp = admin.post(
        EG,
        json={
            "endpoint_group": {
                "name": "only-x",
                "description": "d",
                "filters": {"service_id": service_id},
            }
        },
    )
    assert resp.status_code == 201
    group = resp.json()["endpoint_group"]
    assert admin.head(f"{EG}/{group['id']}").status_code == 200
    demo_id = admin.get(f"{V3}/projects", params={"name": "demo"}).json()["projects"][0]["id"]
    demo = {"X-Auth-Token": issue(client, "demo", project="demo")}
    before = client.get(f"{V3}/auth/catalog", headers=demo).json()["catalog"]
    assert "identity" in {s["type"] for s in before}
    assert admin.put(f"{EG}/{group['id']}/projects/{demo_id}").status_code == 204
    assert admin.get(f"{EG}/{group['id']}/projects/{demo_id}").status_code == 200
    after = client.get(f"{V3}/auth/catalog", headers=demo).json()["catalog"]
    assert [s["id"] for s in after if s["endpoints"]] == [service_id]
    groups = admin.get(f"{V3}/OS-EP-FILTER/projects/{demo_id}/endpoint_groups").json()
    assert [g["id"] for g in groups["endpoint_groups"]] == [group["id"]]
    renamed = admin.patch(f"{EG}/{group['id']}", json={"endpoint_group": {"name": "y"}})
    assert renamed.json()["endpoint_group"]["name"] == "y"
    assert admin.delete(f"{EG}/{group['id']}").status_code == 204
    restored = client.get(f"{V3}/auth/catalog", headers=demo).json()["catalog"]
    assert "identity" in {s["type"] for s in restored}
    assert admin.get(f"{EG}/{group['id']}").status_code == 404
