"""os-services, os-availability-zone and os-hypervisors over reported hosts."""

from __future__ import annotations

import datetime as dt

from kumo.common.db import Database
from kumo.compute.db.hosts import Service
from kumo.compute.service import hosts
from tests.api.compute._resources import Caller, add_host

SERVICE_KEYS = {"id", "binary", "host", "zone", "status", "state", "updated_at", "disabled_reason"}


def _control_plane(db: Database) -> None:
    with db.writer() as s:
        hosts.report_service(s, "controller", "nova-scheduler")
        hosts.report_service(s, "controller", "nova-conductor")


def test_services_list_and_filters(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "cmp1")
    _control_plane(rdb)
    services = nova_admin.get("/os-services").json()["services"]
    assert {(s["host"], s["binary"]) for s in services} >= {
        ("cmp1", "nova-compute"),
        ("controller", "nova-scheduler"),
        ("controller", "nova-conductor"),
    }
    compute = next(s for s in services if s["host"] == "cmp1")
    assert set(compute) == SERVICE_KEYS
    assert isinstance(compute["id"], int)
    assert compute["zone"] == "nova" and compute["state"] == "up" and compute["status"] == "enabled"
    scheduler = next(s for s in services if s["binary"] == "nova-scheduler")
    assert scheduler["zone"] == "internal"
    only = nova_admin.get("/os-services", params={"binary": "nova-compute"}).json()["services"]
    assert {s["binary"] for s in only} == {"nova-compute"}
    by_host = nova_admin.get("/os-services", params={"host": "controller"}).json()["services"]
    assert {s["binary"] for s in by_host} == {"nova-scheduler", "nova-conductor"}
    v211 = nova_admin.get("/os-services", "2.11").json()["services"][0]
    assert v211["forced_down"] is False
    v253 = nova_admin.get("/os-services", "2.53").json()["services"][0]
    assert len(v253["id"]) == 36


def test_state_follows_heartbeat(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "stale")
    with rdb.writer() as s:
        svc = hosts.find_service(s, "stale", "nova-compute")
        old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=600)
        svc.last_seen_up = old
        svc.updated_at = old
    [entry] = nova_admin.get("/os-services", params={"host": "stale"}).json()["services"]
    assert entry["state"] == "down"
    with rdb.reader() as s:
        assert "stale" not in {h.host for h in hosts.hosts_for_scheduling(s)}
    with rdb.writer() as s:
        hosts.report_service(s, "stale", "nova-compute")
    [entry] = nova_admin.get("/os-services", params={"host": "stale"}).json()["services"]
    assert entry["state"] == "up"


def test_legacy_enable_disable_force_down(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "cmp2")
    body = {"host": "cmp2", "binary": "nova-compute"}
    disabled = nova_admin.put("/os-services/disable", body)
    assert disabled.json() == {"service": {**body, "status": "disabled"}}
    with rdb.reader() as s:
        assert "cmp2" not in {h.host for h in hosts.hosts_for_scheduling(s)}
    reason = nova_admin.put("/os-services/disable-log-reason", {**body, "disabled_reason": "maint"})
    assert reason.json()["service"]["disabled_reason"] == "maint"
    assert nova_admin.put("/os-services/disable-log-reason", body).status_code == 400
    enabled = nova_admin.put("/os-services/enable", body)
    assert enabled.json()["service"]["status"] == "enabled"
    assert (
        nova_admin.put("/os-services/force-down", {**body, "forced_down": True}).status_code == 404
    )
    forced = nova_admin.put("/os-services/force-down", {**body, "forced_down": True}, "2.11")
    assert forced.json() == {"service": {**body, "forced_down": True}}
    [entry] = nova_admin.get("/os-services", "2.11", params={"host": "cmp2"}).json()["services"]
    assert entry["state"] == "down" and entry["forced_down"] is True
    missing = nova_admin.put("/os-services/enable", {"host": "nohost", "binary": "nova-compute"})
    assert missing.status_code == 404


def test_update_by_uuid_2_53(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "cmp3")
    _control_plane(rdb)
    services = nova_admin.get("/os-services", "2.53").json()["services"]
    compute = next(s for s in services if s["host"] == "cmp3")
    path = f"/os-services/{compute['id']}"
    resp = nova_admin.put(path, {"status": "disabled", "disabled_reason": "broken"}, "2.53")
    assert resp.status_code == 200
    svc = resp.json()["service"]
    assert svc["status"] == "disabled" and svc["disabled_reason"] == "broken"
    assert svc["id"] == compute["id"] and svc["forced_down"] is False
    assert (
        nova_admin.put(path, {"status": "enabled", "disabled_reason": "x"}, "2.53").status_code
        == 400
    )
    assert nova_admin.put(path, {"forced_down": True}, "2.53").json()["service"]["state"] == "down"
    assert nova_admin.put(path, {}, "2.53").status_code == 400
    assert (
        nova_admin.put("/os-services/not-a-uuid", {"status": "enabled"}, "2.53").status_code == 400
    )
    scheduler = next(s for s in services if s["binary"] == "nova-scheduler")
    refused = nova_admin.put(f"/os-services/{scheduler['id']}", {"status": "disabled"}, "2.53")
    assert refused.status_code == 400


def test_delete_service(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "cmp4")
    agg = nova_admin.post("/os-aggregates", {"aggregate": {"name": "del-agg"}}).json()["aggregate"]
    nova_admin.post(f"/os-aggregates/{agg['id']}/action", {"add_host": {"host": "cmp4"}})
    [svc] = nova_admin.get("/os-services", params={"host": "cmp4"}).json()["services"]
    assert nova_admin.delete("/os-services/abc").status_code == 400
    assert nova_admin.delete(f"/os-services/{svc['id']}").status_code == 204
    assert nova_admin.get("/os-services", params={"host": "cmp4"}).json()["services"] == []
    assert nova_admin.get(f"/os-aggregates/{agg['id']}").json()["aggregate"]["hosts"] == []
    assert nova_admin.delete(f"/os-services/{svc['id']}").status_code == 404
    names = {
        h["hypervisor_hostname"] for h in nova_admin.get("/os-hypervisors").json()["hypervisors"]
    }
    assert "cmp4" not in names


def test_non_admins_are_refused(nova_demo: Caller) -> None:
    for path in (
        "/os-services",
        "/os-hypervisors",
        "/os-hypervisors/detail",
        "/os-availability-zone/detail",
    ):
        resp = nova_demo.get(path)
        assert resp.status_code == 403, path
        assert set(resp.json()) == {"forbidden"}


def test_availability_zones(nova_admin: Caller, nova_demo: Caller, rdb: Database) -> None:
    add_host(rdb, "az-host")
    _control_plane(rdb)
    zones = nova_demo.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None} in zones
    assert "internal" not in {z["zoneName"] for z in zones}
    detail = nova_admin.get("/os-availability-zone/detail").json()["availabilityZoneInfo"]
    by_name = {z["zoneName"]: z for z in detail}
    assert {"nova", "internal"} <= set(by_name)
    compute = by_name["nova"]["hosts"]["az-host"]["nova-compute"]
    assert compute["available"] is True and compute["active"] is True
    assert compute["updated_at"] is not None
    assert set(by_name["internal"]["hosts"]["controller"]) == {"nova-scheduler", "nova-conductor"}
    # an aggregate's availability_zone moves the host into that zone
    agg = nova_admin.post(
        "/os-aggregates", {"aggregate": {"name": "az-agg", "availability_zone": "zone-x"}}
    ).json()["aggregate"]
    nova_admin.post(f"/os-aggregates/{agg['id']}/action", {"add_host": {"host": "az-host"}})
    zones = nova_demo.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert {"zoneName": "zone-x", "zoneState": {"available": True}, "hosts": None} in zones
    # disabling the only host of a zone makes the zone unavailable
    nova_admin.put("/os-services/disable", {"host": "az-host", "binary": "nova-compute"})
    zones = nova_demo.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert {"zoneName": "zone-x", "zoneState": {"available": False}, "hosts": None} in zones
    assert zones[-1]["zoneName"] == "zone-x"  # unavailable zones come last


def test_hypervisors_by_microversion(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "hv1", vcpus=16, ram=32768, disk=500)
    add_host(rdb, "hv2")
    listed = nova_admin.get("/os-hypervisors").json()["hypervisors"]
    hv1 = next(h for h in listed if h["hypervisor_hostname"] == "hv1")
    assert set(hv1) == {"id", "hypervisor_hostname", "state", "status"}
    assert isinstance(hv1["id"], int) and hv1["state"] == "up"
    shown = nova_admin.get(f"/os-hypervisors/{hv1['id']}").json()["hypervisor"]
    assert shown["vcpus"] == 16 and shown["memory_mb"] == 32768 and shown["local_gb"] == 500
    assert shown["free_ram_mb"] == 32768 - 512 and shown["hypervisor_type"] == "fake"
    assert isinstance(shown["cpu_info"], str)
    assert shown["service"]["host"] == "hv1"
    v228 = nova_admin.get(f"/os-hypervisors/{hv1['id']}", "2.28").json()["hypervisor"]
    assert v228["cpu_info"] == {"arch": "x86_64"}
    detail = nova_admin.get("/os-hypervisors/detail", "2.53").json()["hypervisors"]
    new = next(h for h in detail if h["hypervisor_hostname"] == "hv1")
    assert len(new["id"]) == 36 and len(new["service"]["id"]) == 36
    assert nova_admin.get(f"/os-hypervisors/{hv1['id']}", "2.53").status_code == 400
    v288 = nova_admin.get(f"/os-hypervisors/{new['id']}", "2.88").json()["hypervisor"]
    assert "vcpus" not in v288 and "cpu_info" not in v288 and "uptime" in v288
    assert nova_admin.get("/os-hypervisors/999999").status_code == 404


def test_hypervisor_statistics_search_and_servers(nova_admin: Caller, rdb: Database) -> None:
    add_host(rdb, "stat-a", vcpus=4)
    add_host(rdb, "stat-b", vcpus=6)
    stats = nova_admin.get("/os-hypervisors/statistics").json()["hypervisor_statistics"]
    detail = nova_admin.get("/os-hypervisors/detail").json()["hypervisors"]
    assert stats["count"] == len(detail) >= 2
    assert stats["vcpus"] == sum(h["vcpus"] for h in detail)
    assert stats["vcpus_used"] == sum(h["vcpus_used"] for h in detail)
    assert nova_admin.get("/os-hypervisors/statistics", "2.88").status_code == 404
    found = nova_admin.get("/os-hypervisors/stat-/search").json()["hypervisors"]
    assert {h["hypervisor_hostname"] for h in found} == {"stat-a", "stat-b"}
    assert nova_admin.get("/os-hypervisors/zzz/search").status_code == 404
    assert nova_admin.get("/os-hypervisors/stat-a/search", "2.53").status_code == 404
    servers = nova_admin.get("/os-hypervisors/stat-a/servers").json()["hypervisors"]
    assert servers[0]["hypervisor_hostname"] == "stat-a" and "servers" not in servers[0]
    pattern = nova_admin.get(
        "/os-hypervisors",
        "2.75",
        params={"hypervisor_hostname_pattern": "stat-b", "with_servers": "true"},
    ).json()["hypervisors"]
    assert [h["hypervisor_hostname"] for h in pattern] == ["stat-b"]
    assert pattern[0]["servers"] == []
    bad = nova_admin.get(
        "/os-hypervisors", "2.53", params={"hypervisor_hostname_pattern": "x", "limit": 1}
    )
    assert bad.status_code == 400
    uptime = nova_admin.get(f"/os-hypervisors/{servers[0]['id']}/uptime").json()["hypervisor"]
    assert " up " in uptime["uptime"]


def test_hypervisor_pagination_2_33(nova_admin: Caller, rdb: Database) -> None:
    for name in ("pg1", "pg2", "pg3"):
        add_host(rdb, name)
    page = nova_admin.get("/os-hypervisors", "2.33", params={"limit": 2}).json()
    assert len(page["hypervisors"]) == 2 and "hypervisors_links" in page
    marker = page["hypervisors"][-1]["id"]
    rest = nova_admin.get("/os-hypervisors", "2.33", params={"marker": marker}).json()
    total = len(nova_admin.get("/os-hypervisors").json()["hypervisors"])
    assert len(rest["hypervisors"]) == total - 2
    assert nova_admin.get("/os-hypervisors", "2.33", params={"marker": "0"}).status_code == 400


def test_update_compute_node_links_service(rdb: Database) -> None:
    add_host(rdb, "linked")
    with rdb.reader() as s:
        svc = hosts.find_service(s, "linked", "nova-compute")
        [node] = hosts.list_nodes(s, "linked")
        assert node.service_id == svc.id
        assert isinstance(svc, Service) and hosts.is_up(svc)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
        assert not hosts.is_up(svc, later)
        assert hosts.is_up(svc, later, down_time=120)


def test_os_hosts_before_2_43(nova_admin: Caller, nova_demo: Caller, rdb: Database) -> None:
    add_host(rdb, "oh1", vcpus=12)
    _control_plane(rdb)
    listed = nova_admin.get("/os-hosts").json()["hosts"]
    assert {"host_name": "oh1", "service": "compute", "zone": "nova"} in listed
    assert {"host_name": "controller", "service": "scheduler", "zone": "internal"} in listed
    internal = nova_admin.get("/os-hosts", params={"zone": "internal"}).json()["hosts"]
    assert {h["zone"] for h in internal} == {"internal"}
    assert nova_admin.get("/os-hosts", params={"zone": "nowhere"}).json()["hosts"] == []
    shown = nova_admin.get("/os-hosts/oh1").json()["host"]
    total = next(r["resource"] for r in shown if r["resource"]["project"] == "(total)")
    assert total == {
        "host": "oh1",
        "project": "(total)",
        "cpu": 12,
        "memory_mb": 16384,
        "disk_gb": 100,
    }
    assert {r["resource"]["project"] for r in shown} >= {"(total)", "(used_now)", "(used_max)"}
    assert nova_admin.get("/os-hosts/nohost").status_code == 404
    disabled = nova_admin.put("/os-hosts/oh1", {"status": "disable"})
    assert disabled.json() == {"host": "oh1", "status": "disabled"}
    assert "oh1" not in {h["host_name"] for h in nova_admin.get("/os-hosts").json()["hosts"]}
    assert nova_admin.put("/os-hosts/oh1", {"status": "sideways"}).status_code == 400
    assert nova_admin.put("/os-hosts/oh1", {}).status_code == 400
    assert nova_admin.put("/os-hosts/nohost", {"status": "enable"}).status_code == 404
    assert nova_admin.put("/os-hosts/oh1", {"maintenance_mode": "enable"}).status_code == 501
    assert nova_admin.get("/os-hosts/oh1/reboot").status_code == 501
    assert nova_admin.get("/os-hosts/nohost/startup").status_code == 404
    assert nova_demo.get("/os-hosts").status_code == 403
    assert nova_demo.get("/os-hosts/oh1/shutdown").status_code == 403
    assert nova_admin.get("/os-hosts", "2.43").status_code == 404


def test_servers_on_a_host(nova_admin: Caller, rdb: Database) -> None:
    from kumo.compute.db.instances import Instance

    add_host(rdb, "busy")
    uuid = "44444444-4444-4444-4444-444444444444"
    with rdb.writer() as s:
        s.add(
            Instance(
                uuid=uuid,
                display_name="vm1",
                project_id="p-busy",
                user_id="u-busy",
                reservation_id="r-1",
                flavor_id="1",
                vcpus=2,
                memory_mb=512,
                root_gb=1,
                ephemeral_gb=0,
                host="busy",
                node="busy",
            )
        )
    found = nova_admin.get("/os-hypervisors/busy/servers").json()["hypervisors"]
    assert found[0]["servers"] == [{"name": "vm1", "uuid": uuid}]
    listed = nova_admin.get(
        "/os-hypervisors",
        "2.53",
        params={"hypervisor_hostname_pattern": "busy", "with_servers": "1"},
    ).json()["hypervisors"]
    assert listed[0]["servers"] == [{"name": "vm1", "uuid": uuid}]
    shown = nova_admin.get("/os-hosts/busy").json()["host"]
    per_project = next(r["resource"] for r in shown if r["resource"]["project"] == "p-busy")
    assert (per_project["cpu"], per_project["memory_mb"], per_project["disk_gb"]) == (2, 512, 1)
    # a compute service still hosting servers cannot be deleted
    [svc] = nova_admin.get("/os-services", params={"host": "busy"}).json()["services"]
    refused = nova_admin.delete(f"/os-services/{svc['id']}")
    assert refused.status_code == 409
    assert "hosting instances" in refused.json()["conflictingRequest"]["message"]
