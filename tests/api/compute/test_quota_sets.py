"""os-quota-sets, os-quota-class-sets and /limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kumo.common.db import Database
from kumo.compute.service import quotas
from kumo.compute.service.errors import QuotaExceeded
from tests.api.compute._resources import Caller, project_id, user_id
from tests.conftest import unique

ALL_21 = {
    "instances",
    "cores",
    "ram",
    "floating_ips",
    "fixed_ips",
    "metadata_items",
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
    "key_pairs",
    "security_groups",
    "security_group_rules",
    "server_groups",
    "server_group_members",
}
NETWORK = {"floating_ips", "fixed_ips", "security_groups", "security_group_rules"}
FILES = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}


def test_show_defaults_and_microversion_fields(cloud: TestClient, nova_demo: Caller) -> None:
    pid = project_id(cloud, nova_demo)
    qs = nova_demo.get(f"/os-quota-sets/{pid}").json()["quota_set"]
    assert set(qs) == ALL_21 | {"id"}
    assert qs["id"] == pid
    assert (qs["instances"], qs["cores"], qs["ram"], qs["key_pairs"]) == (10, 20, 51200, 100)
    v236 = nova_demo.get(f"/os-quota-sets/{pid}", "2.36").json()["quota_set"]
    assert set(v236) == (ALL_21 - NETWORK) | {"id"}
    v257 = nova_demo.get(f"/os-quota-sets/{pid}", "2.57").json()["quota_set"]
    assert set(v257) == (ALL_21 - NETWORK - FILES) | {"id"}
    defaults = nova_demo.get(f"/os-quota-sets/{pid}/defaults").json()["quota_set"]
    assert defaults["instances"] == 10 and defaults["id"] == pid


def test_reading_another_projects_quota_is_forbidden(
    cloud: TestClient, nova_demo: Caller, nova_alt: Caller
) -> None:
    alt_project = project_id(cloud, nova_alt)
    resp = nova_demo.get(f"/os-quota-sets/{alt_project}")
    assert resp.status_code == 403
    assert nova_demo.get(f"/os-quota-sets/{alt_project}/detail").status_code == 403


def test_update_detail_and_delete(cloud: TestClient, nova_admin: Caller, nova_demo: Caller) -> None:
    pid = project_id(cloud, nova_demo)
    resp = nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": {"cores": 5, "instances": "3"}})
    assert resp.status_code == 200
    updated = resp.json()["quota_set"]
    assert "id" not in updated
    assert updated["cores"] == 5 and updated["instances"] == 3
    assert nova_demo.get(f"/os-quota-sets/{pid}").json()["quota_set"]["cores"] == 5
    nova_demo.post("/os-server-groups", {"server_group": {"name": "g", "policies": ["affinity"]}})
    detail = nova_demo.get(f"/os-quota-sets/{pid}/detail").json()["quota_set"]
    assert detail["cores"] == {"limit": 5, "in_use": 0, "reserved": 0}
    assert detail["server_groups"]["in_use"] == 1
    assert nova_admin.delete(f"/os-quota-sets/{pid}").status_code == 202
    assert nova_demo.get(f"/os-quota-sets/{pid}").json()["quota_set"]["cores"] == 20


def test_update_checks_usage_unless_forced(
    cloud: TestClient, nova_admin: Caller, nova_demo: Caller
) -> None:
    pid = project_id(cloud, nova_demo)
    for name in ("a", "b"):
        body = {"server_group": {"name": name, "policies": ["anti-affinity"]}}
        assert nova_demo.post("/os-server-groups", body).status_code == 200
    low = nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": {"server_groups": 1}})
    assert low.status_code == 400
    assert "must be greater than or equal to already used" in low.json()["badRequest"]["message"]
    forced = nova_admin.put(
        f"/os-quota-sets/{pid}", {"quota_set": {"server_groups": 1, "force": True}}
    )
    assert forced.status_code == 200
    assert forced.json()["quota_set"]["server_groups"] == 1


def test_update_validation(cloud: TestClient, nova_admin: Caller, nova_demo: Caller) -> None:
    pid = project_id(cloud, nova_demo)
    for bad in ({"cores": -2}, {"cores": "many"}, {"bogus": 1}, {"cores": True}):
        resp = nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": bad})
        assert resp.status_code == 400, bad
    # network quotas are gone from 2.36 on
    net = nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": {"floating_ips": 1}}, "2.36")
    assert net.status_code == 400
    assert nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": {"cores": -1}}).status_code == 200


def test_only_admins_update(cloud: TestClient, nova_demo: Caller) -> None:
    pid = project_id(cloud, nova_demo)
    resp = nova_demo.put(f"/os-quota-sets/{pid}", {"quota_set": {"cores": 100}})
    assert resp.status_code == 403
    assert nova_demo.delete(f"/os-quota-sets/{pid}").status_code == 403


def test_per_user_quotas(cloud: TestClient, nova_admin: Caller, nova_demo: Caller) -> None:
    pid = project_id(cloud, nova_demo)
    uid = user_id(cloud, nova_demo)
    nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": {"key_pairs": 10}})
    too_high = nova_admin.put(
        f"/os-quota-sets/{pid}?user_id={uid}", {"quota_set": {"key_pairs": 11}}
    )
    assert too_high.status_code == 400
    ok = nova_admin.put(f"/os-quota-sets/{pid}?user_id={uid}", {"quota_set": {"key_pairs": 1}})
    assert ok.status_code == 200
    mine = nova_demo.get(f"/os-quota-sets/{pid}?user_id={uid}").json()["quota_set"]
    assert mine["key_pairs"] == 1
    assert nova_demo.get(f"/os-quota-sets/{pid}").json()["quota_set"]["key_pairs"] == 10
    assert nova_demo.post("/os-keypairs", {"keypair": {"name": unique("k")}}).status_code == 200
    assert nova_demo.post("/os-keypairs", {"keypair": {"name": unique("k")}}).status_code == 403
    detail = nova_demo.get(f"/os-quota-sets/{pid}/detail?user_id={uid}").json()["quota_set"]
    assert detail["key_pairs"] == {"limit": 1, "in_use": 1, "reserved": 0}
    nova_admin.delete(f"/os-quota-sets/{pid}?user_id={uid}")
    assert (
        nova_demo.get(f"/os-quota-sets/{pid}?user_id={uid}").json()["quota_set"]["key_pairs"] == 10
    )


def test_quota_class_sets(nova_admin: Caller, nova_demo: Caller, cloud: TestClient) -> None:
    shown = nova_admin.get("/os-quota-class-sets/default").json()["quota_class_set"]
    assert shown["id"] == "default"
    assert "server_groups" not in shown and "floating_ips" in shown
    v250 = nova_admin.get("/os-quota-class-sets/default", "2.50").json()["quota_class_set"]
    assert "server_groups" in v250 and "floating_ips" not in v250
    v257 = nova_admin.get("/os-quota-class-sets/default", "2.57").json()["quota_class_set"]
    assert "injected_files" not in v257
    resp = nova_admin.put("/os-quota-class-sets/default", {"quota_class_set": {"instances": 7}})
    assert resp.status_code == 200
    assert resp.json()["quota_class_set"]["instances"] == 7
    assert "id" not in resp.json()["quota_class_set"]
    pid = project_id(cloud, nova_demo)
    # the default class is what projects without their own limits get
    assert nova_demo.get(f"/os-quota-sets/{pid}").json()["quota_set"]["instances"] == 7
    assert nova_demo.get(f"/os-quota-sets/{pid}/defaults").json()["quota_set"]["instances"] == 7
    assert nova_demo.get("/os-quota-class-sets/default").status_code == 403
    net = {"quota_class_set": {"floating_ips": 3}}
    assert nova_admin.put("/os-quota-class-sets/default", net).status_code == 200
    assert nova_admin.put("/os-quota-class-sets/default", net, "2.50").status_code == 400


def test_limits(cloud: TestClient, nova_admin: Caller, nova_demo: Caller) -> None:
    nova_demo.post("/os-server-groups", {"server_group": {"name": "g", "policies": ["affinity"]}})
    resp = nova_demo.get("/limits")
    assert resp.status_code == 200
    limits = resp.json()["limits"]
    assert limits["rate"] == []
    absolute = limits["absolute"]
    assert absolute["maxTotalInstances"] == 10
    assert absolute["maxTotalCores"] == 20
    assert absolute["maxTotalRAMSize"] == 51200
    assert absolute["maxTotalKeypairs"] == 100
    assert absolute["maxServerMeta"] == 128
    assert absolute["maxServerGroups"] == 10
    assert absolute["maxServerGroupMembers"] == 10
    assert absolute["totalInstancesUsed"] == 0
    assert absolute["totalServerGroupsUsed"] == 1
    assert {"maxImageMeta", "maxPersonality", "maxSecurityGroups"} <= set(absolute)
    v236 = nova_demo.get("/limits", "2.36").json()["limits"]["absolute"]
    assert "maxSecurityGroups" not in v236 and "totalFloatingIpsUsed" not in v236
    assert "maxImageMeta" in v236
    v239 = nova_demo.get("/limits", "2.39").json()["limits"]["absolute"]
    assert "maxImageMeta" not in v239
    v257 = nova_demo.get("/limits", "2.57").json()["limits"]["absolute"]
    assert "maxPersonality" not in v257 and "maxPersonalitySize" not in v257
    demo_project = project_id(cloud, nova_demo)
    nova_admin.put(f"/os-quota-sets/{demo_project}", {"quota_set": {"instances": 4}})
    other = nova_admin.get("/limits", params={"tenant_id": demo_project}).json()
    assert other["limits"]["absolute"]["maxTotalInstances"] == 4
    assert other["limits"]["absolute"]["totalServerGroupsUsed"] == 1
    admin_project = project_id(cloud, nova_admin)
    assert nova_demo.get("/limits", params={"tenant_id": admin_project}).status_code == 403


def test_check_deltas_message_and_status(monkeypatch: pytest.MonkeyPatch, rdb: Database) -> None:
    """The service-layer check other compute code calls before creating servers."""
    monkeypatch.setitem(quotas.USAGE_COUNTERS, "cores", lambda s, project, user: 19)
    with rdb.writer() as s:
        quotas.check_deltas(s, "p-quota", "u1", {"cores": 1})  # 20 of 20 is fine
        with pytest.raises(QuotaExceeded) as caught:
            quotas.check_deltas(s, "p-quota", "u1", {"cores": 2})
    assert caught.value.status == 403
    assert caught.value.message == (
        "Quota exceeded for cores: Requested 2, but already used 19 of 20 cores"
    )
    with rdb.writer() as s:
        quotas.update_limits(s, "p-quota", None, {"cores": -1}, force=True)
        quotas.check_deltas(s, "p-quota", "u1", {"cores": 1000})  # -1 is unlimited
