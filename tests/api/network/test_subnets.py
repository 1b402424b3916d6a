"""Subnets and subnet pools: cidr validation, pools, gateways, IPv6 modes, ownership."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from tests.api.network.conftest import Caller, error_type

MakeNet = Callable[..., tuple[dict[str, Any], dict[str, Any]]]


def test_ipv4_defaults(net_with_subnet: MakeNet, demo: Caller) -> None:
    net, sub = net_with_subnet("10.20.0.0/24")
    assert sub["cidr"] == "10.20.0.0/24" and sub["ip_version"] == 4
    assert sub["gateway_ip"] == "10.20.0.1"
    assert sub["allocation_pools"] == [{"start": "10.20.0.2", "end": "10.20.0.254"}]
    assert sub["enable_dhcp"] is True
    assert sub["dns_nameservers"] == [] and sub["host_routes"] == []
    assert sub["ipv6_ra_mode"] is None and sub["subnetpool_id"] is None
    assert demo.get(f"/networks/{net['id']}").json()["network"]["subnets"] == [sub["id"]]


def test_no_gateway_and_explicit_pools(demo: Caller) -> None:
    net = demo.create("networks", "network")
    sub = demo.create(
        "subnets",
        "subnet",
        network_id=net["id"],
        ip_version=4,
        cidr="192.168.5.0/24",
        gateway_ip=None,
    )
    assert sub["gateway_ip"] is None
    assert sub["allocation_pools"] == [{"start": "192.168.5.1", "end": "192.168.5.254"}]
    sub2 = demo.create(
        "subnets",
        "subnet",
        network_id=demo.create("networks", "network")["id"],
        ip_version=4,
        cidr="192.168.6.0/24",
        gateway_ip="192.168.6.100",
    )
    assert sub2["allocation_pools"] == [
        {"start": "192.168.6.1", "end": "192.168.6.99"},
        {"start": "192.168.6.101", "end": "192.168.6.254"},
    ]


def test_cidr_validation(demo: Caller) -> None:
    net = demo.create("networks", "network")
    for cidr in ("10.0.0.1/24", "banana", "10.0.0.0/33"):
        resp = demo.post(
            "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": cidr}}
        )
        assert resp.status_code == 400, cidr
        assert error_type(resp) == "HTTPBadRequest"
    resp = demo.post(
        "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 6, "cidr": "10.0.0.0/24"}}
    )
    assert resp.status_code == 400 and error_type(resp) == "InvalidInput"
    resp = demo.post("/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24"}})
    assert resp.status_code == 400 and "ip_version" in resp.json()["NeutronError"]["message"]


def test_overlapping_subnets_on_one_network_refused(net_with_subnet: MakeNet, demo: Caller) -> None:
    net, _ = net_with_subnet("10.30.0.0/24")
    resp = demo.post(
        "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": "10.30.0.128/25"}}
    )
    assert resp.status_code == 400 and error_type(resp) == "InvalidInput"


def test_allocation_pool_errors(demo: Caller) -> None:
    net = demo.create("networks", "network")

    def attempt(pools: list[dict[str, str]], gateway: str | None = "10.40.0.1") -> Any:
        return demo.post(
            "/subnets",
            {
                "subnet": {
                    "network_id": net["id"],
                    "ip_version": 4,
                    "cidr": "10.40.0.0/24",
                    "gateway_ip": gateway,
                    "allocation_pools": pools,
                }
            },
        )

    out = attempt([{"start": "10.40.0.10", "end": "10.41.0.5"}])
    assert out.status_code == 400 and error_type(out) == "OutOfBoundsAllocationPool"
    bad = attempt([{"start": "10.40.0.20", "end": "10.40.0.10"}])
    assert bad.status_code == 400 and error_type(bad) == "InvalidAllocationPool"
    overlap = attempt(
        [{"start": "10.40.0.10", "end": "10.40.0.20"}, {"start": "10.40.0.15", "end": "10.40.0.30"}]
    )
    assert overlap.status_code == 409 and error_type(overlap) == "OverlappingAllocationPools"
    gw = attempt([{"start": "10.40.0.1", "end": "10.40.0.20"}])
    assert gw.status_code == 409 and error_type(gw) == "GatewayConflictWithAllocationPools"
    ok = attempt([{"start": "10.40.0.10", "end": "10.40.0.20"}])
    assert ok.status_code == 201


def test_ipv6_slaac_subnet(demo: Caller) -> None:
    net = demo.create("networks", "network")
    sub = demo.create(
        "subnets",
        "subnet",
        network_id=net["id"],
        ip_version=6,
        cidr="fd00:1::/64",
        ipv6_ra_mode="slaac",
        ipv6_address_mode="slaac",
    )
    assert sub["gateway_ip"] == "fd00:1::1"
    assert sub["ipv6_address_mode"] == "slaac"
    port = demo.create("ports", "port", network_id=net["id"])
    (ip,) = port["fixed_ips"]
    # EUI-64 from the MAC: the universal/local bit flipped, ff:fe in the middle.
    octets = [int(b, 16) for b in port["mac_address"].split(":")]
    iid = bytes([octets[0] ^ 2, *octets[1:3], 0xFF, 0xFE, *octets[3:]])
    expected = ipaddress.ip_address(int(ipaddress.ip_address("fd00:1::")) | int.from_bytes(iid))
    assert ip == {"subnet_id": sub["id"], "ip_address": str(expected)}
    resp = demo.post(
        "/subnets",
        {
            "subnet": {
                "network_id": demo.create("networks", "network")["id"],
                "ip_version": 6,
                "cidr": "fd00:2::/64",
                "ipv6_ra_mode": "slaac",
                "ipv6_address_mode": "dhcpv6-stateful",
            }
        },
    )
    assert resp.status_code == 400 and error_type(resp) == "InvalidInput"


def test_update_subnet(net_with_subnet: MakeNet, demo: Caller) -> None:
    _, sub = net_with_subnet("10.50.0.0/24")
    resp = demo.put(
        f"/subnets/{sub['id']}",
        {"subnet": {"name": "renamed", "dns_nameservers": ["8.8.8.8"], "enable_dhcp": False}},
    )
    assert resp.status_code == 200
    body = resp.json()["subnet"]
    assert body["name"] == "renamed" and body["dns_nameservers"] == ["8.8.8.8"]
    assert body["enable_dhcp"] is False
    resp = demo.put(f"/subnets/{sub['id']}", {"subnet": {"cidr": "10.51.0.0/24"}})
    assert resp.status_code == 400 and error_type(resp) == "HTTPBadRequest"


def test_subnet_in_use_and_delete(net_with_subnet: MakeNet, demo: Caller) -> None:
    net, sub = net_with_subnet("10.60.0.0/24")
    port = demo.create("ports", "port", network_id=net["id"])
    resp = demo.delete(f"/subnets/{sub['id']}")
    assert resp.status_code == 409 and error_type(resp) == "SubnetInUse"
    assert demo.delete(f"/ports/{port['id']}").status_code == 204
    assert demo.delete(f"/subnets/{sub['id']}").status_code == 204
    resp = demo.get(f"/subnets/{sub['id']}")
    assert resp.status_code == 404 and error_type(resp) == "SubnetNotFound"


def test_subnets_of_private_networks_are_hidden(
    net_with_subnet: MakeNet, demo: Caller, alt: Caller
) -> None:
    net, sub = net_with_subnet("10.70.0.0/24")
    resp = alt.get(f"/subnets/{sub['id']}")
    assert resp.status_code == 404 and error_type(resp) == "SubnetNotFound"
    resp = alt.post(
        "/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "cidr": "10.71.0.0/24"}}
    )
    assert resp.status_code == 404 and error_type(resp) == "NetworkNotFound"


def test_subnet_from_pool(demo: Caller) -> None:
    pool = demo.create(
        "subnetpools", "subnetpool", name="p", prefixes=["10.128.0.0/16"], default_prefixlen=26
    )
    assert pool["ip_version"] == 4 and pool["min_prefixlen"] == 16
    net = demo.create("networks", "network")
    one = demo.create(
        "subnets", "subnet", network_id=net["id"], ip_version=4, subnetpool_id=pool["id"]
    )
    two = demo.create(
        "subnets",
        "subnet",
        network_id=demo.create("networks", "network")["id"],
        ip_version=4,
        subnetpool_id=pool["id"],
        prefixlen=24,
    )
    assert one["cidr"] == "10.128.0.0/26"
    assert two["cidr"] == "10.128.1.0/24"
    assert one["subnetpool_id"] == pool["id"]
    resp = demo.post(
        "/subnets",
        {
            "subnet": {
                "network_id": net["id"],
                "ip_version": 4,
                "subnetpool_id": pool["id"],
                "prefixlen": 8,
            }
        },
    )
    assert resp.status_code == 400 and error_type(resp) == "MinPrefixSubnetAllocationError"
    resp = demo.delete(f"/subnetpools/{pool['id']}")
    assert resp.status_code == 409 and error_type(resp) == "SubnetPoolInUse"


def test_subnets_of_external_networks_are_visible(admin: Caller, alt: Caller) -> None:
    ext = admin.create("networks", "network", **{"router:external": True})
    sub = admin.create(
        "subnets", "subnet", network_id=ext["id"], ip_version=4, cidr="198.51.100.0/24"
    )
    seen = alt.get(f"/subnets?network_id={ext['id']}").json()["subnets"]
    assert [s["id"] for s in seen] == [sub["id"]]
    assert seen[0]["router:external"] is True
    aliases = {e["alias"] for e in alt.get("/extensions").json()["extensions"]}
    assert "subnet-external-network" in aliases
    resp = alt.put(f"/subnets/{sub['id']}", {"subnet": {"name": "mine"}})
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"


def test_new_slaac_subnet_addresses_existing_ports(demo: Caller) -> None:
    net = demo.create("networks", "network")
    v4 = demo.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.16.0.0/24")
    port = demo.create("ports", "port", network_id=net["id"])
    v6 = demo.create(
        "subnets",
        "subnet",
        network_id=net["id"],
        ip_version=6,
        cidr="fd00:16::/64",
        ipv6_ra_mode="slaac",
        ipv6_address_mode="slaac",
    )
    ips = demo.get(f"/ports/{port['id']}").json()["port"]["fixed_ips"]
    assert [ip["subnet_id"] for ip in ips] == [v4["id"], v6["id"]]
    assert ips[1]["ip_address"].startswith("fd00:16::f816:3eff:fe")


def test_slaac_subnet_can_be_deleted_under_ports(demo: Caller) -> None:
    net = demo.create("networks", "network")
    v6 = demo.create(
        "subnets",
        "subnet",
        network_id=net["id"],
        ip_version=6,
        cidr="fd00:17::/64",
        ipv6_ra_mode="slaac",
        ipv6_address_mode="slaac",
    )
    port = demo.create("ports", "port", network_id=net["id"])
    assert port["fixed_ips"][0]["subnet_id"] == v6["id"]
    assert demo.delete(f"/subnets/{v6['id']}").status_code == 204
    assert demo.get(f"/ports/{port['id']}").json()["port"]["fixed_ips"] == []
    resp = demo.delete(f"/networks/{net['id']}")
    assert resp.status_code == 409
    assert (
        "There are one or more ports still in use on the network"
        in (resp.json()["NeutronError"]["message"])
    )
