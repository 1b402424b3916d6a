"""/servers/{id}/metadata, /tags, /ips and os-simple-tenant-usage."""

from __future__ import annotations

from kumo.compute.db.instances import Instance
from tests.api.compute._servers import ServersCloud


def test_metadata_crud(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot(metadata={"a": "1"})["id"]
    path = f"/servers/{sid}/metadata"
    assert c.demo.get(path).json() == {"metadata": {"a": "1"}}
    merged = c.demo.post(path, {"metadata": {"b": "2"}})
    assert merged.json() == {"metadata": {"a": "1", "b": "2"}}
    replaced = c.demo.put(path, {"metadata": {"c": "3"}})
    assert replaced.json() == {"metadata": {"c": "3"}}
    assert c.demo.get(f"{path}/c").json() == {"meta": {"c": "3"}}
    assert c.demo.put(f"{path}/d", {"meta": {"d": "4"}}).json() == {"meta": {"d": "4"}}
    mismatch = c.demo.put(f"{path}/x", {"meta": {"y": "1"}})
    assert mismatch.status_code == 400
    assert mismatch.json()["badRequest"]["message"] == "Request body and URI mismatch"
    assert c.demo.put(f"{path}/x", {"meta": {"x": "1", "y": "2"}}).status_code == 400
    assert c.demo.delete(f"{path}/c").status_code == 204
    missing = c.demo.get(f"{path}/c")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Metadata item was not found"
    assert c.demo.delete(f"{path}/c").status_code == 404
    assert c.demo.post(path, {"metadata": {"k": "v" * 256}}).status_code == 400
    too_many = {f"k{i}": "v" for i in range(129)}
    over = c.demo.put(path, {"metadata": too_many})
    assert over.status_code == 403
    assert over.json()["forbidden"]["message"] == "Maximum number of metadata items exceeds 128"
    assert c.demo.get(f"/servers/{sid}").json()["server"]["metadata"] == {"d": "4"}


def test_metadata_changes_follow_the_state_table(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    c.rpc.hold = True
    sid = c.demo.boot()["id"]
    resp = c.demo.post(f"/servers/{sid}/metadata", {"metadata": {"a": "1"}})
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == (
        f"Cannot 'update metadata' instance {sid} while it is in vm_state building"
    )


def test_tags(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    path = f"/servers/{sid}/tags"
    assert c.demo.get(path, "2.25").status_code == 404
    assert c.demo.get(path, "2.26").json() == {"tags": []}
    added = c.demo.put(f"{path}/blue", None, "2.26")
    assert added.status_code == 201
    assert added.headers["Location"].endswith(f"/servers/{sid}/tags/blue")
    assert c.demo.put(f"{path}/blue", None, "2.26").status_code == 204
    assert c.demo.get(f"{path}/blue", "2.26").status_code == 204
    assert c.demo.get(f"{path}/red", "2.26").status_code == 404
    assert c.demo.put(path, {"tags": ["x", "y"]}, "2.26").json() == {"tags": ["x", "y"]}
    assert c.demo.put(path, {"tags": ["a/b"]}, "2.26").status_code == 400
    assert c.demo.put(path, {"tags": [f"t{i}" for i in range(51)]}, "2.26").status_code == 400
    assert c.demo.delete(f"{path}/x", "2.26").status_code == 204
    assert c.demo.delete(f"{path}/x", "2.26").status_code == 404
    assert c.demo.delete(path, "2.26").status_code == 204
    assert c.demo.get(path, "2.26").json() == {"tags": []}
    assert c.alt.get(path, "2.26").status_code == 404


def test_ips(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    body = c.demo.get(f"/servers/{sid}/ips").json()
    assert body == {"addresses": {"private": [{"version": 4, "addr": "10.0.0.10"}]}}
    assert c.demo.get(f"/servers/{sid}/ips/private").json() == {
        "private": [{"version": 4, "addr": "10.0.0.10"}]
    }
    assert c.demo.get(f"/servers/{sid}/ips/public").status_code == 404


def test_simple_tenant_usage(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = c.demo.boot()
    project = server["tenant_id"]
    params = {"start": "2000-01-01T00:00:00", "detailed": "1"}
    listed = c.admin.get("/os-simple-tenant-usage", params=params)
    assert listed.status_code == 200
    usage = {u["tenant_id"]: u for u in listed.json()["tenant_usages"]}[project]
    assert usage["server_usages"][0]["instance_id"] == server["id"]
    assert usage["server_usages"][0]["flavor"] == "m1.tiny"
    assert usage["server_usages"][0]["state"] == "active"
    assert usage["total_hours"] >= 0
    assert c.demo.get("/os-simple-tenant-usage", params=params).status_code == 403
    own = c.demo.get(f"/os-simple-tenant-usage/{project}", params=params).json()["tenant_usage"]
    assert own["tenant_id"] == project and len(own["server_usages"]) == 1
    assert c.alt.get(f"/os-simple-tenant-usage/{project}").status_code == 403
    bad = c.admin.get("/os-simple-tenant-usage", params={"start": "nope"})
    assert bad.status_code == 400
    empty = c.admin.get("/os-simple-tenant-usage/none", params=params).json()
    assert empty == {"tenant_usage": {}}
    # an empty tenant id is 404, not a redirect to the list (tempest
    # TenantUsagesNegativeTestJSON.test_get_usage_tenant_with_empty_tenant_id).
    no_id = c.admin.get("/os-simple-tenant-usage/", params=params)
    assert no_id.status_code == 404, no_id.text


def test_server_password(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    path = f"/servers/{sid}/os-server-password"
    assert c.demo.get(path).json() == {"password": ""}
    with c.db.writer() as s:
        instance = s.get(Instance, sid)
        assert instance is not None
        instance.system_metadata = {"password": "encrypted-blob"}
    assert c.demo.get(path).json() == {"password": "encrypted-blob"}
    assert c.alt.get(path).status_code == 404
    assert c.demo.delete(path).status_code == 204
    assert c.demo.get(path).json() == {"password": ""}


def test_diagnostics_are_for_admins(servers_cloud: ServersCloud) -> None:
    # tempest ServerDiagnosticsNegativeTest: a member gets 403 (the route existed not at all).
    # What admins get is in test_server_diagnostics.py.
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.get(f"/servers/{sid}/diagnostics").status_code == 403
    assert (
        c.admin.get("/servers/00000000-0000-0000-0000-000000000000/diagnostics").status_code == 404
    )
