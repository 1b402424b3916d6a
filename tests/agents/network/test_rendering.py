"""Generated configuration (no root needed): names, dnsmasq files, nftables rules."""

from __future__ import annotations

import pytest

from kumo.agents.network import dhcp, router, security_groups
from kumo.agents.network.linux import names, nft
from tests.agents.network import netlab


def test_device_names_fit_linux_and_are_recognisable() -> None:
    rid = netlab.uid()
    for prefix in names.DEVICE_PREFIXES:
        name = names.device(prefix, rid)
        assert len(name) <= 15 and names.is_kumo_device(name)
    assert not names.is_kumo_device("eth0") and not names.is_kumo_device("tap1234")
    assert names.is_kumo_namespace(names.router_namespace(rid))
    assert not names.is_kumo_table("filter")


def test_nft_refuses_tables_that_are_not_kumos() -> None:
    with pytest.raises(ValueError, match="not Kumo's"):
        nft.replace_table("inet", "filter", "")
    with pytest.raises(ValueError, match="not Kumo's"):
        nft.delete_table("ip", "nat")


def test_dhcp_files(topo: netlab.Topology) -> None:
    topo.subnet["host_routes"] = [{"destination": "10.99.0.0/16", "nexthop": "10.90.1.254"}]
    topo.g1["dns_name"] = "web1"
    topo.g1["extra_dhcp_opts"] = [
        {"opt_name": "tftp-server", "opt_value": "10.90.1.5", "ip_version": 4},
        # Option injection attempts never reach the file.
        {"opt_name": "bootfile-name", "opt_value": "x\ndhcp-script=/bin/sh", "ip_version": 4},
        {"opt_name": "x,dhcp-script", "opt_value": "1", "ip_version": 4},
    ]
    hosts = dhcp.hosts_file(topo.state, topo.net["id"])
    assert f"fa:16:3e:00:90:0b,set:p{names.short(topo.g1['id'])},web1,10.90.1.11" in hosts
    assert "host-10-90-1-12,10.90.1.12" in hosts
    assert "10.90.1.2" not in hosts  # the DHCP port itself
    opts = dhcp.opts_file(topo.state, topo.net["id"])
    tag = f"tag:s{names.short(topo.subnet['id'])}"
    assert f"{tag},option:router,10.90.1.1" in opts
    assert f"{tag},option:dns-server,10.90.1.2" in opts
    assert "10.99.0.0/16,10.90.1.254,0.0.0.0/0,10.90.1.1" in opts
    assert "option:tftp-server,10.90.1.5" in opts
    assert "dhcp-script" not in opts and "\nx" not in opts
    argv = dhcp.DhcpServer(__import__("pathlib").Path("/s"), topo.net["id"]).command(
        topo.state, "ns-x"
    )
    assert "--no-resolv" in argv and "--no-hosts" in argv and "--conf-file=/dev/null" in argv


def test_router_nat(topo: netlab.Topology) -> None:
    plan = router.plan(topo.state, topo.router)
    body = router.nat_ruleset(plan)
    assert "ip daddr 198.51.100.20 dnat to 10.90.1.11" in body
    assert f'ip saddr 10.90.1.11 oifname "qg-{names.short(plan.gateway["id"])}"' in body  # type: ignore[index]
    assert "ip saddr { 10.90.1.0/24 }" in body and "snat to 198.51.100.10" in body
    topo.router["external_gateway_info"]["enable_snat"] = False
    assert "snat to 198.51.100.10" not in router.nat_ruleset(router.plan(topo.state, topo.router))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
            "meta nfproto ipv4 meta l4proto 6 th dport 22-22",
        ),
        (
            {"protocol": "icmp", "port_range_min": 8, "port_range_max": 0},
            "meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0",
        ),
        (
            {"protocol": "udp", "remote_ip_prefix": "192.0.2.0/24"},
            "meta nfproto ipv4 ip saddr 192.0.2.0/24 meta l4proto 17",
        ),
        ({"ethertype": "IPv6", "protocol": "ipv6-icmp"}, "meta nfproto ipv6 meta l4proto 58"),
        ({"protocol": "47"}, "meta nfproto ipv4 meta l4proto 47"),
        ({"protocol": "tcp; drop"}, None),
        ({"remote_ip_prefix": "10.0.0.0/8 accept"}, None),
        ({"ethertype": "IPv4", "remote_ip_prefix": "2001:db8::/32"}, None),
    ],
)
def test_security_group_rule_match(rule: dict[str, object], expected: str | None) -> None:
    body = {"direction": "ingress", "ethertype": "IPv4", **rule}
    assert security_groups.rule_match(body) == expected


def test_security_group_tables(topo: netlab.Topology) -> None:
    topo.g2["allowed_address_pairs"] = [{"ip_address": "10.90.1.0/28"}]
    topo.g1["port_security_enabled"] = False
    bridge, inet = security_groups.render(topo.state)
    assert names.tap(topo.g1["id"]) not in bridge  # port security off: not filtered
    assert names.tap(topo.g2["id"]) in bridge
    assert "10.90.1.0/28" in bridge and "fa:16:3e:00:90:0c" in bridge
    assert "ct state established,related accept" in inet
    assert "@rg4_" in inet  # remote group rule of the default group
