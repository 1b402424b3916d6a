"""Inventories (API reference: Resource Provider Inventories)."""

from __future__ import annotations

import uuid

from tests.api.placement.conftest import Placement, code_of

DEFAULTS = {
    "allocation_ratio": 1.0,
    "max_unit": 2147483647,
    "min_unit": 1,
    "reserved": 0,
    "step_size": 1,
}


def test_put_all_then_get(placement: Placement) -> None:
    rp = placement.provider()
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/inventories",
        {
            "resource_provider_generation": 0,
            "inventories": {
                "VCPU": {"total": 8, "allocation_ratio": 16.0},
                "DISK_GB": {"total": 100},
            },
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["resource_provider_generation"] == 1
    body = placement("GET", f"/resource_providers/{rp}/inventories").json()
    assert body == {
        "inventories": {
            "VCPU": {**DEFAULTS, "total": 8, "allocation_ratio": 16.0},
            "DISK_GB": {**DEFAULTS, "total": 100},
        },
        "resource_provider_generation": 1,
    }
    one = placement("GET", f"/resource_providers/{rp}/inventories/DISK_GB").json()
    assert one == {**DEFAULTS, "total": 100, "resource_provider_generation": 1}
    assert placement("GET", f"/resource_providers/{rp}/inventories/VGPU").status_code == 404


def test_stale_generation_is_409_concurrent_update(placement: Placement) -> None:
    rp = placement.provider(VCPU=4)
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/inventories",
        {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}}},
    )
    assert resp.status_code == 409
    assert code_of(resp) == "placement.concurrent_update"


def test_post_put_delete_one_class(placement: Placement) -> None:
    rp = placement.provider()
    resp = placement(
        "POST",
        f"/resource_providers/{rp}/inventories",
        {"resource_class": "MEMORY_MB", "total": 1024, "resource_provider_generation": 0},
    )
    assert resp.status_code == 201, resp.text
    assert resp.headers["location"].endswith(f"/resource_providers/{rp}/inventories/MEMORY_MB")
    again = placement(
        "POST",
        f"/resource_providers/{rp}/inventories",
        {"resource_class": "MEMORY_MB", "total": 1, "resource_provider_generation": 1},
    )
    assert again.status_code == 409
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/inventories/MEMORY_MB",
        {"total": 2048, "reserved": 512, "resource_provider_generation": 1},
    )
    assert resp.status_code == 200
    assert resp.json()["total"] == 2048
    assert resp.json()["resource_provider_generation"] == 2
    assert placement("DELETE", f"/resource_providers/{rp}/inventories/MEMORY_MB").status_code == 204
    assert placement("GET", f"/resource_providers/{rp}/inventories").json()["inventories"] == {}


def test_invalid_inventories_are_400(placement: Placement) -> None:
    rp = placement.provider()
    bad = [
        {"VCPU": {"total": 0}},
        {"VCPU": {"total": "8"}},
        {"VCPU": {"total": 8, "reserved": 9}},
        {"VCPU": {"total": 8, "min_unit": 4, "max_unit": 2}},
        {"VCPU": {"total": 8, "bogus": 1}},
        {"NOT_A_CLASS": {"total": 8}},
    ]
    for inventories in bad:
        resp = placement(
            "PUT",
            f"/resource_providers/{rp}/inventories",
            {"resource_provider_generation": 0, "inventories": inventories},
        )
        assert resp.status_code == 400, (inventories, resp.text)


def test_reserved_equal_total_allowed_from_1_26(placement: Placement) -> None:
    rp = placement.provider()
    body = {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 4, "reserved": 4}}}
    assert (
        placement("PUT", f"/resource_providers/{rp}/inventories", body, "1.25").status_code == 400
    )
    assert (
        placement("PUT", f"/resource_providers/{rp}/inventories", body, "1.26").status_code == 200
    )


def test_shrinking_below_usage_is_409_inuse(placement: Placement) -> None:
    rp = placement.provider(VCPU=8)
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=6).status_code == 204
    gen = placement("GET", f"/resource_providers/{rp}").json()["generation"]
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/inventories",
        {"resource_provider_generation": gen, "inventories": {"VCPU": {"total": 4}}},
    )
    assert resp.status_code == 409
    assert code_of(resp) == "placement.inventory.inuse"
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/inventories",
        {"resource_provider_generation": gen, "inventories": {}},
    )
    assert code_of(resp) == "placement.inventory.inuse"
    resp = placement("DELETE", f"/resource_providers/{rp}/inventories/VCPU")
    assert resp.status_code == 409
    assert code_of(resp) == "placement.inventory.inuse"
    # Growing is fine.
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/inventories",
        {"resource_provider_generation": gen, "inventories": {"VCPU": {"total": 16}}},
    )
    assert resp.status_code == 200


def test_delete_all_inventories_from_1_5(placement: Placement) -> None:
    rp = placement.provider(VCPU=8, DISK_GB=10)
    assert (
        placement("DELETE", f"/resource_providers/{rp}/inventories", version="1.4").status_code
        == 405
    )
    assert (
        placement("DELETE", f"/resource_providers/{rp}/inventories", version="1.5").status_code
        == 204
    )
    assert placement("GET", f"/resource_providers/{rp}/inventories").json()["inventories"] == {}
