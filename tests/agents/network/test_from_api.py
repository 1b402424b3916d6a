"""The agent's state source: the real Networking API, read with the service session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from kumo.agents.network.linux import ip, names, nft
from kumo.agents.network.plane import DataPlane
from kumo.agents.network.source import ApiStateSource
from kumo.common.clients.base import ServiceSession
from tests.conftest import issue

V2 = "/networking/v2.0"


def _create(cloud: TestClient, token: str, collection: str, resource: str, **body: Any) -> Any:
    resp = cloud.post(f"{V2}/{collection}", json={resource: body}, headers={"X-Auth-Token": token})
    assert resp.status_code == 201, resp.text
    return resp.json()[resource]


async def test_api_state_drives_the_plane(state_dir: Path, cloud: TestClient, ident: Any) -> None:
    admin = issue(cloud)
    ext = _create(cloud, admin, "networks", "network", name="public", **{"router:external": True})
    _create(
        cloud,
        admin,
        "subnets",
        "subnet",
        network_id=ext["id"],
        cidr="198.51.100.0/24",
        ip_version=4,
        gateway_ip="198.51.100.1",
        enable_dhcp=False,
    )
    net = _create(cloud, admin, "networks", "network", name="private")
    sub = _create(
        cloud, admin, "subnets", "subnet", network_id=net["id"], cidr="10.91.0.0/24", ip_version=4
    )
    router = _create(
        cloud, admin, "routers", "router", name="r", external_gateway_info={"network_id": ext["id"]}
    )
    resp = cloud.put(
        f"{V2}/routers/{router['id']}/add_router_interface",
        json={"subnet_id": sub["id"]},
        headers={"X-Auth-Token": admin},
    )
    assert resp.status_code == 200, resp.text
    port = _create(
        cloud,
        admin,
        "ports",
        "port",
        network_id=net["id"],
        device_owner="compute:nova",
        device_id="inst-1",
    )
    fip = _create(
        cloud, admin, "floatingips", "floatingip", floating_network_id=ext["id"], port_id=port["id"]
    )

    session = ServiceSession(ident.settings, transport=httpx.ASGITransport(app=cloud.app))
    try:
        state = await ApiStateSource(session, "host1").fetch()
    finally:
        await session.close()
    # The source made the network's DHCP port through the API.
    assert any(
        p["device_owner"] == "network:dhcp" and p["network_id"] == net["id"] for p in state.ports
    )
    DataPlane(state_dir).apply(state)
    rns = names.router_namespace(router["id"])
    assert ip.namespace_exists(rns)
    assert ip.namespace_exists(names.dhcp_namespace(net["id"]))
    fixed = port["fixed_ips"][0]["ip_address"]
    ruleset = nft.table_text("ip", "kumo-router", netns=rns) or ""
    assert f"ip daddr {fip['floating_ip_address']} dnat to {fixed}" in ruleset
