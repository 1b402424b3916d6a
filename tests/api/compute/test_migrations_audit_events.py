"""os-migrations (from instance actions), os-instance_usage_audit_log, external events."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.compute._servers import FAKE_HOST, FAKE_NODE, ServersCloud

MIG = "/os-migrations"


def _resized(c: ServersCloud) -> dict[str, Any]:
    server = c.demo.boot()
    c.demo.wait_status(server["id"], "ACTIVE")
    resp = c.demo.action(server["id"], {"resize": {"flavorRef": "2"}})
    assert resp.status_code == 202, resp.text
    c.demo.wait_status(server["id"], "VERIFY_RESIZE")
    return server


def test_resize_is_listed_then_confirmed(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = _resized(c)
    resp = c.admin.get(MIG)
    assert resp.status_code == 200, resp.text
    [mig] = [m for m in resp.json()["migrations"] if m["instance_uuid"] == server["id"]]
    assert mig["status"] == "finished"
    assert (mig["source_compute"], mig["dest_compute"]) == (FAKE_HOST, FAKE_HOST)
    assert mig["source_node"] == FAKE_NODE and mig["dest_host"] is None
    assert "migration_type" not in mig and "uuid" not in mig  # 2.1 fields only
    assert isinstance(mig["id"], int) and mig["created_at"]
    assert c.demo.action(server["id"], {"confirmResize": None}).status_code == 204
    c.demo.wait_status(server["id"], "ACTIVE")
    [mig] = [
        m
        for m in c.admin.get(MIG, mv="2.80").json()["migrations"]
        if m["instance_uuid"] == server["id"]
    ]
    assert mig["status"] == "confirmed" and mig["migration_type"] == "resize"
    assert uuid.UUID(mig["uuid"]) and mig["project_id"] == server["tenant_id"]
    assert mig["user_id"] == server["user_id"]


def test_filters_and_paging(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    first, second = _resized(c), _resized(c)
    body = c.admin.get(f"{MIG}?instance_uuid={first['id']}").json()
    assert [m["instance_uuid"] for m in body["migrations"]] == [first["id"]]
    assert c.admin.get(f"{MIG}?status=confirmed").json()["migrations"] == []
    assert len(c.admin.get(f"{MIG}?status=finished&host={FAKE_HOST}").json()["migrations"]) == 2
    assert c.admin.get(f"{MIG}?host=elsewhere").json()["migrations"] == []
    assert c.admin.get(f"{MIG}?migration_type=evacuation", mv="2.23").json()["migrations"] == []
    # 2.59: newest first, one per page, a next link with the marker.
    page = c.admin.get(f"{MIG}?limit=1", mv="2.59").json()
    assert [m["instance_uuid"] for m in page["migrations"]] == [second["id"]]
    assert "marker=" in page["migrations_links"][0]["href"]
    marker = page["migrations"][0]["uuid"]
    page2 = c.admin.get(f"{MIG}?limit=1&marker={marker}", mv="2.59").json()
    assert [m["instance_uuid"] for m in page2["migrations"]] == [first["id"]]
    assert c.admin.get(f"{MIG}?marker={uuid.uuid4()}", mv="2.59").status_code == 400
    assert c.admin.get(f"{MIG}?limit=x", mv="2.59").status_code == 400
    assert c.admin.get(f"{MIG}?changes-since=yesterday", mv="2.59").status_code == 400
    future = c.admin.get(f"{MIG}?changes-since=2999-01-01T00:00:00Z", mv="2.59").json()
    assert future["migrations"] == []


def test_only_admins_and_server_migrations(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = _resized(c)
    assert c.demo.get(MIG).status_code == 403
    path = f"/servers/{server['id']}/migrations"
    resp = c.admin.get(path, mv="2.23")
    assert resp.status_code == 200 and resp.json() == {"migrations": []}  # no live migrations
    assert c.admin.get(path, mv="2.22").status_code == 404
    assert c.demo.get(path, mv="2.23").status_code == 403
    assert c.admin.get(f"/servers/{uuid.uuid4()}/migrations", mv="2.23").status_code == 404


def test_usage_audit_log(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    resp = c.admin.get("/os-instance_usage_audit_log")
    assert resp.status_code == 200, resp.text
    log = resp.json()["instance_usage_audit_logs"]
    assert log["num_hosts"] == 1 and log["hosts_not_run"] == [FAKE_HOST]
    assert log["overall_status"] == "0 of 1 hosts done. 0 errors."
    resp = c.admin.get("/os-instance_usage_audit_log/2026-03-15%2010%3A00%3A00")
    assert resp.status_code == 200, resp.text
    one = resp.json()["instance_usage_audit_log"]
    assert (one["period_beginning"], one["period_ending"]) == (
        "2026-02-01 00:00:00",
        "2026-03-01 00:00:00",
    )
    resp = c.admin.get("/os-instance_usage_audit_log/invalid_time")
    assert resp.status_code == 400 and "badRequest" in resp.json()
    assert c.demo.get("/os-instance_usage_audit_log").status_code == 403
    assert c.demo.get("/os-instance_usage_audit_log/2026-03-15%2010%3A00%3A00").status_code == 403


def test_external_events(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = c.demo.boot()
    c.demo.wait_status(server["id"], "ACTIVE")
    event = {"name": "network-changed", "server_uuid": server["id"]}
    resp = c.admin.post("/os-server-external-events", {"events": [event]})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"events": [{**event, "status": "completed", "code": 200}]}
    missing = {"name": "network-vif-plugged", "server_uuid": str(uuid.uuid4()), "tag": "p1"}
    resp = c.admin.post("/os-server-external-events", {"events": [event, missing]})
    assert resp.status_code == 207, resp.text
    assert [e["code"] for e in resp.json()["events"]] == [200, 404]
    assert resp.json()["events"][1]["status"] == "failed"
    assert c.admin.post("/os-server-external-events", {"events": [missing]}).status_code == 404
    # A server with no host yet: 422 for that event.
    c.rpc.hold = True
    waiting = c.demo.boot()
    c.rpc.hold = False
    resp = c.admin.post(
        "/os-server-external-events",
        {"events": [event, {"name": "network-changed", "server_uuid": waiting["id"]}]},
    )
    assert resp.status_code == 207 and resp.json()["events"][1]["code"] == 422
    # Schema: unknown name, status, extra field, empty list; names of later versions.
    bad_bodies: list[dict[str, Any]] = [
        {"events": [{**event, "name": "bogus"}]},
        {"events": [{**event, "status": "done"}]},
        {"events": [{**event, "extra": 1}]},
        {"events": []},
        {"events": [{**event, "name": "power-update"}]},
    ]
    for bad in bad_bodies:
        assert c.admin.post("/os-server-external-events", bad).status_code == 400, bad
    power = {"events": [{**event, "name": "power-update", "tag": "POWER_OFF"}]}
    assert c.admin.post("/os-server-external-events", power, mv="2.76").status_code == 200
    assert c.demo.post("/os-server-external-events", {"events": [event]}).status_code == 403


def test_no_live_migration_to_show_force_or_abort(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = c.demo.boot()
    c.demo.wait_status(server["id"], "ACTIVE")
    path = f"/servers/{server['id']}/migrations/1"
    assert c.admin.get(path, mv="2.23").status_code == 404
    assert c.admin.post(path + "/action", {"force_complete": None}, mv="2.22").status_code == 404
    assert c.admin.delete(path, mv="2.24").status_code == 404
    assert c.admin.delete(path, mv="2.23").status_code == 404
    assert c.demo.get(path, mv="2.23").status_code == 403
