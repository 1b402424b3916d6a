"""Allocations and usages (API reference: Allocations, Usages)."""

from __future__ import annotations

import uuid

from tests.api.placement.conftest import PROJECT, USER, Placement, code_of


def test_put_get_delete_at_latest(placement: Placement) -> None:
    rp = placement.provider(VCPU=8, MEMORY_MB=4096)
    consumer = str(uuid.uuid4())
    assert placement.allocate(consumer, rp, VCPU=2, MEMORY_MB=512).status_code == 204
    body = placement("GET", f"/allocations/{consumer}").json()
    assert body == {
        "allocations": {rp: {"generation": 2, "resources": {"VCPU": 2, "MEMORY_MB": 512}}},
        "project_id": PROJECT,
        "user_id": USER,
        "consumer_generation": 1,
        "consumer_type": "INSTANCE",
    }
    by_rp = placement("GET", f"/resource_providers/{rp}/allocations").json()
    assert by_rp == {
        "allocations": {consumer: {"resources": {"VCPU": 2, "MEMORY_MB": 512}}},
        "resource_provider_generation": 2,
    }
    assert placement("GET", f"/resource_providers/{rp}/usages").json() == {
        "usages": {"VCPU": 2, "MEMORY_MB": 512},
        "resource_provider_generation": 2,
    }
    assert placement("DELETE", f"/allocations/{consumer}").status_code == 204
    assert placement("GET", f"/allocations/{consumer}").json() == {"allocations": {}}
    assert placement("DELETE", f"/allocations/{consumer}").status_code == 404


def test_consumer_generation_from_1_28(placement: Placement) -> None:
    rp = placement.provider(VCPU=8)
    consumer = str(uuid.uuid4())
    resp = placement.allocate(consumer, rp, generation=3, VCPU=1)
    assert resp.status_code == 409
    assert code_of(resp) == "placement.concurrent_update"
    assert placement.allocate(consumer, rp, generation=None, VCPU=1).status_code == 204
    again = placement.allocate(consumer, rp, generation=None, VCPU=2)
    assert again.status_code == 409
    assert code_of(again) == "placement.concurrent_update"
    assert placement.allocate(consumer, rp, generation=1, VCPU=2).status_code == 204
    assert placement("GET", f"/allocations/{consumer}").json()["consumer_generation"] == 2
    missing = placement(
        "PUT",
        f"/allocations/{consumer}",
        {
            "allocations": {rp: {"resources": {"VCPU": 1}}},
            "project_id": PROJECT,
            "user_id": USER,
            "consumer_type": "INSTANCE",
        },
    )
    assert missing.status_code == 400


def test_capacity_and_unit_rules(placement: Placement) -> None:
    rp = placement.provider()
    placement(
        "PUT",
        f"/resource_providers/{rp}/inventories",
        {
            "resource_provider_generation": 1 - 1,
            "inventories": {
                "VCPU": {
                    "total": 4,
                    "reserved": 1,
                    "allocation_ratio": 2.0,
                    "max_unit": 4,
                    "step_size": 2,
                }
            },
        },
    )
    # capacity = (4 - 1) * 2 = 6
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=4).status_code == 204
    over = placement.allocate(str(uuid.uuid4()), rp, VCPU=4)
    assert over.status_code == 409
    assert "exceed the capacity" in over.json()["errors"][0]["detail"]
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=1).status_code == 409  # step_size
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=6).status_code == 409  # max_unit
    assert placement.allocate(str(uuid.uuid4()), rp, VCPU=2).status_code == 204
    assert placement.allocate(str(uuid.uuid4()), rp, DISK_GB=1).status_code == 409  # no inventory
    unknown = placement.allocate(str(uuid.uuid4()), str(uuid.uuid4()), VCPU=2)
    assert unknown.status_code == 400


def test_list_style_before_1_12(placement: Placement) -> None:
    rp = placement.provider(VCPU=8)
    consumer = str(uuid.uuid4())
    body = {"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"VCPU": 1}}]}
    assert placement("PUT", f"/allocations/{consumer}", body, "1.7").status_code == 204
    # 1.8 wants project_id and user_id.
    assert placement("PUT", f"/allocations/{consumer}", body, "1.8").status_code == 400
    body |= {"project_id": PROJECT, "user_id": USER}
    assert placement("PUT", f"/allocations/{consumer}", body, "1.8").status_code == 204
    old = placement("GET", f"/allocations/{consumer}", version="1.11").json()
    # Two writes on the provider: generation 1 (inventory) + 2.
    assert old == {"allocations": {rp: {"generation": 3, "resources": {"VCPU": 1}}}}


def test_post_many_consumers_atomically(placement: Placement) -> None:
    rp = placement.provider(VCPU=4)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())

    def item(n: int) -> dict[str, object]:
        return {
            "allocations": {rp: {"resources": {"VCPU": n}}},
            "project_id": PROJECT,
            "user_id": USER,
            "consumer_generation": None,
            "consumer_type": "MIGRATION",
        }

    # Together they do not fit: nothing is written.
    assert placement("POST", "/allocations", {a: item(3), b: item(3)}).status_code == 409
    assert placement("GET", f"/allocations/{a}").json() == {"allocations": {}}
    assert placement("POST", "/allocations", {a: item(2), b: item(2)}).status_code == 204
    assert placement("GET", f"/resource_providers/{rp}/usages").json()["usages"] == {"VCPU": 4}
    assert placement("POST", "/allocations", {a: item(1)}, "1.12").status_code == 404


def test_usages_by_project_and_consumer_type(placement: Placement) -> None:
    rp = placement.provider(VCPU=16)
    project = uuid.uuid4().hex
    for ctype in ("INSTANCE", "INSTANCE", "MIGRATION"):
        resp = placement(
            "PUT",
            f"/allocations/{uuid.uuid4()}",
            {
                "allocations": {rp: {"resources": {"VCPU": 2}}},
                "project_id": project,
                "user_id": USER,
                "consumer_generation": None,
                "consumer_type": ctype,
            },
        )
        assert resp.status_code == 204
    assert placement("GET", f"/usages?project_id={project}", version="1.9").json() == {
        "usages": {"VCPU": 6}
    }
    assert placement("GET", f"/usages?project_id={project}").json() == {
        "usages": {
            "INSTANCE": {"VCPU": 4, "consumer_count": 2},
            "MIGRATION": {"VCPU": 2, "consumer_count": 1},
        }
    }
    assert placement("GET", f"/usages?project_id={project}&consumer_type=all").json() == {
        "usages": {"all": {"VCPU": 6, "consumer_count": 3}}
    }
    assert placement("GET", f"/usages?project_id={project}&consumer_type=COW").json() == {
        "usages": {}
    }
    assert placement("GET", "/usages").status_code == 400
    bad_type = placement(
        "PUT",
        f"/allocations/{uuid.uuid4()}",
        {
            "allocations": {rp: {"resources": {"VCPU": 2}}},
            "project_id": project,
            "user_id": USER,
            "consumer_generation": None,
            "consumer_type": "instance",
        },
    )
    assert bad_type.status_code == 400
