"""Resource providers (API reference: Resource Providers), including trees and aggregates."""

from __future__ import annotations

import uuid

from tests.api.placement.conftest import Placement, code_of
from tests.conftest import unique


def test_create_before_1_20_gives_location_only(placement: Placement) -> None:
    rp = str(uuid.uuid4())
    resp = placement("POST", "/resource_providers", {"name": unique("rp"), "uuid": rp}, "1.19")
    assert resp.status_code == 201
    assert resp.headers["location"] == f"/placement/resource_providers/{rp}"
    assert resp.content == b""


def test_create_from_1_20_returns_the_provider(placement: Placement) -> None:
    name = unique("rp")
    resp = placement("POST", "/resource_providers", {"name": name}, "1.20")
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == name
    assert body["generation"] == 0
    assert body["root_provider_uuid"] == body["uuid"]
    assert body["parent_provider_uuid"] is None
    rels = [link["rel"] for link in body["links"]]
    assert rels == ["self", "inventories", "usages", "aggregates", "traits", "allocations"]


def test_show_shape_depends_on_microversion(placement: Placement) -> None:
    rp = placement.provider()
    old = placement("GET", f"/resource_providers/{rp}", version="1.0").json()
    assert "root_provider_uuid" not in old
    assert [link["rel"] for link in old["links"]] == ["self", "inventories", "usages"]
    new = placement("GET", f"/resource_providers/{rp}", version="1.15")
    assert new.json()["root_provider_uuid"] == rp
    assert new.headers["cache-control"] == "no-cache"
    assert new.headers["last-modified"].endswith("GMT")


def test_duplicate_name_is_409_duplicate_name(placement: Placement) -> None:
    name = unique("rp")
    placement.provider(name)
    resp = placement("POST", "/resource_providers", {"name": name})
    assert resp.status_code == 409
    assert code_of(resp) == "placement.duplicate_name"


def test_bad_bodies_are_400(placement: Placement) -> None:
    for body in ({}, {"name": ""}, {"name": "x", "uuid": "not-a-uuid"}, {"name": "x", "y": 1}):
        assert placement("POST", "/resource_providers", body).status_code == 400, body


def test_update_renames_and_bumps_generation(placement: Placement) -> None:
    rp = placement.provider()
    name = unique("renamed")
    resp = placement("PUT", f"/resource_providers/{rp}", {"name": name})
    assert resp.status_code == 200
    assert resp.json()["name"] == name


def test_tree_parent_root_and_in_tree(placement: Placement) -> None:
    root = placement.provider()
    child = placement.provider(parent=root)
    grandchild = placement.provider(parent=child)
    other = placement.provider()
    body = placement("GET", f"/resource_providers/{grandchild}").json()
    assert body["parent_provider_uuid"] == child
    assert body["root_provider_uuid"] == root
    listed = placement("GET", f"/resource_providers?in_tree={child}").json()
    assert {p["uuid"] for p in listed["resource_providers"]} == {root, child, grandchild}
    assert other not in str(listed)
    resp = placement("DELETE", f"/resource_providers/{child}")
    assert resp.status_code == 409
    assert code_of(resp) == "placement.resource_provider.cannot_delete_parent"
    # Re-parenting needs 1.37.
    resp = placement(
        "PUT",
        f"/resource_providers/{grandchild}",
        {"name": unique("g"), "parent_provider_uuid": other},
        "1.36",
    )
    assert resp.status_code == 400
    resp = placement(
        "PUT",
        f"/resource_providers/{grandchild}",
        {"name": unique("g"), "parent_provider_uuid": other},
        "1.37",
    )
    assert resp.status_code == 200
    assert resp.json()["root_provider_uuid"] == other
    # A loop is refused.
    resp = placement(
        "PUT",
        f"/resource_providers/{root}",
        {"name": unique("r"), "parent_provider_uuid": child},
        "1.37",
    )
    assert resp.status_code == 400


def test_unknown_parent_is_400(placement: Placement) -> None:
    resp = placement(
        "POST",
        "/resource_providers",
        {"name": unique("rp"), "parent_provider_uuid": str(uuid.uuid4())},
    )
    assert resp.status_code == 400


def test_delete_then_404(placement: Placement) -> None:
    rp = placement.provider()
    assert placement("DELETE", f"/resource_providers/{rp}").status_code == 204
    assert placement("GET", f"/resource_providers/{rp}").status_code == 404
    assert placement("DELETE", f"/resource_providers/{rp}").status_code == 404


def test_delete_with_allocations_is_409_inuse(placement: Placement) -> None:
    rp = placement.provider(VCPU=4)
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=1).status_code == 204
    resp = placement("DELETE", f"/resource_providers/{rp}")
    assert resp.status_code == 409
    assert code_of(resp) == "placement.resource_provider.inuse"


def test_list_filters(placement: Placement) -> None:
    big = placement.provider(VCPU=16, MEMORY_MB=4096)
    small = placement.provider(VCPU=2, MEMORY_MB=512)
    agg = str(uuid.uuid4())
    assert (
        placement(
            "PUT",
            f"/resource_providers/{small}/aggregates",
            {"aggregates": [agg], "resource_provider_generation": 1},
        ).status_code
        == 200
    )
    assert (
        placement(
            "PUT",
            f"/resource_providers/{big}/traits",
            {"traits": ["HW_CPU_X86_AVX2"], "resource_provider_generation": 1},
        ).status_code
        == 200
    )

    def uuids(query: str) -> set[str]:
        resp = placement("GET", "/resource_providers?" + query)
        assert resp.status_code == 200, resp.text
        return {p["uuid"] for p in resp.json()["resource_providers"]}

    assert uuids(f"uuid={big}") == {big}
    name = placement("GET", f"/resource_providers/{small}").json()["name"]
    assert uuids(f"name={name}") == {small}
    assert uuids(f"member_of=in:{agg}") == {small}
    assert small not in uuids(f"member_of=!{agg}")
    assert big in uuids("resources=VCPU:8,MEMORY_MB:1024")
    assert small not in uuids("resources=VCPU:8")
    assert uuids("required=HW_CPU_X86_AVX2") >= {big}
    assert big not in uuids("required=!HW_CPU_X86_AVX2")
    assert placement("GET", "/resource_providers?resources=VCPU").status_code == 400
    assert placement("GET", "/resource_providers?member_of=nope").status_code == 400
    assert placement("GET", "/resource_providers?required=CUSTOM_NOPE").status_code == 400
    assert placement("GET", "/resource_providers?bogus=1").status_code == 400


def test_aggregates_generation_from_1_19(placement: Placement) -> None:
    rp = placement.provider()
    aggs = sorted([str(uuid.uuid4()), str(uuid.uuid4())])
    # Before 1.19 the body is a bare list and the generation is not shown.
    resp = placement("PUT", f"/resource_providers/{rp}/aggregates", aggs, "1.18")
    assert resp.status_code == 200
    assert resp.json() == {"aggregates": aggs}
    resp = placement("GET", f"/resource_providers/{rp}/aggregates")
    gen = resp.json()["resource_provider_generation"]
    assert sorted(resp.json()["aggregates"]) == aggs
    stale = placement(
        "PUT",
        f"/resource_providers/{rp}/aggregates",
        {"aggregates": [], "resource_provider_generation": gen + 5},
    )
    assert stale.status_code == 409
    assert code_of(stale) == "placement.concurrent_update"
    ok = placement(
        "PUT",
        f"/resource_providers/{rp}/aggregates",
        {"aggregates": [], "resource_provider_generation": gen},
    )
    assert ok.json() == {"aggregates": [], "resource_provider_generation": gen + 1}
