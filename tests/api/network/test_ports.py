"""Ports: IPAM, MAC addresses, security groups, port security, bindings, DHCP options."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.api.network.conftest import Caller, error_type

MakeNet = Callable[..., tuple[dict[str, Any], dict[str, Any]]]


def test_port_gets_next_free_address_and_a_mac(net_with_subnet: MakeNet, demo: Caller) -> None:
    net, sub = net_with_subnet("10.1.0.0/24")
    one = demo.create("ports", "port", network_id=net["id"], name="p1")
    two = demo.create("ports", "port", network_id=net["id"])
    assert one["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.1.0.2"}]
    assert two["fixed_ips"][0]["ip_address"] == "10.1.0.3"
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", one["mac_address"])
    assert one["mac_address"] != two["mac_address"]
    assert one["status"] == "DOWN"
    assert one["device_owner"] == "" and one["device_id"] == ""
    assert one["port_security_enabled"] is True
    assert one["binding:vnic_type"] == "normal"
    assert "binding:host_id" not in one  # admin-only attribute
    # A freed address is handed out again.
    assert demo.delete(f"/ports/{one['id']}").status_code == 204
    three = demo.create("ports", "port", network_id=net["id"])
    assert three["fixed_ips"][0]["ip_address"] == "10.1.0.2"


def test_requested_address(net_with_subnet: MakeNet, demo: Caller) -> None:
    net, sub = net_with_subnet("10.2.0.0/24")
    port = demo.create(
        "ports", "port", network_id=net["id"], fixed_ips=[{"ip_address": "10.2.0.77"}]
    )
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.2.0.77"}]
    resp = demo.post(
        "/ports",
        {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.2.0.77"}]}},
    )
    assert resp.status_code == 409 and error_type(resp) == "IpAddressAlreadyAllocated"
    resp = demo.post(
        "/ports",
        {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.9.0.5"}]}},
    )
    assert resp.status_code == 400 and error_type(resp) == "InvalidIpForNetwork"
    resp = demo.post(
        "/ports",
        {
            "port": {
                "network_id": net["id"],
                "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.2.0.255"}],
            }
        },
    )
    assert resp.status_code == 400 and error_type(resp) == "InvalidIpForSubnet"
    by_subnet = demo.create(
        "ports", "port", network_id=net["id"], fixed_ips=[{"subnet_id": sub["id"]}]
    )
    assert by_subnet["fixed_ips"][0]["subnet_id"] == sub["id"]


def test_pool_exhaustion(demo: Caller) -> None:
    net = demo.create("networks", "network")
    demo.create(
        "subnets",
        "subnet",
        network_id=net["id"],
        ip_version=4,
        cidr="10.3.0.0/29",
        allocation_pools=[{"start": "10.3.0.2", "end": "10.3.0.3"}],
    )
    demo.create("ports", "port", network_id=net["id"])
    demo.create("ports", "port", network_id=net["id"])
    resp = demo.post("/ports", {"port": {"network_id": net["id"]}})
    assert resp.status_code == 409 and error_type(resp) == "IpAddressGenerationFailure"


def test_update_fixed_ips(net_with_subnet: MakeNet, demo: Caller) -> None:
    net, sub = net_with_subnet("10.4.0.0/24")
    port = demo.create("ports", "port", network_id=net["id"])
    resp = demo.put(
        f"/ports/{port['id']}",
        {"port": {"fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.4.0.50"}]}},
    )
    assert resp.status_code == 200
    assert resp.json()["port"]["fixed_ips"][0]["ip_address"] == "10.4.0.50"
    other = demo.create("ports", "port", network_id=net["id"])
    assert other["fixed_ips"][0]["ip_address"] == "10.4.0.2"  # the old address was released


def test_mac_address_in_use(admin: Caller) -> None:
    net = admin.create("networks", "network")
    admin.create("ports", "port", network_id=net["id"], mac_address="fa:16:3e:00:00:01")
    resp = admin.post(
        "/ports", {"port": {"network_id": net["id"], "mac_address": "fa:16:3e:00:00:01"}}
    )
    assert resp.status_code == 409 and error_type(resp) == "MacAddressInUse"
    resp = admin.post("/ports", {"port": {"network_id": net["id"], "mac_address": "nope"}})
    assert resp.status_code == 400 and error_type(resp) == "HTTPBadRequest"


def test_default_security_group_and_port_security(demo: Caller) -> None:
    net = demo.create("networks", "network")
    port = demo.create("ports", "port", network_id=net["id"])
    (sg_id,) = port["security_groups"]
    sg = demo.get(f"/security-groups/{sg_id}").json()["security_group"]
    assert sg["name"] == "default"
    bare = demo.create("ports", "port", network_id=net["id"], port_security_enabled=False)
    assert bare["security_groups"] == [] and bare["port_security_enabled"] is False
    resp = demo.post(
        "/ports",
        {
            "port": {
                "network_id": net["id"],
                "port_security_enabled": False,
                "security_groups": [sg_id],
            }
        },
    )
    assert resp.status_code == 400
    assert error_type(resp) == "PortSecurityAndIPRequiredForSecurityGroups"
    resp = demo.put(f"/ports/{port['id']}", {"port": {"port_security_enabled": False}})
    assert resp.status_code == 409 and error_type(resp) == "PortSecurityPortHasSecurityGroup"
    resp = demo.put(
        f"/ports/{port['id']}", {"port": {"port_security_enabled": False, "security_groups": []}}
    )
    assert resp.status_code == 200 and resp.json()["port"]["security_groups"] == []


def test_security_group_of_another_project_refused(demo: Caller, alt: Caller) -> None:
    alien = alt.create("security-groups", "security_group", name="theirs")
    net = demo.create("networks", "network")
    resp = demo.post(
        "/ports", {"port": {"network_id": net["id"], "security_groups": [alien["id"]]}}
    )
    assert resp.status_code == 404 and error_type(resp) == "SecurityGroupNotFound"


def test_extra_dhcp_opts_injection_refused(demo: Caller) -> None:
    net = demo.create("networks", "network")
    ok = demo.create(
        "ports",
        "port",
        network_id=net["id"],
        extra_dhcp_opts=[
            {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
            {"opt_name": "dns-server", "opt_value": "1.1.1.1,8.8.8.8"},
            {"opt_name": "66", "opt_value": "tftp.example"},
        ],
    )
    assert ok["extra_dhcp_opts"][0] == {
        "opt_name": "bootfile-name",
        "opt_value": "pxelinux.0",
        "ip_version": 4,
    }
    bad_opts = [
        {"opt_name": "bootfile-name", "opt_value": "x\ndhcp-option=3,6.6.6.6"},
        {"opt_name": "bootfile-name", "opt_value": "x\rbad"},
        {"opt_name": "tag:foo,bootfile-name", "opt_value": "x"},
        {"opt_name": "bootfile-name\nserver=6.6.6.6", "opt_value": "x"},
        {"opt_name": "no-such-option", "opt_value": "x"},
        {"opt_name": "300", "opt_value": "x"},
        {"opt_name": "bootfile-name", "opt_value": "x", "ip_version": 5},
    ]
    for opt in bad_opts:
        resp = demo.post("/ports", {"port": {"network_id": net["id"], "extra_dhcp_opts": [opt]}})
        assert resp.status_code == 400, opt
        assert error_type(resp) == "HTTPBadRequest"
        resp = demo.put(f"/ports/{ok['id']}", {"port": {"extra_dhcp_opts": [opt]}})
        assert resp.status_code == 400, opt


def test_allowed_address_pairs(demo: Caller) -> None:
    net = demo.create("networks", "network")
    port = demo.create(
        "ports",
        "port",
        network_id=net["id"],
        allowed_address_pairs=[{"ip_address": "10.0.0.0/24"}],
    )
    assert port["allowed_address_pairs"] == [
        {"ip_address": "10.0.0.0/24", "mac_address": port["mac_address"]}
    ]
    resp = demo.post(
        "/ports",
        {
            "port": {
                "network_id": net["id"],
                "port_security_enabled": False,
                "allowed_address_pairs": [{"ip_address": "10.0.0.5"}],
            }
        },
    )
    assert resp.status_code == 409 and error_type(resp) == "AddressPairAndPortSecurityRequired"


def test_binding_is_admin_only_and_marks_the_port_up(admin: Caller, demo: Caller) -> None:
    net = demo.create("networks", "network")
    resp = demo.post("/ports", {"port": {"network_id": net["id"], "binding:host_id": "h1"}})
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"
    port = demo.create("ports", "port", network_id=net["id"])
    resp = admin.put(f"/ports/{port['id']}", {"port": {"binding:host_id": "host-1"}})
    assert resp.status_code == 200
    body = resp.json()["port"]
    assert body["binding:host_id"] == "host-1"
    assert body["binding:vif_type"] == "bridge"
    assert body["status"] == "ACTIVE"
    assert "binding:vif_type" not in demo.get(f"/ports/{port['id']}").json()["port"]


def test_port_isolation(demo: Caller, alt: Caller, admin: Caller) -> None:
    net = demo.create("networks", "network")
    port = demo.create("ports", "port", network_id=net["id"])
    resp = alt.get(f"/ports/{port['id']}")
    assert resp.status_code == 404 and error_type(resp) == "PortNotFound"
    resp = alt.post("/ports", {"port": {"network_id": net["id"]}})
    assert resp.status_code == 404 and error_type(resp) == "NetworkNotFound"
    shared = admin.create("networks", "network", shared=True)
    admin.create("subnets", "subnet", network_id=shared["id"], ip_version=4, cidr="10.5.0.0/24")
    mine = alt.create("ports", "port", network_id=shared["id"])
    assert mine["fixed_ips"][0]["ip_address"].startswith("10.5.0.")
    # Fixed addresses on someone else's shared network are for its owner to give.
    resp = alt.post(
        "/ports",
        {"port": {"network_id": shared["id"], "fixed_ips": [{"ip_address": "10.5.0.99"}]}},
    )
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"
    # The network's owner sees ports others made on it.
    assert admin.get(f"/ports/{mine['id']}").status_code == 200


def test_router_ports_cannot_be_deleted_directly(demo: Caller) -> None:
    net = demo.create("networks", "network")
    sub = demo.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.6.0.0/24")
    router = demo.create("routers", "router", name="r")
    resp = demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert resp.status_code == 200
    resp = demo.delete(f"/ports/{resp.json()['port_id']}")
    assert resp.status_code == 409 and error_type(resp) == "ServicePortInUse"


def test_list_ports_by_fixed_ips(net_with_subnet: MakeNet, demo: Caller) -> None:
    net, sub = net_with_subnet("10.13.0.0/24")
    one = demo.create(
        "ports", "port", network_id=net["id"], fixed_ips=[{"ip_address": "10.13.0.21"}]
    )
    two = demo.create(
        "ports", "port", network_id=net["id"], fixed_ips=[{"ip_address": "10.13.0.35"}]
    )

    def ids(query: str) -> set[str]:
        return {p["id"] for p in demo.get(f"/ports?{query}").json()["ports"]}

    assert ids("fixed_ips=ip_address%3D10.13.0.21") == {one["id"]}
    both = ids(f"fixed_ips=subnet_id%3D{sub['id']}")
    assert {one["id"], two["id"]} <= both
    assert ids("fixed_ips=ip_address_substr%3D10.13.0.3") == {two["id"]}
    assert ids(f"fixed_ips=ip_address%3D10.13.0.35&fixed_ips=subnet_id%3D{sub['id']}") == {
        two["id"]
    }
    assert demo.get("/ports?fixed_ips=bogus").status_code == 400
    assert ids(f"device_id=&network_id={net['id']}") == {one["id"], two["id"]}
