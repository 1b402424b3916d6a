"""Placement test helpers: an admin client speaking a chosen microversion."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import issue


class Placement:
    """Calls ``/placement`` with a token and ``OpenStack-API-Version: placement X.Y``."""

    def __init__(self, client: TestClient, token: str, version: str = "latest") -> None:
        self.client = client
        self.token = token
        self.version = version

    def __call__(
        self, method: str, path: str, body: Any = None, version: str | None = None
    ) -> Response:
        headers = {
            "X-Auth-Token": self.token,
            "OpenStack-API-Version": f"placement {version or self.version}",
        }
        if body is None:
            return self.client.request(method, "/placement" + path, headers=headers)
        return self.client.request(method, "/placement" + path, headers=headers, json=body)

    def provider(self, name: str | None = None, parent: str | None = None, **inventory: int) -> str:
        """Create a provider (with inventories given as ``VCPU=8``) and return its uuid."""
        body: dict[str, Any] = {"name": name or f"rp-{uuid.uuid4().hex[:8]}"}
        if parent:
            body["parent_provider_uuid"] = parent
        resp = self("POST", "/resource_providers", body, version="1.20")
        assert resp.status_code == 200, resp.text
        rp = resp.json()["uuid"]
        if inventory:
            resp = self(
                "PUT",
                f"/resource_providers/{rp}/inventories",
                {
                    "resource_provider_generation": 0,
                    "inventories": {rc: {"total": n} for rc, n in inventory.items()},
                },
            )
            assert resp.status_code == 200, resp.text
        return rp

    def allocate(
        self, consumer: str, rp: str, generation: int | None = None, **res: int
    ) -> Response:
        """PUT one consumer's allocation on one provider at the latest microversion."""
        return self(
            "PUT",
            f"/allocations/{consumer}",
            {
                "allocations": {rp: {"resources": res}},
                "project_id": PROJECT,
                "user_id": USER,
                "consumer_generation": generation,
                "consumer_type": "INSTANCE",
            },
        )


PROJECT = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
USER = "f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5"


@pytest.fixture
def placement(cloud: TestClient) -> Placement:
    """An admin (role admin) placement client at the latest microversion."""
    return Placement(cloud, issue(cloud))


def code_of(resp: Response) -> str:
    """The ``code`` of a placement error body."""
    return str(resp.json()["errors"][0]["code"])
