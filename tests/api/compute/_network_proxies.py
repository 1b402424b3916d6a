"""A cloud for Nova's nova-network proxy tests: compute and the real networking API.

The compute API's :class:`NeutronProxy` reaches the networking app of the same
process through an ASGI transport, so every proxy call is a real Neutron request
(with the caller's token). Servers come from the fake scheduler/host of
``_servers.py``; :meth:`ProxyCloud.plug` gives a server a real port on the
``private`` network with the address the fake host reported (10.0.0.10 + n).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kumo.common.context import RequestContext
from kumo.common.errors import NotFound
from kumo.common.web import root_app
from kumo.compute.api.app import create_app as create_compute_app
from kumo.compute.service import flavors, hosts
from kumo.compute.service.network_proxy import NeutronProxy
from kumo.identity.api.app import create_app as create_identity_app
from kumo.identity.api.deps import local_authenticator
from kumo.identity.service.core import Identity
from kumo.network.api.app import create_app as create_network_app
from tests.api.compute._servers import (
    FAKE_HOST,
    FAKE_NODE,
    FakeComputeRPC,
    FakeImageStore,
    ServersCaller,
    fake_image_lookup,
)
from tests.conftest import issue

N = "/networking/v2.0"


class NetCaller:
    """One user's view of the networking API."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": token}

    def get(self, path: str) -> Any:
        return self.client.get(N + path, headers=self.headers)

    def create(self, collection: str, resource: str, **attrs: Any) -> dict[str, Any]:
        resp = self.client.post(N + f"/{collection}", json={resource: attrs}, headers=self.headers)
        assert resp.status_code == 201, resp.text
        body: dict[str, Any] = resp.json()[resource]
        return body

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(N + path, json=body, headers=self.headers)


@dataclass
class ProxyCloud:
    """The cloud under test: compute and networking callers, the public and private nets."""

    client: TestClient
    admin: ServersCaller
    demo: ServersCaller
    alt: ServersCaller
    net_admin: NetCaller
    net_demo: NetCaller
    public: dict[str, Any]
    private: dict[str, Any]
    private_subnet: dict[str, Any]

    def plug(self, server_id: str, n: int = 0) -> dict[str, Any]:
        """A port of the demo project's private network for ``server_id`` (its fixed IP)."""
        return self.net_admin.create(
            "ports",
            "port",
            network_id=self.private["id"],
            project_id=self.private["project_id"],
            device_id=server_id,
            device_owner="compute:nova",
            fixed_ips=[{"subnet_id": self.private_subnet["id"], "ip_address": f"10.0.0.{10 + n}"}],
        )


@pytest.fixture
def proxy_cloud(ident: Identity) -> Iterator[ProxyCloud]:
    """Identity, compute (fake host) and networking, with public and private networks."""
    settings, db = ident.settings, ident.db
    authenticate = local_authenticator(ident)
    compute = create_compute_app(settings, db, authenticate)
    network = create_network_app(settings, db, authenticate)
    state = compute.app.state
    state.compute_rpc = FakeComputeRPC(db)
    state.image_lookup = fake_image_lookup
    state.image_store = FakeImageStore()

    async def no_cleanup(server_id: str) -> None:
        return None

    state.local_cleanup = no_cleanup
    flavors.bootstrap_flavors(db)
    with db.writer() as s:
        hosts.report_service(s, FAKE_HOST, "nova-compute")
        hosts.update_compute_node(
            s, FAKE_HOST, FAKE_NODE, 8, 16384, 100, 0, 0, 0, 0, "fake", 1000, None, "{}"
        )
    app = root_app([create_identity_app(ident), compute, network])
    proxy = NeutronProxy(settings, transport=httpx.ASGITransport(app=app))
    state.network_proxy = proxy

    async def check(ctx: RequestContext, wanted: list[str]) -> list[str]:
        missing = []
        for name in wanted:
            if name == "default":
                continue
            try:
                await proxy.find_security_group(ctx, name)
            except NotFound:
                missing.append(name)
        return missing

    state.security_group_check = check
    with TestClient(app, base_url="http://127.0.0.1:8780") as client:
        net_admin = NetCaller(client, issue(client))
        net_demo = NetCaller(client, issue(client, "demo"))
        public = net_admin.create("networks", "network", name="public", **{"router:external": True})
        pub_sub = net_admin.create(
            "subnets", "subnet", network_id=public["id"], cidr="172.24.4.0/24", ip_version=4
        )
        private = net_demo.create("networks", "network", name="private")
        private_subnet = net_demo.create(
            "subnets", "subnet", network_id=private["id"], cidr="10.0.0.0/24", ip_version=4
        )
        router = net_demo.create(
            "routers", "router", name="r", external_gateway_info={"network_id": public["id"]}
        )
        resp = net_demo.put(
            f"/routers/{router['id']}/add_router_interface", {"subnet_id": private_subnet["id"]}
        )
        assert resp.status_code == 200, resp.text
        del pub_sub
        yield ProxyCloud(
            client=client,
            admin=ServersCaller(client, issue(client)),
            demo=ServersCaller(client, issue(client, "demo")),
            alt=ServersCaller(client, issue(client, "alt_demo")),
            net_admin=net_admin,
            net_demo=net_demo,
            public=public,
            private=private,
            private_subnet=private_subnet,
        )
