"""Behaviour tempest's network API tests rely on (each found by a tempest run)."""

from __future__ import annotations

from typing import Any

from tests.api.network.conftest import Caller, error_type


def _external(admin: Caller, cidr: str = "198.51.100.0/24") -> dict[str, Any]:
    net = admin.create("networks", "network", name="ext", **{"router:external": True})
    admin.create(
        "subnets", "subnet", network_id=net["id"], ip_version=4, cidr=cidr, enable_dhcp=False
    )
    return net


def test_router_interface_port_is_bound_and_active(demo: Caller) -> None:
    """tempest waits for a router interface's port to be ACTIVE before removing it."""
    net = demo.create("networks", "network", name="n")
    sub = demo.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.9.0.0/24")
    router = demo.create("routers", "router", name="r")
    resp = demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 200, resp.text
    port = demo.get(f"/ports/{resp.json()['port_id']}").json()["port"]
    assert port["status"] == "ACTIVE"
    assert port["device_owner"] == "network:router_interface"
    # An existing port attached as an interface is bound the same way.
    sub2 = demo.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.8.0.0/24")
    other = demo.create(
        "ports", "port", network_id=net["id"], fixed_ips=[{"subnet_id": sub2["id"]}]
    )
    assert other["status"] == "DOWN"  # unbound until the router takes it
    resp = demo.put(f"/routers/{router['id']}/add_router_interface", {"port_id": other["id"]})
    assert resp.status_code == 200, resp.text
    assert demo.get(f"/ports/{other['id']}").json()["port"]["status"] == "ACTIVE"


def test_delete_external_network_releases_its_floating_ips(admin: Caller) -> None:
    net = _external(admin)
    fip = admin.create("floatingips", "floatingip", floating_network_id=net["id"])
    listed = admin.get("/floatingips", params={"floating_network_id": net["id"]}).json()
    assert [f["id"] for f in listed["floatingips"]] == [fip["id"]]
    resp = admin.delete(f"/networks/{net['id']}")
    assert resp.status_code == 204, resp.text
    assert admin.get(f"/floatingips/{fip['id']}").status_code == 404
    ports = admin.get("/ports", params={"network_id": net["id"]}).json()["ports"]
    assert ports == []


def test_rule_with_unknown_remote_group_is_404_even_when_not_a_uuid(demo: Caller) -> None:
    sg = demo.create("security-groups", "security_group", name="sg")
    for remote in ("bad_group_id", "8b4b5e0e-2f0c-4a7e-9d55-1f0c0b8e1c11"):
        resp = demo.post(
            "/security-group-rules",
            {
                "security_group_rule": {
                    "security_group_id": sg["id"],
                    "direction": "ingress",
                    "protocol": "tcp",
                    "ethertype": "IPv6",
                    "remote_group_id": remote,
                }
            },
        )
        assert resp.status_code == 404, resp.text
        assert error_type(resp) == "SecurityGroupNotFound"


def test_service_providers_list(demo: Caller) -> None:
    """The service-type extension: a list (empty: Kumo has no pluggable service drivers)."""
    aliases = {e["alias"] for e in demo.get("/extensions").json()["extensions"]}
    assert "service-type" in aliases
    resp = demo.get("/service-providers")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"service_providers": []}
    resp = demo.get("/service-providers", params={"service_type": "L3_ROUTER_NAT"})
    assert resp.status_code == 200 and resp.json()["service_providers"] == []
    resp = demo.get("/service-providers", params={"bogus": "1"})
    assert resp.status_code == 400 and error_type(resp) == "HTTPBadRequest"


def test_tag_alias_serves_network_tags(demo: Caller) -> None:
    """The older ``tag`` alias is listed because network tags work through it."""
    assert demo.get("/extensions/tag").json()["extension"]["alias"] == "tag"
    net = demo.create("networks", "network", name="tagged")
    assert demo.put(f"/networks/{net['id']}/tags/red").status_code == 201
    assert demo.get(f"/networks/{net['id']}/tags").json() == {"tags": ["red"]}
    assert demo.get(f"/networks/{net['id']}/tags/red").status_code == 204
    assert demo.delete(f"/networks/{net['id']}/tags").status_code == 204
    assert demo.get(f"/networks/{net['id']}/tags/red").status_code == 404
