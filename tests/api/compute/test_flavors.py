"""Flavors, their extra specs and access lists, as the Nova API reference describes them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from kumo.common.db import Database
from kumo.compute.service import flavors
from tests.api.compute._resources import Caller, project_id
from tests.conftest import unique

DETAIL_KEYS = {
    "id",
    "name",
    "ram",
    "disk",
    "swap",
    "vcpus",
    "OS-FLV-EXT-DATA:ephemeral",
    "OS-FLV-DISABLED:disabled",
    "os-flavor-access:is_public",
    "rxtx_factor",
    "links",
}


def _create(caller: Caller, mv: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("flavor"), "ram": 256, "vcpus": 1, "disk": 1, **fields}
    resp = caller.post("/flavors", {"flavor": body}, mv)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["flavor"])


def test_devstack_flavors_are_listed(nova_demo: Caller, rdb: object) -> None:
    resp = nova_demo.get("/flavors")
    assert resp.status_code == 200
    names = {f["id"]: f["name"] for f in resp.json()["flavors"]}
    assert names["1"] == "m1.tiny" and names["c1"] == "cirros256" and names["42"] == "m1.nano"
    assert set(resp.json()["flavors"][0]) == {"id", "name", "links"}


def test_detail_shape_changes_with_microversion(nova_demo: Caller, rdb: object) -> None:
    old = nova_demo.get("/flavors/1").json()["flavor"]
    assert set(old) == DETAIL_KEYS
    assert old["swap"] == "" and old["ram"] == 512 and old["disk"] == 1
    v255 = nova_demo.get("/flavors/1", "2.55").json()["flavor"]
    assert set(v255) == DETAIL_KEYS | {"description"}
    v261 = nova_demo.get("/flavors/1", "2.61").json()["flavor"]
    assert v261["extra_specs"] == {}
    v275 = nova_demo.get("/flavors/1", "2.75").json()["flavor"]
    assert v275["swap"] == 0
    summary = nova_demo.get("/flavors", "2.55").json()["flavors"][0]
    assert set(summary) == {"id", "name", "links", "description"}


def test_create_show_delete(nova_admin: Caller, nova_demo: Caller) -> None:
    flavor = _create(nova_admin, swap=512, rxtx_factor=2.0, **{"OS-FLV-EXT-DATA:ephemeral": 5})
    assert len(flavor["id"]) == 36  # a generated uuid
    assert flavor["swap"] == 512 and flavor["OS-FLV-EXT-DATA:ephemeral"] == 5
    assert flavor["rxtx_factor"] == 2.0
    shown = nova_demo.get(f"/flavors/{flavor['id']}").json()["flavor"]
    assert shown["name"] == flavor["name"]
    assert nova_admin.delete(f"/flavors/{flavor['id']}").status_code == 202
    gone = nova_demo.get(f"/flavors/{flavor['id']}")
    assert gone.status_code == 404
    assert gone.json() == {
        "itemNotFound": {"code": 404, "message": f"Flavor {flavor['id']} could not be found."}
    }


def test_create_with_given_id_and_conflicts(nova_admin: Caller) -> None:
    fid = unique("my.flavor")
    flavor = _create(nova_admin, id=fid)
    assert flavor["id"] == fid
    same_id = nova_admin.post(
        "/flavors", {"flavor": {"name": unique("x"), "id": fid, "ram": 1, "vcpus": 1, "disk": 0}}
    )
    assert same_id.status_code == 409
    assert (
        same_id.json()["conflictingRequest"]["message"] == f"Flavor with ID {fid} already exists."
    )
    same_name = nova_admin.post(
        "/flavors", {"flavor": {"name": flavor["name"], "ram": 1, "vcpus": 1, "disk": 0}}
    )
    assert same_name.status_code == 409


def test_create_validation(nova_admin: Caller) -> None:
    base = {"name": unique("v"), "ram": 64, "vcpus": 1, "disk": 0}
    for bad in (
        {**base, "ram": 0},
        {**base, "vcpus": "x"},
        {**base, "disk": -1},
        {**base, "name": " padded "},
        {**base, "id": "bad/id"},
        {**base, "rxtx_factor": 0},
        {**base, "unknown": 1},
        {"name": base["name"], "ram": 1},
    ):
        resp = nova_admin.post("/flavors", {"flavor": bad})
        assert resp.status_code == 400, bad
        assert resp.json()["badRequest"]["code"] == 400
    # description only exists from 2.55 on
    described = {**base, "description": "small"}
    assert nova_admin.post("/flavors", {"flavor": described}).status_code == 400
    resp = nova_admin.post("/flavors", {"flavor": described}, "2.55")
    assert resp.status_code == 200
    assert resp.json()["flavor"]["description"] == "small"
    # numbers as strings are accepted as Nova does
    stringy = {"name": unique("s"), "ram": "128", "vcpus": "2", "disk": "1"}
    made = nova_admin.post("/flavors", {"flavor": stringy}).json()["flavor"]
    assert made["ram"] == 128 and made["vcpus"] == 2


def test_only_admins_manage_flavors(nova_demo: Caller, nova_admin: Caller, rdb: object) -> None:
    body = {"flavor": {"name": unique("f"), "ram": 1, "vcpus": 1, "disk": 0}}
    resp = nova_demo.post("/flavors", body)
    assert resp.status_code == 403
    assert set(resp.json()) == {"forbidden"}
    assert nova_demo.delete("/flavors/1").status_code == 403
    assert nova_demo.put("/flavors/1", {"flavor": {"description": "x"}}, "2.55").status_code == 403


def test_update_description(nova_admin: Caller) -> None:
    flavor = _create(nova_admin, "2.55")
    path = f"/flavors/{flavor['id']}"
    assert nova_admin.put(path, {"flavor": {"description": "d"}}).status_code == 404
    resp = nova_admin.put(path, {"flavor": {"description": "new text"}}, "2.55")
    assert resp.status_code == 200
    assert resp.json()["flavor"]["description"] == "new text"
    bad = nova_admin.put(path, {"flavor": {"name": "renamed"}}, "2.55")
    assert bad.status_code == 400


def test_filters_sort_and_pagination(nova_demo: Caller, rdb: object) -> None:
    big = nova_demo.get("/flavors/detail", params={"minRam": 8192}).json()["flavors"]
    assert {f["name"] for f in big} == {"m1.large", "m1.xlarge"}
    disk = nova_demo.get("/flavors/detail", params={"minDisk": 80}).json()["flavors"]
    assert {f["id"] for f in disk} == {"4", "5"}
    by_ram = nova_demo.get(
        "/flavors/detail", params={"sort_key": "memory_mb", "sort_dir": "desc"}
    ).json()["flavors"]
    assert by_ram[0]["name"] == "m1.xlarge"
    page = nova_demo.get("/flavors", params={"limit": 2}).json()
    assert [f["id"] for f in page["flavors"]] == ["1", "2"]
    assert "marker=2" in page["flavors_links"][0]["href"]
    nxt = nova_demo.get("/flavors", params={"limit": 2, "marker": "2"}).json()
    assert [f["id"] for f in nxt["flavors"]] == ["3", "4"]
    assert nova_demo.get("/flavors", params={"marker": "nope"}).status_code == 400
    assert nova_demo.get("/flavors", params={"sort_key": "bogus"}).status_code == 400
    assert nova_demo.get("/flavors", params={"minRam": "x"}).status_code == 400
    # 2.75 refuses unknown query parameters
    assert nova_demo.get("/flavors", "2.75", params={"foo": "1"}).status_code == 400
    assert nova_demo.get("/flavors", "2.74", params={"foo": "1"}).status_code == 200


def test_private_flavor_access(
    cloud: TestClient, nova_admin: Caller, nova_demo: Caller, nova_alt: Caller
) -> None:
    flavor = _create(nova_admin, **{"os-flavor-access:is_public": False})
    fid = flavor["id"]
    demo_project = project_id(cloud, nova_demo)
    # invisible to other projects until shared
    assert nova_demo.get(f"/flavors/{fid}").status_code == 404
    assert fid not in {f["id"] for f in nova_demo.get("/flavors").json()["flavors"]}
    # admins see private flavors with is_public=false / none
    private = nova_admin.get("/flavors", params={"is_public": "false"}).json()["flavors"]
    assert fid in {f["id"] for f in private}
    assert fid not in {f["id"] for f in nova_admin.get("/flavors").json()["flavors"]}
    assert fid in {
        f["id"] for f in nova_admin.get("/flavors", params={"is_public": "none"}).json()["flavors"]
    }
    resp = nova_admin.post(f"/flavors/{fid}/action", {"addTenantAccess": {"tenant": demo_project}})
    assert resp.status_code == 200
    assert resp.json() == {"flavor_access": [{"flavor_id": fid, "tenant_id": demo_project}]}
    again = nova_admin.post(f"/flavors/{fid}/action", {"addTenantAccess": {"tenant": demo_project}})
    assert again.status_code == 409
    assert nova_demo.get(f"/flavors/{fid}").status_code == 200
    assert fid in {f["id"] for f in nova_demo.get("/flavors").json()["flavors"]}
    assert nova_alt.get(f"/flavors/{fid}").status_code == 404
    listed = nova_admin.get(f"/flavors/{fid}/os-flavor-access").json()
    assert listed["flavor_access"][0]["tenant_id"] == demo_project
    assert nova_demo.get(f"/flavors/{fid}/os-flavor-access").status_code == 403
    removed = nova_admin.post(
        f"/flavors/{fid}/action", {"removeTenantAccess": {"tenant": demo_project}}
    )
    assert removed.json() == {"flavor_access": []}
    assert nova_demo.get(f"/flavors/{fid}").status_code == 404
    missing = nova_admin.post(
        f"/flavors/{fid}/action", {"removeTenantAccess": {"tenant": demo_project}}
    )
    assert missing.status_code == 404


def test_access_on_public_flavor(nova_admin: Caller, rdb: object) -> None:
    assert nova_admin.get("/flavors/1/os-flavor-access").status_code == 404
    resp = nova_admin.post("/flavors/1/action", {"addTenantAccess": {"tenant": "x"}})
    assert resp.status_code == 409
    assert nova_admin.post("/flavors/1/action", {"bogus": {}}).status_code == 400


def test_extra_specs_crud(nova_admin: Caller, nova_demo: Caller) -> None:
    fid = _create(nova_admin)["id"]
    path = f"/flavors/{fid}/os-extra_specs"
    resp = nova_admin.post(path, {"extra_specs": {"hw:cpu_policy": "dedicated", "k1": "v1"}})
    assert resp.status_code == 200
    assert resp.json() == {"extra_specs": {"hw:cpu_policy": "dedicated", "k1": "v1"}}
    assert nova_demo.get(path).json() == {"extra_specs": {"hw:cpu_policy": "dedicated", "k1": "v1"}}
    assert nova_demo.get(path + "/k1").json() == {"k1": "v1"}
    assert nova_admin.put(path + "/k1", {"k1": "v2"}).json() == {"k1": "v2"}
    assert nova_admin.put(path + "/k1", {"k2": "v2"}).status_code == 400
    assert nova_admin.put(path + "/k1", {"k1": "a", "k2": "b"}).status_code == 400
    detail = nova_demo.get(f"/flavors/{fid}", "2.61").json()["flavor"]
    assert detail["extra_specs"] == {"hw:cpu_policy": "dedicated", "k1": "v2"}
    assert nova_admin.delete(path + "/k1").status_code == 200
    missing = nova_demo.get(path + "/k1")
    assert missing.status_code == 404
    assert "has no extra specs with key k1" in missing.json()["itemNotFound"]["message"]
    assert nova_demo.post(path, {"extra_specs": {"a": "b"}}).status_code == 403
    assert nova_demo.delete(path + "/hw:cpu_policy").status_code == 403


def test_extra_specs_validation(nova_admin: Caller) -> None:
    fid = _create(nova_admin)["id"]
    path = f"/flavors/{fid}/os-extra_specs"
    for bad in (
        {"hw:cpu_policy": "sometimes"},
        {"hw:numa_nodes": "two"},
        {"bad/key": "x"},
        {"k": {"nested": 1}},
        {"k": "x" * 256},
    ):
        resp = nova_admin.post(path, {"extra_specs": bad})
        assert resp.status_code == 400, bad
    assert nova_admin.post(path, {"specs": {}}).status_code == 400
    # numbers are kept as strings
    ok = nova_admin.post(path, {"extra_specs": {"hw:numa_nodes": 2}})
    assert ok.json() == {"extra_specs": {"hw:numa_nodes": "2"}}
    assert nova_admin.get("/flavors/nope/os-extra_specs").status_code == 404


def test_bootstrap_is_idempotent(rdb: Database, nova_demo: Caller) -> None:
    assert flavors.bootstrap_flavors(rdb) == 0  # rdb already made them
    with rdb.reader() as s:
        assert flavors.get_flavor(s, "c1").memory_mb == 256
        assert flavors.get_flavor(s, "84").name == "m1.micro"
    assert len(nova_demo.get("/flavors").json()["flavors"]) == len(flavors.DEVSTACK_FLAVORS)
