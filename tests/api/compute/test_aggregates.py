"""os-aggregates: CRUD, hosts, metadata and availability zones (admin only)."""

from __future__ import annotations

from typing import Any

from kumo.common.db import Database
from kumo.compute.service import hosts
from tests.api.compute._resources import Caller, add_host
from tests.conftest import unique

CREATE_KEYS = {
    "id",
    "name",
    "availability_zone",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted",
}


def _create(admin: Caller, zone: str | None = None, mv: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": unique("agg")}
    if zone:
        body["availability_zone"] = zone
    resp = admin.post("/os-aggregates", {"aggregate": body}, mv)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["aggregate"])


def test_create_show_list_update_delete(nova_admin: Caller) -> None:
    agg = _create(nova_admin, zone="az1")
    assert set(agg) == CREATE_KEYS
    assert agg["availability_zone"] == "az1" and agg["deleted"] is False
    with_uuid = _create(nova_admin, mv="2.41")
    assert set(with_uuid) == CREATE_KEYS | {"uuid"}
    shown = nova_admin.get(f"/os-aggregates/{agg['id']}").json()["aggregate"]
    assert shown["hosts"] == [] and shown["metadata"] == {"availability_zone": "az1"}
    listed = nova_admin.get("/os-aggregates").json()["aggregates"]
    assert agg["id"] in {a["id"] for a in listed}
    renamed = nova_admin.put(
        f"/os-aggregates/{agg['id']}", {"aggregate": {"name": "renamed-" + agg["name"]}}
    )
    assert renamed.status_code == 200
    assert renamed.json()["aggregate"]["name"].startswith("renamed-")
    assert renamed.json()["aggregate"]["updated_at"] is not None
    assert nova_admin.delete(f"/os-aggregates/{agg['id']}").status_code == 200
    missing = nova_admin.get(f"/os-aggregates/{agg['id']}")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == f"Aggregate {agg['id']} could not be found."


def test_errors(nova_admin: Caller) -> None:
    agg = _create(nova_admin)
    dup = nova_admin.post("/os-aggregates", {"aggregate": {"name": agg["name"]}})
    assert dup.status_code == 409
    assert nova_admin.get("/os-aggregates/not-a-number").status_code == 400
    assert nova_admin.post("/os-aggregates", {"aggregate": {}}).status_code == 400
    bad_zone = {"aggregate": {"name": unique("z"), "availability_zone": "a:b"}}
    assert nova_admin.post("/os-aggregates", bad_zone).status_code == 400
    assert nova_admin.put(f"/os-aggregates/{agg['id']}", {"aggregate": {}}).status_code == 400
    action = nova_admin.post(f"/os-aggregates/{agg['id']}/action", {"explode": {}})
    assert action.status_code == 400


def test_hosts_and_metadata(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "agg-host-1")
    agg = _create(nova_admin, zone="zone-a")
    path = f"/os-aggregates/{agg['id']}/action"
    unknown = nova_admin.post(path, {"add_host": {"host": "no-such-host"}})
    assert unknown.status_code == 404
    assert (
        unknown.json()["itemNotFound"]["message"] == "Compute host no-such-host could not be found."
    )
    added = nova_admin.post(path, {"add_host": {"host": "agg-host-1"}})
    assert added.status_code == 200
    assert added.json()["aggregate"]["hosts"] == ["agg-host-1"]
    assert nova_admin.post(path, {"add_host": {"host": "agg-host-1"}}).status_code == 409
    with rdb.reader() as s:
        assert hosts.host_zone(s, "agg-host-1") == "zone-a"
        assert "zone-a" in hosts.zone_names(s)
        [state] = [h for h in hosts.hosts_for_scheduling(s) if h.host == "agg-host-1"]
        assert state.zone == "zone-a"
        assert state.aggregates == [{"availability_zone": "zone-a"}]
    # a host may not be in two zones at once
    other = _create(nova_admin, zone="zone-b")
    clash = nova_admin.post(
        f"/os-aggregates/{other['id']}/action", {"add_host": {"host": "agg-host-1"}}
    )
    assert clash.status_code == 409
    meta = nova_admin.post(
        path, {"set_metadata": {"metadata": {"ssd": "true", "availability_zone": "zone-c"}}}
    )
    assert meta.status_code == 200
    assert meta.json()["aggregate"]["metadata"] == {"ssd": "true", "availability_zone": "zone-c"}
    assert meta.json()["aggregate"]["availability_zone"] == "zone-c"
    cleared = nova_admin.post(path, {"set_metadata": {"metadata": {"ssd": None}}})
    assert cleared.json()["aggregate"]["metadata"] == {"availability_zone": "zone-c"}
    # not empty: cannot delete
    assert nova_admin.delete(f"/os-aggregates/{agg['id']}").status_code == 400
    removed = nova_admin.post(path, {"remove_host": {"host": "agg-host-1"}})
    assert removed.json()["aggregate"]["hosts"] == []
    assert nova_admin.post(path, {"remove_host": {"host": "agg-host-1"}}).status_code == 404
    assert nova_admin.delete(f"/os-aggregates/{agg['id']}").status_code == 200


def test_admin_only(nova_demo: Caller, nova_admin: Caller) -> None:
    agg = _create(nova_admin)
    assert nova_demo.get("/os-aggregates").status_code == 403
    assert nova_demo.get(f"/os-aggregates/{agg['id']}").status_code == 403
    assert nova_demo.post("/os-aggregates", {"aggregate": {"name": "x"}}).status_code == 403
    resp = nova_demo.post(f"/os-aggregates/{agg['id']}/action", {"add_host": {"host": "h"}})
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["code"] == 403


def test_image_caching_request(nova_admin: Caller, nova_demo: Caller) -> None:
    agg = _create(nova_admin)
    path = f"/os-aggregates/{agg['id']}/images"
    body = {"cache": [{"id": "70a599e0-31e7-49b7-b260-868f441e862b"}]}
    assert nova_admin.post(path, body).status_code == 404  # before 2.81
    assert nova_admin.post(path, body, "2.81").status_code == 202
    assert nova_admin.post(path, {"cache": []}, "2.81").status_code == 400
    assert nova_admin.post("/os-aggregates/999999/images", body, "2.81").status_code == 404
    assert nova_demo.post(path, body, "2.81").status_code == 403
