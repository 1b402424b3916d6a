"""os-security-groups, os-security-group-rules and a server's groups, through real Neutron."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from tests.api.compute._network_proxies import ProxyCloud
from tests.api.compute._network_proxies import proxy_cloud as proxy_cloud

SG = "/os-security-groups"
RULES = "/os-security-group-rules"


def _create(c: ProxyCloud, name: str = "web", description: str = "web servers") -> dict[str, Any]:
    resp = c.demo.post(SG, {"security_group": {"name": name, "description": description}})
    assert resp.status_code == 200, resp.text
    group: dict[str, Any] = resp.json()["security_group"]
    return group


def test_create_show_list_update_delete(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    group = _create(c, " spaced name ")
    assert group["name"] == " spaced name " and group["description"] == "web servers"
    assert group["rules"] == []  # Neutron's default egress rules are not nova-network rules
    assert group["tenant_id"] == c.private["project_id"]
    shown = c.demo.get(f"{SG}/{group['id']}").json()["security_group"]
    assert shown == group
    listed = c.demo.get(SG).json()["security_groups"]
    assert group in listed and any(g["name"] == "default" for g in listed)
    assert [(g["tenant_id"], g["name"]) for g in listed] == sorted(
        (g["tenant_id"], g["name"]) for g in listed
    )
    # Another project does not see it.
    assert c.alt.get(f"{SG}/{group['id']}").status_code == 404
    assert group["id"] not in [g["id"] for g in c.alt.get(SG).json()["security_groups"]]
    resp = c.demo.put(
        f"{SG}/{group['id']}", {"security_group": {"name": "n2", "description": "d2"}}
    )
    assert resp.status_code == 200, resp.text
    again = c.demo.get(f"{SG}/{group['id']}").json()["security_group"]
    assert (again["name"], again["description"]) == ("n2", "d2")
    assert c.demo.delete(f"{SG}/{group['id']}").status_code == 202
    assert c.demo.get(f"{SG}/{group['id']}").status_code == 404


def test_admin_lists_every_project_with_all_tenants(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    group = _create(c)
    mine = c.admin.get(SG).json()["security_groups"]
    assert group["id"] not in [g["id"] for g in mine]
    everyone = c.admin.get(SG + "?all_tenants=1").json()["security_groups"]
    assert group["id"] in [g["id"] for g in everyone]
    # all_tenants means nothing for a non-admin.
    assert group["id"] not in [
        g["id"] for g in c.alt.get(SG + "?all_tenants=1").json()["security_groups"]
    ]


def test_bad_ids_and_bodies_are_400_missing_groups_404(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    assert c.demo.get(f"{SG}/not-a-uuid").status_code == 400
    missing = str(uuid.uuid4())
    resp = c.demo.get(f"{SG}/{missing}")
    assert resp.status_code == 404 and "itemNotFound" in resp.json()
    assert c.demo.delete(f"{SG}/{missing}").status_code == 404
    assert c.demo.delete(f"{SG}/").status_code == 404  # no id: not found, not 405
    assert (
        c.demo.put(
            f"{SG}/{missing}", {"security_group": {"name": "a", "description": "b"}}
        ).status_code
        == 404
    )
    assert c.demo.post(SG, {"security_group": {"name": "x"}}).status_code == 400
    assert (
        c.demo.post(SG, {"security_group": {"name": "x" * 256, "description": ""}}).status_code
        == 400
    )
    assert c.demo.post(SG, {}).status_code == 400
    group = _create(c)
    resp = c.demo.put(f"{SG}/{group['id']}", {"security_group": {"name": 5, "description": "d"}})
    assert resp.status_code == 400, resp.text


def test_the_default_group_cannot_be_deleted(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    default = next(g for g in c.demo.get(SG).json()["security_groups"] if g["name"] == "default")
    resp = c.demo.delete(f"{SG}/{default['id']}")
    assert resp.status_code == 400, resp.text
    assert "badRequest" in resp.json()


def test_removed_after_2_35(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    assert c.demo.get(SG, mv="2.35").status_code == 200
    assert c.demo.get(SG, mv="2.36").status_code == 404
    assert c.demo.post(RULES, {}, mv="2.36").status_code == 404


def test_rules_cidr_and_group_sources(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    group, peer = _create(c, "g1"), _create(c, "g2")
    body = {
        "parent_group_id": group["id"],
        "ip_protocol": "tcp",
        "from_port": 22,
        "to_port": 22,
        "cidr": "10.1.0.0/16",
    }
    resp = c.demo.post(RULES, {"security_group_rule": body})
    assert resp.status_code == 200, resp.text
    rule = resp.json()["security_group_rule"]
    assert rule["ip_protocol"] == "tcp" and (rule["from_port"], rule["to_port"]) == (22, 22)
    assert rule["ip_range"] == {"cidr": "10.1.0.0/16"} and rule["group"] == {}
    assert rule["parent_group_id"] == group["id"]
    # A source group, no ports: the whole range, as Nova fills it in.
    body2 = {"parent_group_id": group["id"], "ip_protocol": "udp", "group_id": peer["id"]}
    resp = c.demo.post(RULES, {"security_group_rule": body2})
    assert resp.status_code == 200, resp.text
    rule2 = resp.json()["security_group_rule"]
    assert (rule2["from_port"], rule2["to_port"]) == (1, 65535)
    assert rule2["group"] == {"name": "g2", "tenant_id": peer["tenant_id"]}
    # The group shows both (ingress) rules; Neutron holds them for real.
    shown = c.demo.get(f"{SG}/{group['id']}").json()["security_group"]
    assert {r["id"] for r in shown["rules"]} == {rule["id"], rule2["id"]}
    neutron = c.net_demo.get(f"/security-group-rules/{rule['id']}").json()["security_group_rule"]
    assert (neutron["direction"], neutron["port_range_min"], neutron["remote_ip_prefix"]) == (
        "ingress",
        22,
        "10.1.0.0/16",
    )
    # The same rule again is 400; deleting it is 202, then 404.
    assert c.demo.post(RULES, {"security_group_rule": body}).status_code == 400
    assert c.demo.delete(f"{RULES}/{rule['id']}").status_code == 202
    assert c.demo.delete(f"{RULES}/{rule['id']}").status_code == 404
    assert c.demo.delete(f"{RULES}/not-a-uuid").status_code == 400
    # The peer group's deletion takes its rules with it; the listing skips nothing broken.
    assert c.demo.delete(f"{SG}/{peer['id']}").status_code == 202
    assert c.demo.get(f"{SG}/{group['id']}").json()["security_group"]["rules"] == []


def test_rule_validation_like_nova(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    group = _create(c)
    gid = group["id"]

    def post(**rule: Any) -> int:
        resp = c.demo.post(RULES, {"security_group_rule": {"parent_group_id": gid, **rule}})
        return resp.status_code

    assert post(ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/8") == 200
    # An address with host bits names its network (how Neutron stores the text is its own).
    resp = c.demo.post(
        RULES,
        {
            "security_group_rule": {
                "parent_group_id": gid, "ip_protocol": "tcp", "from_port": 80,
                "to_port": 80, "cidr": "10.2.3.124/24",
            }
        },
    )  # fmt: skip
    shown = resp.json()["security_group_rule"]["ip_range"]["cidr"]
    assert ipaddress.ip_network(shown, strict=False) == ipaddress.ip_network("10.2.3.0/24")
    # The same rule written with other host bits is a duplicate.
    resp = c.demo.post(
        RULES,
        {
            "security_group_rule": {
                "parent_group_id": gid, "ip_protocol": "tcp", "from_port": 80,
                "to_port": 80, "cidr": "10.2.3.7/24",
            }
        },
    )  # fmt: skip
    assert resp.status_code == 400, resp.text
    assert post(ip_protocol="foo", from_port=22, to_port=22) == 400  # protocol
    assert post(ip_protocol="tcp", from_port="x", to_port=22) == 400  # not an integer
    assert post(ip_protocol="tcp", from_port=0, to_port=22) == 400  # below 1
    assert post(ip_protocol="tcp", from_port=22, to_port=65536) == 400  # above 65535
    assert post(ip_protocol="tcp", from_port=30, to_port=20) == 400  # reversed
    assert post(ip_protocol="icmp", from_port=256, to_port=0) == 400  # icmp type
    assert post(ip_protocol="tcp", from_port=1, to_port=2, cidr="bogus") == 400
    assert post(ip_protocol="tcp", from_port=1, to_port=2, cidr="10.0.0.1/0") == 400
    assert post(cidr="10.0.0.0/8") == 400  # not enough to build a rule
    assert post(ip_protocol="tcp", from_port=1, to_port=2, group_id="bad") == 400
    assert post(ip_protocol="tcp", from_port=1, to_port=2, group_id=str(uuid.uuid4())) == 404
    resp = c.demo.post(
        RULES,
        {
            "security_group_rule": {
                "parent_group_id": str(uuid.uuid4()),
                "ip_protocol": "tcp",
                "from_port": 1,
                "to_port": 2,
            }
        },
    )
    assert resp.status_code == 404
    resp = c.demo.post(
        RULES,
        {
            "security_group_rule": {
                "parent_group_id": "nope",
                "ip_protocol": "tcp",
                "from_port": 1,
                "to_port": 2,
            }
        },
    )
    assert resp.status_code == 400


def test_server_groups_follow_the_ports(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    group, other = _create(c, "web"), _create(c, "db")
    server = c.demo.boot(networks=[{"uuid": c.private["id"]}])
    c.demo.wait_status(server["id"], "ACTIVE")
    port = c.plug(server["id"])
    listed = c.demo.get(f"/servers/{server['id']}/os-security-groups").json()["security_groups"]
    assert [g["name"] for g in listed] == ["default"]
    resp = c.demo.action(server["id"], {"addSecurityGroup": {"name": "web"}})
    assert resp.status_code == 202, resp.text
    ports = c.net_demo.get(f"/ports/{port['id']}").json()["port"]
    assert group["id"] in ports["security_groups"]
    listed = c.demo.get(f"/servers/{server['id']}/os-security-groups").json()["security_groups"]
    assert [g["id"] for g in listed if g["name"] == "web"] == [group["id"]]
    # In use by a port: Nova answers 400.
    resp = c.demo.delete(f"{SG}/{group['id']}")
    assert resp.status_code == 400, resp.text
    assert c.demo.action(server["id"], {"addSecurityGroup": {"name": "nope"}}).status_code == 404
    resp = c.demo.action(server["id"], {"removeSecurityGroup": {"name": "web"}})
    assert resp.status_code == 202, resp.text
    ports = c.net_demo.get(f"/ports/{port['id']}").json()["port"]
    assert group["id"] not in ports["security_groups"]
    assert c.demo.delete(f"{SG}/{group['id']}").status_code == 202
    # The server's list for another project's caller: 404 (the server is hidden).
    assert c.alt.get(f"/servers/{server['id']}/os-security-groups").status_code == 404
    del other


def test_over_quota_is_403(proxy_cloud: ProxyCloud) -> None:
    c = proxy_cloud
    project = c.private["project_id"]
    resp = c.net_admin.put(f"/quotas/{project}", {"quota": {"security_group": 1}})
    assert resp.status_code == 200, resp.text
    # The project already has its "default" group: one more is over the quota.
    resp = c.demo.post(SG, {"security_group": {"name": "extra", "description": ""}})
    assert resp.status_code == 403, resp.text
    assert "forbidden" in resp.json()
