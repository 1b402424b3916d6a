"""``POST /reshaper`` (API reference: Reshaper): a service-only, all-or-nothing move."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.api.placement.conftest import PROJECT, USER, Placement, code_of
from tests.conftest import SERVICE_PASSWORD, issue


def _service(cloud: TestClient) -> Placement:
    return Placement(cloud, issue(cloud, "kumo", SERVICE_PASSWORD, project="service"))


def _move_vgpu(root: str, child: str, consumer: str, root_gen: int, consumer_gen: int) -> Any:
    return {
        "inventories": {
            root: {"resource_provider_generation": root_gen, "inventories": {"VCPU": {"total": 8}}},
            child: {"resource_provider_generation": 0, "inventories": {"VGPU": {"total": 4}}},
        },
        "allocations": {
            consumer: {
                "allocations": {
                    root: {"resources": {"VCPU": 1}},
                    child: {"resources": {"VGPU": 2}},
                },
                "project_id": PROJECT,
                "user_id": USER,
                "consumer_generation": consumer_gen,
                "consumer_type": "INSTANCE",
            }
        },
    }


def test_reshape_moves_inventory_and_allocations(cloud: TestClient, placement: Placement) -> None:
    service = _service(cloud)
    root = placement.provider(VCPU=8, VGPU=4)
    consumer = str(uuid.uuid4())
    assert placement.allocate(consumer, root, VCPU=1, VGPU=2).status_code == 204
    child = placement.provider(parent=root)
    gen = placement("GET", f"/resource_providers/{root}").json()["generation"]
    body = _move_vgpu(root, child, consumer, gen, 1)
    # Admin alone is not enough: the reshaper is for services.
    assert placement("POST", "/reshaper", body).status_code == 403
    assert service("POST", "/reshaper", body, "1.29").status_code == 404
    resp = service("POST", "/reshaper", body)
    assert resp.status_code == 204, resp.text
    moved = placement("GET", f"/allocations/{consumer}").json()["allocations"]
    assert moved[root]["resources"] == {"VCPU": 1}
    assert moved[child]["resources"] == {"VGPU": 2}
    assert placement("GET", f"/resource_providers/{root}/inventories").json()[
        "inventories"
    ].keys() == {"VCPU"}


def test_reshape_refuses_leaving_allocations_without_inventory(
    cloud: TestClient, placement: Placement
) -> None:
    service = _service(cloud)
    root = placement.provider(VCPU=8, VGPU=4)
    consumer = str(uuid.uuid4())
    assert placement.allocate(consumer, root, VCPU=1, VGPU=2).status_code == 204
    child = placement.provider(parent=root)
    gen = placement("GET", f"/resource_providers/{root}").json()["generation"]
    body = _move_vgpu(root, child, consumer, gen, 1)
    body["allocations"] = {}  # inventory moves, the allocation does not
    resp = service("POST", "/reshaper", body)
    assert resp.status_code == 409
    assert code_of(resp) == "placement.inventory.inuse"
    # Nothing changed.
    assert (
        "VGPU" in placement("GET", f"/resource_providers/{root}/inventories").json()["inventories"]
    )
