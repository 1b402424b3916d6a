"""Routers (gateway, interfaces, routes) and floating IPs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.network.conftest import Caller, error_type


@pytest.fixture
def external(admin: Caller) -> dict[str, Any]:
    """An external network with a subnet of documentation addresses."""
    net = admin.create("networks", "network", name="public", **{"router:external": True})
    sub = admin.create(
        "subnets",
        "subnet",
        network_id=net["id"],
        ip_version=4,
        cidr="203.0.113.0/24",
        allocation_pools=[{"start": "203.0.113.100", "end": "203.0.113.200"}],
        enable_dhcp=False,
    )
    return {"network": net, "subnet": sub}


def _private(demo: Caller, cidr: str = "10.0.0.0/24") -> tuple[dict[str, Any], dict[str, Any]]:
    net = demo.create("networks", "network", name="private")
    sub = demo.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr=cidr)
    return net, sub


def test_router_with_gateway(demo: Caller, external: dict[str, Any]) -> None:
    router = demo.create(
        "routers",
        "router",
        name="r1",
        external_gateway_info={"network_id": external["network"]["id"]},
    )
    info = router["external_gateway_info"]
    assert info["network_id"] == external["network"]["id"]
    assert info["enable_snat"] is True
    (ip,) = info["external_fixed_ips"]
    assert ip == {"subnet_id": external["subnet"]["id"], "ip_address": "203.0.113.100"}
    assert router["status"] == "ACTIVE" and router["routes"] == []
    assert "distributed" not in router and "ha" not in router  # admin-only attributes
    # Choosing SNAT is for admins.
    resp = demo.post(
        "/routers",
        {
            "router": {
                "external_gateway_info": {
                    "network_id": external["network"]["id"],
                    "enable_snat": False,
                }
            }
        },
    )
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"
    cleared = demo.put(f"/routers/{router['id']}", {"router": {"external_gateway_info": {}}})
    assert cleared.status_code == 200
    assert cleared.json()["router"]["external_gateway_info"] is None


def test_gateway_must_be_external(demo: Caller) -> None:
    net, _ = _private(demo)
    resp = demo.post("/routers", {"router": {"external_gateway_info": {"network_id": net["id"]}}})
    assert resp.status_code == 400 and error_type(resp) == "BadRequest"


def test_interfaces(demo: Caller) -> None:
    net, sub = _private(demo, "10.7.0.0/24")
    router = demo.create("routers", "router", name="r")
    resp = demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 200
    info = resp.json()
    assert info["id"] == router["id"] and info["subnet_id"] == sub["id"]
    assert info["network_id"] == net["id"]
    port = demo.get(f"/ports/{info['port_id']}").json()["port"]
    assert port["device_owner"] == "network:router_interface"
    assert port["device_id"] == router["id"]
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.7.0.1"}]
    again = demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert again.status_code == 400
    both = demo.put(
        f"/routers/{router['id']}/add_router_interface",
        {"subnet_id": sub["id"], "port_id": port["id"]},
    )
    assert both.status_code == 400
    resp = demo.delete(f"/routers/{router['id']}")
    assert resp.status_code == 409 and error_type(resp) == "RouterInUse"
    # Static routes must go through a connected subnet.
    resp = demo.put(
        f"/routers/{router['id']}",
        {"router": {"routes": [{"destination": "172.16.0.0/16", "nexthop": "10.99.0.5"}]}},
    )
    assert resp.status_code == 400 and error_type(resp) == "InvalidRoutes"
    resp = demo.put(
        f"/routers/{router['id']}",
        {"router": {"routes": [{"destination": "172.16.0.0/16", "nexthop": "10.7.0.5"}]}},
    )
    assert resp.status_code == 200
    resp = demo.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 409 and error_type(resp) == "RouterInterfaceInUseByRoute"
    demo.put(f"/routers/{router['id']}", {"router": {"routes": []}})
    resp = demo.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 200 and resp.json()["port_id"] == port["id"]
    assert demo.get(f"/ports/{port['id']}").status_code == 404
    resp = demo.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 404 and error_type(resp) == "RouterInterfaceNotFoundForSubnet"
    assert demo.delete(f"/routers/{router['id']}").status_code == 204


def test_interface_by_port(demo: Caller) -> None:
    net, _ = _private(demo, "10.8.0.0/24")
    port = demo.create("ports", "port", network_id=net["id"])
    router = demo.create("routers", "router")
    resp = demo.put(f"/routers/{router['id']}/add_router_interface", {"port_id": port["id"]})
    assert resp.status_code == 200 and resp.json()["port_id"] == port["id"]
    assert demo.get(f"/ports/{port['id']}").json()["port"]["device_owner"] == (
        "network:router_interface"
    )


def test_router_isolation(demo: Caller, alt: Caller) -> None:
    router = demo.create("routers", "router")
    resp = alt.get(f"/routers/{router['id']}")
    assert resp.status_code == 404 and error_type(resp) == "RouterNotFound"
    _, sub = _private(demo, "10.9.0.0/24")
    theirs = alt.create("routers", "router")
    resp = alt.put(f"/routers/{theirs['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 404 and error_type(resp) == "SubnetNotFound"


def test_floating_ip_lifecycle(demo: Caller, external: dict[str, Any]) -> None:
    ext_id = external["network"]["id"]
    net, sub = _private(demo, "10.11.0.0/24")
    port = demo.create("ports", "port", network_id=net["id"])
    fip = demo.create("floatingips", "floatingip", floating_network_id=ext_id)
    assert fip["floating_ip_address"].startswith("203.0.113.")
    assert fip["port_id"] is None and fip["status"] == "DOWN"
    # No router between the port's subnet and the external network yet.
    resp = demo.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}})
    assert resp.status_code == 404 and error_type(resp) == "ExternalGatewayForFloatingIPNotFound"
    router = demo.create("routers", "router", external_gateway_info={"network_id": ext_id})
    demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    resp = demo.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}})
    assert resp.status_code == 200
    body = resp.json()["floatingip"]
    assert body["port_id"] == port["id"] and body["router_id"] == router["id"]
    assert body["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    resp = demo.put(f"/routers/{router['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 409 and error_type(resp) == "RouterInterfaceInUseByFloatingIP"
    resp = demo.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": None}})
    assert resp.status_code == 200 and resp.json()["floatingip"]["router_id"] is None
    assert demo.delete(f"/floatingips/{fip['id']}").status_code == 204
    resp = demo.get(f"/floatingips/{fip['id']}")
    assert resp.status_code == 404 and error_type(resp) == "FloatingIPNotFound"


def test_floating_ip_needs_external_network(demo: Caller, admin: Caller) -> None:
    net, _ = _private(demo, "10.12.0.0/24")
    resp = demo.post("/floatingips", {"floatingip": {"floating_network_id": net["id"]}})
    assert resp.status_code == 400 and error_type(resp) == "BadRequest"


def test_floating_ip_address_choice_is_admin_only(
    demo: Caller, admin: Caller, external: dict[str, Any]
) -> None:
    ext_id = external["network"]["id"]
    resp = demo.post(
        "/floatingips",
        {"floatingip": {"floating_network_id": ext_id, "floating_ip_address": "203.0.113.150"}},
    )
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"
    fip = admin.create(
        "floatingips",
        "floatingip",
        floating_network_id=ext_id,
        floating_ip_address="203.0.113.150",
    )
    assert fip["floating_ip_address"] == "203.0.113.150"
    resp = admin.post(
        "/floatingips",
        {"floatingip": {"floating_network_id": ext_id, "floating_ip_address": "203.0.113.150"}},
    )
    assert resp.status_code == 409 and error_type(resp) == "IpAddressAlreadyAllocated"


def test_port_forwardings(demo: Caller, alt: Caller, external: dict[str, Any]) -> None:
    ext_id = external["network"]["id"]
    net, sub = _private(demo, "10.14.0.0/24")
    port = demo.create("ports", "port", network_id=net["id"])
    fip = demo.create("floatingips", "floatingip", floating_network_id=ext_id)
    base = f"/floatingips/{fip['id']}/port_forwardings"
    body = {
        "port_forwarding": {
            "protocol": "tcp",
            "internal_port_id": port["id"],
            "internal_port": 22,
            "external_port": 2222,
        }
    }
    # Unreachable until a router connects the port's subnet to the external network.
    resp = demo.post(base, body)
    assert resp.status_code == 400 and error_type(resp) == "BadRequest"
    router = demo.create("routers", "router", external_gateway_info={"network_id": ext_id})
    demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    resp = demo.post(base, body)
    assert resp.status_code == 201, resp.text
    pf = resp.json()["port_forwarding"]
    assert pf["internal_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert pf["external_port"] == 2222 and pf["protocol"] == "tcp"
    assert demo.get(f"/floatingips/{fip['id']}").json()["floatingip"]["router_id"] == router["id"]
    dup = demo.post(base, body)
    assert dup.status_code == 400
    bad = demo.post(base, {"port_forwarding": {**body["port_forwarding"], "protocol": "icmp"}})
    assert bad.status_code == 400 and error_type(bad) == "HTTPBadRequest"
    # A floating IP with port forwardings cannot also be associated with a port.
    resp = demo.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}})
    assert resp.status_code == 409 and error_type(resp) == "FipInUseByPortForwarding"
    assert [p["id"] for p in demo.get(base).json()["port_forwardings"]] == [pf["id"]]
    resp = demo.put(f"{base}/{pf['id']}", {"port_forwarding": {"external_port": 2200}})
    assert resp.status_code == 200 and resp.json()["port_forwarding"]["external_port"] == 2200
    assert alt.get(base).status_code == 404
    assert demo.delete(f"{base}/{pf['id']}").status_code == 204
    resp = demo.get(f"{base}/{pf['id']}")
    assert resp.status_code == 404 and error_type(resp) == "PortForwardingNotFound"
    assert demo.get(f"/floatingips/{fip['id']}").json()["floatingip"]["router_id"] is None


def test_routes_none_clears_and_interface_port_keeps_its_address(demo: Caller) -> None:
    _, sub = _private(demo, "10.15.0.0/24")
    router = demo.create("routers", "router")
    info = demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    routes = [{"destination": "10.15.0.0/24", "nexthop": "10.15.0.2"}]
    resp = demo.put(f"/routers/{router['id']}", {"router": {"routes": routes}})
    assert resp.status_code == 200 and resp.json()["router"]["routes"] == routes
    resp = demo.put(f"/routers/{router['id']}", {"router": {"routes": None}})
    assert resp.status_code == 200 and resp.json()["router"]["routes"] == []
    port_id = info.json()["port_id"]
    resp = demo.put(f"/ports/{port_id}", {"port": {"fixed_ips": [{"subnet_id": sub["id"]}]}})
    assert resp.status_code == 200
    assert resp.json()["port"]["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.15.0.1"}]
