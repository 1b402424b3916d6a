"""Fixtures of the networking API tests: clients for admin, demo and alt_demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import issue

V2 = "/networking/v2.0"


class Caller:
    """Sends requests to the networking API with one user's token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": token}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(V2 + path, headers=self.headers, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(V2 + path, json=body, headers=self.headers, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.put(V2 + path, json=body, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(V2 + path, headers=self.headers, **kw)

    def create(self, collection: str, resource: str, **attrs: Any) -> dict[str, Any]:
        """POST and assert 201; the created resource."""
        resp = self.post(f"/{collection}", {resource: attrs})
        assert resp.status_code == 201, resp.text
        body: dict[str, Any] = resp.json()[resource]
        return body


@pytest.fixture
def admin(cloud: TestClient) -> Caller:
    return Caller(cloud, issue(cloud))


@pytest.fixture
def demo(cloud: TestClient) -> Caller:
    return Caller(cloud, issue(cloud, "demo"))


@pytest.fixture
def alt(cloud: TestClient) -> Caller:
    return Caller(cloud, issue(cloud, "alt_demo"))


def error_type(resp: Any) -> str:
    """The ``NeutronError.type`` of an error answer."""
    body: dict[str, Any] = resp.json()
    return str(body["NeutronError"]["type"])


@pytest.fixture
def net_with_subnet(demo: Caller) -> Callable[..., tuple[dict[str, Any], dict[str, Any]]]:
    """Make a demo network with an IPv4 subnet."""

    def make(cidr: str = "10.10.0.0/24", **subnet: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        net = demo.create("networks", "network", name="n")
        sub = demo.create(
            "subnets", "subnet", network_id=net["id"], ip_version=4, cidr=cidr, **subnet
        )
        return net, sub

    return make
