"""os-floating-ips, os-floating-ip-pools, the FIP server actions, os-networks and
os-tenant-networks, through the real networking API."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.compute._network_proxies import ProxyCloud
from tests.api.compute._network_proxies import proxy_cloud as proxy_cloud

FIP = "/os-floating-ips"


def _allocate(c: ProxyCloud, pool: str | None = "public") -> dict[str, Any]:
    resp = c.demo.post(FIP, {"pool": pool} if pool else None)
    assert resp.status_code == 200, resp.text
    fip: dict[str, Any] = resp.json()["floating_ip"]
    return fip


def test_pools_are_the_external_networks(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    resp = c.demo.get("/os-floating-ip-pools")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"floating_ip_pools": [{"name": "public"}]}
    assert c.demo.get("/os-floating-ip-pools", mv="2.36").status_code == 404


def test_allocate_show_list_release(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    fip = _allocate(c)
    assert fip["pool"] == "public" and fip["ip"].startswith("172.24.4.")
    assert fip["instance_id"] is None and fip["fixed_ip"] is None
    # By network id too, and with no body (the default pool).
    by_id = _allocate(c, c.public["id"])
    default = _allocate(c, None)
    assert by_id["pool"] == default["pool"] == "public"
    assert c.demo.get(f"{FIP}/{fip['id']}").json()["floating_ip"] == fip
    listed = c.demo.get(FIP).json()["floating_ips"]
    assert fip in listed and len(listed) == 3
    # Neutron holds it, in the caller's project; another project cannot see it.
    neutron = c.net_demo.get(f"/floatingips/{fip['id']}").json()["floatingip"]
    assert neutron["floating_ip_address"] == fip["ip"]
    assert c.alt.get(f"{FIP}/{fip['id']}").status_code == 404
    assert c.alt.get(FIP).json()["floating_ips"] == []
    assert c.demo.delete(f"{FIP}/{fip['id']}").status_code == 202
    assert c.demo.get(f"{FIP}/{fip['id']}").status_code == 404
    assert c.demo.delete(f"{FIP}/{fip['id']}").status_code == 404


def test_unknown_pool_and_bad_body(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    resp = c.demo.post(FIP, {"pool": "non_exist_pool"})
    assert resp.status_code == 404 and "itemNotFound" in resp.json()
    assert c.demo.post(FIP, {"pool": 5}).status_code == 400
    assert c.demo.get(f"{FIP}/{uuid.uuid4()}").status_code == 404
    assert c.demo.get(FIP, mv="2.36").status_code == 404


def test_associate_and_disassociate_through_server_actions(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    server = c.demo.boot(networks=[{"uuid": c.private["id"]}])
    c.demo.wait_status(server["id"], "ACTIVE")
    port = c.plug(server["id"])
    fip = _allocate(c)
    resp = c.demo.action(server["id"], {"addFloatingIp": {"address": fip["ip"]}})
    assert resp.status_code == 202, resp.text
    shown = c.demo.get(f"{FIP}/{fip['id']}").json()["floating_ip"]
    assert shown["instance_id"] == server["id"] and shown["fixed_ip"] == "10.0.0.10"
    neutron = c.net_demo.get(f"/floatingips/{fip['id']}").json()["floatingip"]
    assert neutron["port_id"] == port["id"]
    # A second floating IP for the same (only) port: 400, as Nova answers.
    second = _allocate(c)
    resp = c.demo.action(server["id"], {"addFloatingIp": {"address": second["ip"]}})
    assert resp.status_code == 400, resp.text
    # A fixed address the server does not have: 400; an unknown floating IP: 404.
    resp = c.demo.action(
        server["id"], {"addFloatingIp": {"address": second["ip"], "fixed_address": "10.0.0.99"}}
    )
    assert resp.status_code == 400
    nowhere = "198.51.100.7"  # allocated to nobody
    assert c.demo.action(server["id"], {"addFloatingIp": {"address": nowhere}}).status_code == 404
    resp = c.demo.action(server["id"], {"removeFloatingIp": {"address": nowhere}})
    assert resp.status_code == 404
    # Not associated with this server: 409.
    resp = c.demo.action(server["id"], {"removeFloatingIp": {"address": second["ip"]}})
    assert resp.status_code == 409, resp.text
    resp = c.demo.action(server["id"], {"removeFloatingIp": {"address": fip["ip"]}})
    assert resp.status_code == 202, resp.text
    assert c.demo.get(f"{FIP}/{fip['id']}").json()["floating_ip"]["instance_id"] is None
    # Removed at 2.44.
    resp = c.demo.action(server["id"], {"addFloatingIp": {"address": fip["ip"]}}, mv="2.44")
    assert resp.status_code == 404


def test_os_networks_shows_id_and_label(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    nets = c.demo.get("/os-networks").json()["networks"]
    by_label = {n["label"]: n for n in nets}
    assert by_label["private"]["id"] == c.private["id"]
    assert by_label["private"]["cidr"] is None and "bridge" not in by_label["private"]
    admin_view = c.admin.get(f"/os-networks/{c.private['id']}").json()["network"]
    assert admin_view["label"] == "private" and "bridge" in admin_view
    assert c.alt.get(f"/os-networks/{c.private['id']}").status_code == 404
    assert c.demo.get(f"/os-networks/{uuid.uuid4()}").status_code == 404
    assert c.admin.post("/os-networks", {"network": {"label": "x"}}).status_code == 410
    assert c.admin.delete(f"/os-networks/{c.private['id']}").status_code == 410
    assert c.demo.get("/os-networks", mv="2.36").status_code == 404


def test_os_tenant_networks_shows_the_subnet_cidr(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    nets = c.demo.get("/os-tenant-networks").json()["networks"]
    assert {"id": c.private["id"], "cidr": "10.0.0.0/24", "label": "private"} in nets
    assert c.private["id"] not in [
        n["id"] for n in c.alt.get("/os-tenant-networks").json()["networks"]
    ]
    shown = c.demo.get(f"/os-tenant-networks/{c.private['id']}").json()["network"]
    assert shown == {"id": c.private["id"], "cidr": "10.0.0.0/24", "label": "private"}
    assert c.alt.get(f"/os-tenant-networks/{c.private['id']}").status_code == 404
    assert c.demo.get("/os-tenant-networks", mv="2.36").status_code == 404


def test_unreachable_external_network_is_400(proxy_cloud: ProxyCloud) -> None:
    """A network no router joins to the pool: Neutron refuses, Nova answers 400."""
    c = proxy_cloud
    lonely = c.net_demo.create("networks", "network", name="lonely")
    # The same range as "private" (the fake host reports 10.0.0.10), but no router.
    subnet = c.net_demo.create(
        "subnets", "subnet", network_id=lonely["id"], cidr="10.0.0.0/24", ip_version=4
    )
    server = c.demo.boot(networks=[{"uuid": lonely["id"]}])
    c.demo.wait_status(server["id"], "ACTIVE")
    c.net_demo.create(
        "ports",
        "port",
        network_id=lonely["id"],
        device_id=server["id"],
        fixed_ips=[{"subnet_id": subnet["id"], "ip_address": "10.0.0.10"}],
    )
    fip = _allocate(c)
    resp = c.demo.action(server["id"], {"addFloatingIp": {"address": fip["ip"]}})
    assert resp.status_code == 400, resp.text
    assert "not reachable" in resp.json()["badRequest"]["message"]
