"""os-server-groups: policies, rules, membership, visibility and quota."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kumo.common.db import Database
from kumo.common.errors import OverQuota
from kumo.compute.service import server_groups
from tests.api.compute._resources import Caller, project_id

V21_KEYS = {"id", "name", "policies", "members", "metadata"}


def _create(caller: Caller, body: dict[str, object], mv: str | None = None) -> dict[str, object]:
    resp = caller.post("/os-server-groups", {"server_group": body}, mv)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["server_group"])


def test_create_shapes_by_microversion(nova_demo: Caller, cloud: TestClient) -> None:
    old = _create(nova_demo, {"name": "g1", "policies": ["anti-affinity"]})
    assert set(old) == V21_KEYS
    assert old["policies"] == ["anti-affinity"] and old["members"] == [] and old["metadata"] == {}
    v213 = _create(nova_demo, {"name": "g2", "policies": ["affinity"]}, "2.13")
    assert set(v213) == V21_KEYS | {"project_id", "user_id"}
    assert v213["project_id"] == project_id(cloud, nova_demo)
    v264 = _create(
        nova_demo,
        {"name": "g3", "policy": "anti-affinity", "rules": {"max_server_per_host": 3}},
        "2.64",
    )
    assert set(v264) == {"id", "name", "policy", "rules", "members", "project_id", "user_id"}
    assert v264["rules"] == {"max_server_per_host": 3}
    shown = nova_demo.get(f"/os-server-groups/{v264['id']}", "2.1").json()["server_group"]
    assert shown["policies"] == ["anti-affinity"]


def test_create_validation(nova_demo: Caller) -> None:
    def post(body: dict[str, object], mv: str | None = None) -> int:
        return nova_demo.post("/os-server-groups", {"server_group": body}, mv).status_code

    assert post({"name": "x", "policies": ["soft-affinity"]}) == 400  # before 2.15
    assert post({"name": "x", "policies": ["soft-affinity"]}, "2.15") == 200
    assert post({"name": "x", "policies": ["affinity", "anti-affinity"]}) == 400
    assert post({"name": "x", "policies": []}) == 400
    assert post({"name": "x", "policy": "affinity"}) == 400  # policy is 2.64+
    assert post({"name": "x", "policies": ["affinity"]}, "2.64") == 400
    assert (
        post({"name": "x", "policy": "affinity", "rules": {"max_server_per_host": 2}}, "2.64")
        == 400
    )
    bad_rule = {"name": "x", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}
    assert post(bad_rule, "2.64") == 400
    assert post({"name": "", "policies": ["affinity"]}) == 400


def test_list_show_delete_and_visibility(
    nova_demo: Caller, nova_alt: Caller, nova_admin: Caller
) -> None:
    mine = _create(nova_demo, {"name": "mine", "policies": ["affinity"]})
    theirs = _create(nova_alt, {"name": "theirs", "policies": ["affinity"]})
    ids = {g["id"] for g in nova_demo.get("/os-server-groups").json()["server_groups"]}
    assert mine["id"] in ids and theirs["id"] not in ids
    hidden = nova_demo.get(f"/os-server-groups/{theirs['id']}")
    assert hidden.status_code == 404
    assert hidden.json()["itemNotFound"]["message"] == (
        f"Instance group {theirs['id']} could not be found."
    )
    assert nova_demo.delete(f"/os-server-groups/{theirs['id']}").status_code == 404
    everything = nova_admin.get("/os-server-groups", params={"all_projects": "True"}).json()
    assert {mine["id"], theirs["id"]} <= {g["id"] for g in everything["server_groups"]}
    assert nova_demo.get("/os-server-groups", params={"all_projects": "1"}).status_code == 403
    assert nova_admin.get(f"/os-server-groups/{mine['id']}").status_code == 200
    paged = nova_admin.get("/os-server-groups", params={"all_projects": "1", "limit": 1})
    assert len(paged.json()["server_groups"]) == 1
    assert nova_demo.delete(f"/os-server-groups/{mine['id']}").status_code == 204
    assert nova_demo.get(f"/os-server-groups/{mine['id']}").status_code == 404


def test_members_are_shown(nova_demo: Caller, rdb: Database) -> None:
    group = _create(nova_demo, {"name": "m", "policies": ["anti-affinity"]})
    gid = str(group["id"])
    with rdb.writer() as s:
        server_groups.add_member(s, gid, "11111111-1111-1111-1111-111111111111")
    shown = nova_demo.get(f"/os-server-groups/{gid}").json()["server_group"]
    assert shown["members"] == ["11111111-1111-1111-1111-111111111111"]
    with rdb.reader() as s:
        found = server_groups.group_of(s, "11111111-1111-1111-1111-111111111111")
        assert found is not None and found.id == gid
    with rdb.writer() as s:
        server_groups.remove_member(s, "11111111-1111-1111-1111-111111111111")
    assert nova_demo.get(f"/os-server-groups/{gid}").json()["server_group"]["members"] == []


def test_member_quota(
    cloud: TestClient, nova_admin: Caller, nova_demo: Caller, rdb: Database
) -> None:
    pid = project_id(cloud, nova_demo)
    nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": {"server_group_members": 1}})
    gid = str(_create(nova_demo, {"name": "q", "policies": ["affinity"]})["id"])
    with rdb.writer() as s:
        server_groups.add_member(s, gid, "22222222-2222-2222-2222-222222222222")
    try:
        with rdb.writer() as s:
            server_groups.add_member(s, gid, "33333333-3333-3333-3333-333333333333")
    except OverQuota as exc:
        assert exc.status == 403
    else:
        raise AssertionError("the second member should be over quota")


def test_server_group_quota(cloud: TestClient, nova_admin: Caller, nova_demo: Caller) -> None:
    pid = project_id(cloud, nova_demo)
    nova_admin.put(f"/os-quota-sets/{pid}", {"quota_set": {"server_groups": 1}})
    _create(nova_demo, {"name": "one", "policies": ["affinity"]})
    over = nova_demo.post(
        "/os-server-groups", {"server_group": {"name": "two", "policies": ["affinity"]}}
    )
    assert over.status_code == 403
    assert over.json() == {
        "forbidden": {"code": 403, "message": "Quota exceeded, too many server groups."}
    }


def test_anonymous_callers_get_401(cloud: TestClient) -> None:
    resp = cloud.post(
        "/compute/v2.1/os-server-groups",
        json={"server_group": {"name": "x", "policies": ["affinity"]}},
    )
    assert resp.status_code == 401
