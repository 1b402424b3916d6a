"""The data plane end to end with namespaces as guests: DHCP, router, FIP, security groups."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kumo.agents.network.dhcp import DhcpServer
from kumo.agents.network.linux import ip, names, nft
from kumo.agents.network.plane import DataPlane
from tests.agents.network import netlab


def _bridge_nf_on() -> bool:
    try:
        return Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip() == "1"
    except OSError:
        return False


@pytest.fixture
def guests(state_dir: Path, topo: netlab.Topology):  # type: ignore[no-untyped-def]
    made: list[netlab.Guest] = []
    yield made
    for guest in made:
        guest.stop()


def _up(state_dir: Path, topo: netlab.Topology, guests: list[netlab.Guest]) -> DataPlane:
    for name, p in (("g1", topo.g1), ("g2", topo.g2)):
        guests.append(netlab.make_guest(topo.tag, name, p, prefixlen=24, gateway="10.90.1.1"))
    plane = DataPlane(state_dir)
    assert plane.apply(topo.state)
    return plane


def test_apply_builds_everything_and_is_idempotent(
    state_dir: Path, topo: netlab.Topology, guests: list[netlab.Guest]
) -> None:
    plane = _up(state_dir, topo, guests)
    bridge = ip.get_link(names.bridge(topo.net["id"]))
    assert bridge is not None and bridge.kind == "bridge"
    assert ip.get_link(names.tap(topo.g1["id"])).master == bridge.name  # type: ignore[union-attr]
    assert "198.51.100.1/24" in ip.list_addresses(names.EXTERNAL_BRIDGE)
    rns = names.router_namespace(topo.router["id"])
    assert ip.namespace_exists(rns)
    assert ip.namespace_exists(names.dhcp_namespace(topo.net["id"]))
    ruleset = nft.table_text("ip", "kumo-router", netns=rns) or ""
    assert "dnat to 10.90.1.11" in ruleset and "snat to 198.51.100.20" in ruleset
    # Second run: nothing to do.
    assert plane.apply(topo.state) == []
    # Drift: a deleted router namespace and a deleted security group table come back.
    ip.delete_namespace(rns)
    nft.delete_table("inet", "kumo-sg")
    changes = plane.apply(topo.state)
    assert f"router {topo.router['id']}" in changes and "security groups" in changes
    assert ip.namespace_exists(rns)
    assert nft.table_text("inet", "kumo-sg") is not None
    assert plane.apply(topo.state) == []


def test_guest_gets_its_address_by_dhcp(
    state_dir: Path, topo: netlab.Topology, guests: list[netlab.Guest]
) -> None:
    plane = DataPlane(state_dir)
    guest = netlab.make_guest(topo.tag, "d1", topo.g1, prefixlen=24, gateway=None, static=False)
    guests.append(guest)
    plane.apply(topo.state)
    script = state_dir / "udhcpc.sh"
    script.write_text('#!/bin/sh\necho "$1 ip=$ip router=$router dns=$dns" >> "$0.log"\n')
    script.chmod(0o755)
    netlab.sh(
        "busybox",
        "udhcpc",
        "-i",
        "eth0",
        "-n",
        "-q",
        "-f",
        "-t",
        "10",
        "-T",
        "1",
        "-s",
        str(script),
        netns=guest.netns,
    )
    log = (state_dir / "udhcpc.sh.log").read_text()
    assert "bound ip=10.90.1.11 router=10.90.1.1 dns=10.90.1.2" in log
    # A port change rewrites the hosts file; dnsmasq runs on with the lease kept.
    server = DhcpServer(state_dir, topo.net["id"])
    topo.g2["fixed_ips"][0]["ip_address"] = "10.90.1.42"
    assert f"dhcp {topo.net['id']}" in plane.apply(topo.state)
    assert server.pid() is not None
    assert "10.90.1.42" in server.hostsfile.read_text()
    assert "10.90.1.11" in server.leasefile.read_text()
    # Renewing the lease works against the new process.
    netlab.sh(
        "busybox",
        "udhcpc",
        "-i",
        "eth0",
        "-n",
        "-q",
        "-f",
        "-t",
        "10",
        "-T",
        "1",
        "-s",
        str(script),
        netns=guest.netns,
    )
    assert log.count("bound ip=10.90.1.11") < (state_dir / "udhcpc.sh.log").read_text().count(
        "bound ip=10.90.1.11"
    )


def test_floating_ip_reaches_guest_from_host(
    state_dir: Path, topo: netlab.Topology, guests: list[netlab.Guest]
) -> None:
    _up(state_dir, topo, guests)
    guests[0].listen(8080, "g1")
    # The host reaches the floating IP through kbr-ext; the guest sees the host's address.
    assert netlab.connect_ok("198.51.100.20", 8080, netns=None) == "g1 198.51.100.1"


@pytest.mark.skipif(not _bridge_nf_on(), reason="br_netfilter bridge-nf-call-iptables is off")
def test_security_groups_filter_and_stop_spoofing(
    state_dir: Path, topo: netlab.Topology, guests: list[netlab.Guest]
) -> None:
    plane = _up(state_dir, topo, guests)
    g1, g2 = guests
    g1.listen(8080, "g1")
    g1.listen(9090, "g1-closed")
    g2.listen(7070, "g2")
    # web group: 8080 open to all, 9090 not.
    assert netlab.connect_ok("10.90.1.11", 8080, netns=g2.netns) == "g1 10.90.1.12"
    assert netlab.connect("10.90.1.11", 9090, netns=g2.netns, timeout=1).startswith("ERROR")
    # default group: only members of the group may reach g2; g1 is not one.
    assert netlab.connect("10.90.1.12", 7070, netns=g1.netns, timeout=1).startswith("ERROR")
    topo.sg_web["security_group_rules"].append(
        netlab.rule(
            topo.sg_web,
            "ingress",
            protocol="tcp",
            port_range_min=9090,
            port_range_max=9090,
            remote_group_id=topo.sg_default["id"],
        )
    )
    started = time.monotonic()
    plane.apply(topo.state)
    assert time.monotonic() - started < 5
    assert netlab.connect_ok("10.90.1.11", 9090, netns=g2.netns) == "g1-closed 10.90.1.12"
    # Spoofing: g2 sends from an address that is not its own → dropped.
    netlab.sh("ip", "addr", "add", "10.90.1.99/24", "dev", "eth0", netns=g2.netns)
    spoofed = netlab.connect("10.90.1.11", 8080, netns=g2.netns, source="10.90.1.99", timeout=1)
    assert spoofed.startswith("ERROR")
    # ...unless the address is an allowed address pair of the port.
    topo.g2["allowed_address_pairs"] = [{"ip_address": "10.90.1.99"}]
    plane.apply(topo.state)
    assert netlab.connect_ok("10.90.1.11", 8080, netns=g2.netns, source="10.90.1.99") == (
        "g1 10.90.1.99"
    )


def test_router_connects_networks_and_snats_to_the_outside(
    state_dir: Path, topo: netlab.Topology, guests: list[netlab.Guest]
) -> None:
    # A second private network on the same router, with one guest.
    net_b = {"id": netlab.uid(), "name": "private-b", "mtu": 1450}
    sub_b = {
        "id": netlab.uid(),
        "network_id": net_b["id"],
        "cidr": "10.90.2.0/24",
        "gateway_ip": "10.90.2.1",
        "enable_dhcp": False,
    }
    rif_b = netlab.port(
        net_b, sub_b, "10.90.2.1", 21, "network:router_interface", topo.router["id"]
    )
    g3 = netlab.port(
        net_b, sub_b, "10.90.2.13", 23, "compute:nova", security_groups=[topo.sg_web["id"]]
    )
    topo.state.networks.append(net_b)
    topo.state.subnets.append(sub_b)
    topo.state.ports += [rif_b, g3]
    guests.append(netlab.make_guest(topo.tag, "g3", g3, prefixlen=24, gateway="10.90.2.1"))
    _up(state_dir, topo, guests)
    g3_guest, g1, g2 = guests
    g1.listen(8080, "g1")
    # East-west through the router: no NAT, the guest sees the other network's address.
    assert netlab.connect_ok("10.90.1.11", 8080, netns=g3_guest.netns) == "g1 10.90.2.13"
    # North: a guest without a floating IP leaves as the router's gateway address,
    # a guest with one as its floating IP (a listener on Kumo's external bridge).
    host = netlab.listen(None, 18080, "host", "198.51.100.1")
    try:
        assert netlab.connect_ok("198.51.100.1", 18080, netns=g2.netns) == "host 198.51.100.10"
        assert netlab.connect_ok("198.51.100.1", 18080, netns=g1.netns) == "host 198.51.100.20"
    finally:
        host.kill()
        host.wait(timeout=10)
