"""Allocation candidates (API reference: Allocation candidates; gabbits as the spec)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.placement.conftest import Placement


def _candidates(placement: Placement, query: str, version: str | None = None) -> Any:
    resp = placement("GET", "/allocation_candidates?" + query, version=version)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _providers(body: Any) -> list[set[str]]:
    return [set(req["allocations"]) for req in body["allocation_requests"]]


def test_single_provider_candidates_and_summaries(placement: Placement) -> None:
    big = placement.provider(VCPU=8, MEMORY_MB=4096, DISK_GB=100)
    small = placement.provider(VCPU=1, MEMORY_MB=4096, DISK_GB=100)
    body = _candidates(placement, "resources=VCPU:2,MEMORY_MB:1024")
    assert {big} in _providers(body)
    assert {small} not in _providers(body)
    req = next(r for r in body["allocation_requests"] if set(r["allocations"]) == {big})
    assert req == {
        "allocations": {big: {"resources": {"VCPU": 2, "MEMORY_MB": 1024}}},
        "mappings": {"": [big]},
    }
    summary = body["provider_summaries"][big]
    assert summary["resources"]["VCPU"] == {"capacity": 8, "used": 0}
    # 1.27+: every class of the provider, not only those asked for.
    assert summary["resources"]["DISK_GB"] == {"capacity": 100, "used": 0}
    assert summary["root_provider_uuid"] == big
    assert summary["parent_provider_uuid"] is None


def test_shapes_at_old_microversions(placement: Placement) -> None:
    rp = placement.provider(VCPU=8, DISK_GB=10)
    old = _candidates(placement, "resources=VCPU:1", "1.10")
    item = next(
        r
        for r in old["allocation_requests"]
        if r["allocations"][0]["resource_provider"]["uuid"] == rp
    )
    assert item == {"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"VCPU": 1}}]}
    assert old["provider_summaries"][rp] == {"resources": {"VCPU": {"capacity": 8, "used": 0}}}
    mid = _candidates(placement, "resources=VCPU:1", "1.17")
    assert mid["provider_summaries"][rp]["traits"] == []
    assert "mappings" not in mid["allocation_requests"][0]


def test_usage_allocation_ratio_and_units_count(placement: Placement) -> None:
    rp = placement.provider()
    placement(
        "PUT",
        f"/resource_providers/{rp}/inventories",
        {
            "resource_provider_generation": 0,
            "inventories": {"VCPU": {"total": 4, "allocation_ratio": 2.0, "max_unit": 4}},
        },
    )
    assert {rp} in _providers(_candidates(placement, "resources=VCPU:4"))
    assert {rp} not in _providers(_candidates(placement, "resources=VCPU:5"))  # max_unit
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=4).status_code == 204
    body = _candidates(placement, "resources=VCPU:4")
    assert {rp} in _providers(body)
    assert body["provider_summaries"][rp]["resources"]["VCPU"] == {"capacity": 8, "used": 4}
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=2).status_code == 204
    assert {rp} not in _providers(_candidates(placement, "resources=VCPU:4"))


def test_required_forbidden_and_any_traits(placement: Placement) -> None:
    avx = placement.provider(VCPU=4)
    plain = placement.provider(VCPU=4)
    placement(
        "PUT",
        f"/resource_providers/{avx}/traits",
        {"traits": ["HW_CPU_X86_AVX2"], "resource_provider_generation": 1},
    )
    tree = [avx, plain]
    in_trees = "&".join([])  # keep the query readable below
    del in_trees

    def hits(query: str) -> set[str]:
        return {u for s in _providers(_candidates(placement, query)) for u in s} & set(tree)

    assert hits("resources=VCPU:1&required=HW_CPU_X86_AVX2") == {avx}
    assert hits("resources=VCPU:1&required=!HW_CPU_X86_AVX2") == {plain}
    assert hits("resources=VCPU:1&required=in:HW_CPU_X86_AVX2,HW_CPU_X86_SSE") == {avx}
    resp = placement(
        "GET", "/allocation_candidates?resources=VCPU:1&required=!HW_CPU_X86_AVX2", version="1.21"
    )
    assert resp.status_code == 400
    resp = placement("GET", "/allocation_candidates?resources=VCPU:1&required=CUSTOM_NOPE")
    assert resp.status_code == 400


def test_member_of_and_in_tree(placement: Placement) -> None:
    inside = placement.provider(VCPU=4)
    outside = placement.provider(VCPU=4)
    agg = str(uuid.uuid4())
    placement(
        "PUT",
        f"/resource_providers/{inside}/aggregates",
        {"aggregates": [agg], "resource_provider_generation": 1},
    )
    assert _providers(_candidates(placement, f"resources=VCPU:1&member_of=in:{agg}")) == [{inside}]
    forbidden = _providers(_candidates(placement, f"resources=VCPU:1&member_of=!{agg}"))
    assert {inside} not in forbidden and {outside} in forbidden
    assert _providers(_candidates(placement, f"resources=VCPU:1&in_tree={outside}")) == [{outside}]
    assert _candidates(placement, f"resources=VCPU:1&in_tree={uuid.uuid4()}") == {
        "allocation_requests": [],
        "provider_summaries": {},
    }


def test_nested_tree_spreads_the_unsuffixed_group(placement: Placement) -> None:
    root = placement.provider(VCPU=8, MEMORY_MB=4096)
    numa0 = placement.provider(parent=root, VGPU=2)
    body = _candidates(placement, f"resources=VCPU:1,VGPU:1&in_tree={root}")
    assert body["allocation_requests"] == [
        {
            "allocations": {root: {"resources": {"VCPU": 1}}, numa0: {"resources": {"VGPU": 1}}},
            "mappings": {"": sorted([root, numa0])},
        }
    ]
    # Whole trees are summarised from 1.29.
    assert body["provider_summaries"][numa0]["parent_provider_uuid"] == root


def test_granular_groups_and_isolation(placement: Placement) -> None:
    root = placement.provider(VCPU=8)
    pf1 = placement.provider(parent=root, SRIOV_NET_VF=4)
    pf2 = placement.provider(parent=root, SRIOV_NET_VF=4)
    q = f"in_tree={root}&resources=VCPU:1&resources1=SRIOV_NET_VF:1&resources2=SRIOV_NET_VF:1"
    assert placement("GET", "/allocation_candidates?" + q).status_code == 400  # group_policy
    isolated = _candidates(placement, q + "&group_policy=isolate")
    pairs = [(r["mappings"]["1"], r["mappings"]["2"]) for r in isolated["allocation_requests"]]
    assert sorted(pairs) == sorted([([pf1], [pf2]), ([pf2], [pf1])])
    shared = _candidates(placement, q + "&group_policy=none")
    merged = [
        r
        for r in shared["allocation_requests"]
        if r["allocations"].get(pf1, {}).get("resources") == {"SRIOV_NET_VF": 2}
    ]
    assert merged, "both groups may land on the same provider with group_policy=none"


def test_limit_and_bad_queries(placement: Placement) -> None:
    for _ in range(3):
        placement.provider(VCPU=2)
    assert len(_candidates(placement, "resources=VCPU:1&limit=2")["allocation_requests"]) == 2
    for query in (
        "",
        "resources=VCPU",
        "resources=VCPU:0",
        "resources=VCPU:1&limit=0",
        "resources=NOPE:1",
        "resources=VCPU:1&bogus=1",
        "resources=VCPU:1&member_of=not-a-uuid",
    ):
        resp = placement("GET", "/allocation_candidates?" + query)
        assert resp.status_code == 400, (query, resp.text)


def test_root_required_from_1_35(placement: Placement) -> None:
    enabled = placement.provider(VCPU=4)
    disabled = placement.provider(VCPU=4)
    child = placement.provider(parent=disabled, VGPU=1)
    placement(
        "PUT",
        f"/resource_providers/{disabled}/traits",
        {"traits": ["COMPUTE_STATUS_DISABLED"], "resource_provider_generation": 1},
    )
    body = _candidates(placement, "resources=VCPU:1&root_required=!COMPUTE_STATUS_DISABLED")
    hits = {u for p in _providers(body) for u in p}
    assert enabled in hits
    assert disabled not in hits
    # The root's traits count even when the resources come from a child.
    body = _candidates(placement, "resources=VGPU:1&root_required=COMPUTE_STATUS_DISABLED")
    assert _providers(body) == [{child}]
    resp = placement(
        "GET", "/allocation_candidates?resources=VCPU:1&root_required=X", version="1.34"
    )
    assert resp.status_code == 400
