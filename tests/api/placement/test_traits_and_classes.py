"""Traits and resource classes (API reference: Traits, Resource Classes)."""

from __future__ import annotations

from tests.api.placement.conftest import Placement, code_of


def test_standard_traits_are_listed(placement: Placement) -> None:
    traits = placement("GET", "/traits?name=startswith:HW_CPU_X86_AVX").json()["traits"]
    assert "HW_CPU_X86_AVX2" in traits
    assert all(t.startswith("HW_CPU_X86_AVX") for t in traits)
    assert placement("GET", "/traits?name=in:COMPUTE_NODE,NOPE").json() == {
        "traits": ["COMPUTE_NODE"]
    }
    assert placement("GET", "/traits?name=bogus").status_code == 400


def test_custom_trait_lifecycle(placement: Placement) -> None:
    assert placement("GET", "/traits/CUSTOM_GOLD").status_code == 404
    resp = placement("PUT", "/traits/CUSTOM_GOLD")
    assert resp.status_code == 201
    assert resp.headers["location"] == "/placement/traits/CUSTOM_GOLD"
    assert placement("PUT", "/traits/CUSTOM_GOLD").status_code == 204
    assert placement("GET", "/traits/CUSTOM_GOLD").status_code == 204
    assert placement("PUT", "/traits/NOT_CUSTOM").status_code == 400
    assert placement("DELETE", "/traits/HW_CPU_X86_AVX2").status_code == 400
    rp = placement.provider()
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/traits",
        {"traits": ["CUSTOM_GOLD", "COMPUTE_NODE"], "resource_provider_generation": 0},
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "traits": ["COMPUTE_NODE", "CUSTOM_GOLD"],
        "resource_provider_generation": 1,
    }
    assert "CUSTOM_GOLD" in placement("GET", "/traits?associated=true").json()["traits"]
    assert placement("DELETE", "/traits/CUSTOM_GOLD").status_code == 409
    assert placement("DELETE", f"/resource_providers/{rp}/traits").status_code == 204
    assert placement("GET", f"/resource_providers/{rp}/traits").json()["traits"] == []
    assert placement("DELETE", "/traits/CUSTOM_GOLD").status_code == 204
    assert placement("DELETE", "/traits/CUSTOM_GOLD").status_code == 404


def test_provider_traits_check_generation_and_names(placement: Placement) -> None:
    rp = placement.provider()
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/traits",
        {"traits": ["COMPUTE_NODE"], "resource_provider_generation": 7},
    )
    assert resp.status_code == 409
    assert code_of(resp) == "placement.concurrent_update"
    resp = placement(
        "PUT",
        f"/resource_providers/{rp}/traits",
        {"traits": ["CUSTOM_NEVER_MADE"], "resource_provider_generation": 0},
    )
    assert resp.status_code == 400


def test_standard_resource_classes(placement: Placement) -> None:
    body = placement("GET", "/resource_classes").json()
    listed = [rc["name"] for rc in body["resource_classes"]]
    for name in ("VCPU", "MEMORY_MB", "DISK_GB", "PCPU", "VGPU", "MEM_ENCRYPTION_CONTEXT"):
        assert name in listed
    vcpu = placement("GET", "/resource_classes/VCPU").json()
    assert vcpu == {
        "name": "VCPU",
        "links": [{"rel": "self", "href": "/placement/resource_classes/VCPU"}],
    }


def test_custom_resource_class_lifecycle(placement: Placement) -> None:
    resp = placement("POST", "/resource_classes", {"name": "CUSTOM_FPGA_X"})
    assert resp.status_code == 201
    assert resp.headers["location"] == "/placement/resource_classes/CUSTOM_FPGA_X"
    dup = placement("POST", "/resource_classes", {"name": "CUSTOM_FPGA_X"})
    assert dup.status_code == 409
    assert code_of(dup) == "placement.duplicate_name"
    assert placement("POST", "/resource_classes", {"name": "FPGA_X"}).status_code == 400
    assert placement("PUT", "/resource_classes/CUSTOM_FPGA_X", version="1.7").status_code == 204
    assert placement("PUT", "/resource_classes/CUSTOM_NEW", version="1.7").status_code == 201
    # Before 1.7 PUT renames.
    resp = placement("PUT", "/resource_classes/CUSTOM_NEW", {"name": "CUSTOM_NEWER"}, "1.6")
    assert resp.status_code == 200
    assert resp.json()["name"] == "CUSTOM_NEWER"
    rp = placement.provider(CUSTOM_FPGA_X=2)
    resp = placement("DELETE", "/resource_classes/CUSTOM_FPGA_X")
    assert resp.status_code == 409
    assert placement("DELETE", "/resource_classes/VCPU").status_code == 400
    assert placement("DELETE", f"/resource_providers/{rp}").status_code == 204
    assert placement("DELETE", "/resource_classes/CUSTOM_FPGA_X").status_code == 204
    assert placement("GET", "/resource_classes/CUSTOM_FPGA_X").status_code == 404
