"""IPv6 through routers, and the network MTU handed to guests.

Two IPv6 SLAAC networks hang off one router. Namespaces standing in for guests
(``accept_ra=2``, as in netlab) must get their SLAAC address, a default route via
the router's link-local address and the network MTU from the router's
advertisements, and reach each other over TCP through the router (routed, no
NAT; IPv6 security group rules apply). Detaching an interface, or deleting the
router, withdraws the route at once (a last advertisement with router lifetime 0).

For IPv4, the network MTU goes out as DHCP option 26: a real busybox udhcpc lease
in a guest namespace prints it.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from kumo.agents.network import dhcp, ownership, router, router_advert
from kumo.agents.network.cleanup import remove_owned
from kumo.agents.network.linux import names
from kumo.agents.network.plane import DataPlane
from kumo.agents.network.source import ApiStateSource
from kumo.agents.network.state import ROUTER_INTERFACE_OWNERS, DesiredState
from kumo.common.clients.base import ServiceSession
from kumo.network.service.ipam import eui64
from tests.agents.network import netlab
from tests.conftest import issue

PREFIXES = ("fd00:94:0:1::/64", "fd00:94:0:2::/64")
MTUS = (1450, 1400)
V2 = "/networking/v2.0"
WAIT = 45.0  # seconds; a busy 2-core host answers within a few


#: Run inside a guest namespace: solicit router advertisements and send a DHCPv6
#: information request; print what came back as JSON (bounded: a few seconds).
PROBE = textwrap.dedent(
    """
    import json, select, socket, struct, sys, time
    dev, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    index = socket.if_nametoindex(dev)
    icmp = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    icmp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    icmp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    icmp.sendto(struct.pack("!BBHI", 133, 0, 0, 0), ("ff02::2", 0, 0, index))
    dhcp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    dhcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    dhcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    dhcp.bind(("::", 546, 0, index))
    duid = struct.pack("!HH", 3, 1) + mac
    ir = bytes([11, 1, 2, 3]) + struct.pack("!HH", 1, len(duid)) + duid
    ir += struct.pack("!HHH", 8, 2, 0) + struct.pack("!HHH", 6, 2, 23)
    dhcp.sendto(ir, ("ff02::1:2", 547, 0, index))
    ras, replies = [], []
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        ready, _, _ = select.select([icmp, dhcp], [], [], 0.2)
        for sock in ready:
            data, peer = sock.recvfrom(2000)
            if sock is icmp and data[0] == 134:
                ra = {"source": peer[0].split("%")[0], "flags": data[5],
                      "lifetime": struct.unpack("!H", data[6:8])[0], "prefixes": [], "mtu": None}
                at = 16
                while at + 2 <= len(data) and data[at + 1]:
                    kind, size = data[at], data[at + 1] * 8
                    if kind == 3:
                        ra["prefixes"].append({"flags": data[at + 3],
                            "prefix": socket.inet_ntop(socket.AF_INET6, data[at + 16:at + 32])})
                    elif kind == 5:
                        ra["mtu"] = struct.unpack("!I", data[at + 4:at + 8])[0]
                    at += size
                ras.append(ra)
            elif sock is dhcp and data[0] == 7 and data[1:4] == bytes([1, 2, 3]):
                dns, at = [], 4
                while at + 4 <= len(data):
                    code, size = struct.unpack("!HH", data[at:at + 4])
                    if code == 23:
                        dns += [socket.inet_ntop(socket.AF_INET6, data[i:i + 16])
                                for i in range(at + 4, at + 4 + size, 16)]
                    at += 4 + size
                replies.append({"source": peer[0].split("%")[0], "dns": dns})
    print(json.dumps({"ras": ras, "replies": replies}))
    """
)


class Guests(list[netlab.Guest]):
    """Guest namespaces of one test, claimed as a cloud of their own.

    Other test runs on the host remove Kumo namespaces no live cloud claims
    (``remove_unclaimed``); the claim keeps them from deleting these mid-test.
    """

    def __init__(self, claims: Path) -> None:
        super().__init__()
        self.record = ownership.Ownership(claims)

    def add(self, guest: netlab.Guest) -> netlab.Guest:
        self.append(guest)
        self.record.save(ownership.Owned(namespaces={g.netns for g in self}))
        return guest


@pytest.fixture
def guests(state_dir: Path) -> Iterator[Guests]:
    """Guest namespaces made by the test; deleted afterwards, pass or fail."""
    made = Guests(state_dir / "guest-claims")
    yield made
    for guest in made:
        guest.stop()
    made.record.release()


def _v6_pair() -> tuple[DesiredState, dict[str, Any]]:
    """Two SLAAC networks with DHCP ports, one router on both, a guest port on each.

    The guests' security group allows IPv6 TCP 8080 in (8081 stays closed) and
    everything out.
    """
    sg: dict[str, Any] = {"id": netlab.uid(), "name": "v6web", "security_group_rules": []}
    sg["security_group_rules"] = [
        netlab.rule(sg, "egress", ethertype="IPv6"),
        netlab.rule(
            sg,
            "ingress",
            ethertype="IPv6",
            protocol="tcp",
            port_range_min=8080,
            port_range_max=8080,
            remote_ip_prefix="::/0",
        ),
    ]
    r: dict[str, Any] = {"id": netlab.uid(), "name": "r6", "routes": []}
    r["external_gateway_info"] = None
    state = DesiredState(routers=[r], security_groups=[sg])
    parts: dict[str, Any] = {"router": r, "sg": sg, "nets": [], "subnets": [], "rifs": []}
    parts["guests"] = []
    for n, (prefix, mtu) in enumerate(zip(PREFIXES, MTUS, strict=True)):
        net = {"id": netlab.uid(), "name": f"v6net{n}", "mtu": mtu}
        subnet = {
            "id": netlab.uid(),
            "network_id": net["id"],
            "cidr": prefix,
            "ip_version": 6,
            "gateway_ip": prefix.replace("::/64", "::1"),
            "enable_dhcp": True,
            "ipv6_ra_mode": "slaac",
            "ipv6_address_mode": "slaac",
            "dns_nameservers": [],
            "host_routes": [],
        }
        base = 0x40 + 0x10 * n
        dhcp_port = _port(net, subnet, base + 2, "network:dhcp")
        rif = _port(net, subnet, base + 1, "network:router_interface", device=r["id"])
        rif["fixed_ips"][0]["ip_address"] = subnet["gateway_ip"]
        guest = _port(net, subnet, base + 3, "compute:nova", security_groups=[sg["id"]])
        state.networks.append(net)
        state.subnets.append(subnet)
        state.ports += [dhcp_port, rif, guest]
        parts["nets"].append(net)
        parts["subnets"].append(subnet)
        parts["rifs"].append(rif)
        parts["guests"].append(guest)
    return state, parts


def _port(
    net: dict[str, Any], subnet: dict[str, Any], n: int, owner: str, **extra: Any
) -> dict[str, Any]:
    """A port whose address is the SLAAC (EUI-64) one of its MAC, as the API's IPAM gives."""
    ip = eui64(str(subnet["cidr"]), netlab.mac(n))
    return netlab.port(net, subnet, ip, n, owner, **extra)


def _link_local(port: dict[str, Any]) -> str:
    return eui64("fe80::/64", str(port["mac_address"]))


def _v6_guest(tag: str, n: int, port: dict[str, Any]) -> netlab.Guest:
    guest = netlab.make_guest(tag, f"v6g{n}", port, prefixlen=64, gateway=None, static=False)
    for key, value in (("accept_ra", "2"), ("autoconf", "1"), ("use_tempaddr", "0")):
        netlab.sh("sysctl", "-qw", f"net.ipv6.conf.eth0.{key}={value}", netns=guest.netns)
    return guest


def _solicit(guest: netlab.Guest) -> None:
    """Bounce the guest's link so it sends a router solicitation at once."""
    netlab.sh("ip", "link", "set", "eth0", "down", netns=guest.netns)
    netlab.sh("ip", "link", "set", "eth0", "up", netns=guest.netns)


def _global_v6(netns: str) -> list[str]:
    out = netlab.sh("ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "global", netns=netns)
    entries = json.loads(out or "[]")
    return [a["local"] for e in entries for a in e.get("addr_info", []) if "local" in a]


def _default_routers(netns: str) -> list[str]:
    out = netlab.sh("ip", "-j", "-6", "route", "show", "default", netns=netns)
    routes = json.loads(out or "[]")
    hops = [str(r["gateway"]) for r in routes if r.get("gateway")]
    for r in routes:  # several routers: one multipath entry
        hops += [str(h["gateway"]) for h in r.get("nexthops", []) if h.get("gateway")]
    return hops


def _ipv6_mtu(netns: str) -> int:
    return int(netlab.sh("cat", "/proc/sys/net/ipv6/conf/eth0/mtu", netns=netns))


def _slaac_and_route(guest: netlab.Guest, hop: str) -> bool:
    return guest.ip in _global_v6(guest.netns) and hop in _default_routers(guest.netns)


def _has_ipv6_mtu(guest: netlab.Guest, mtu: int) -> bool:
    return _ipv6_mtu(guest.netns) == mtu


def _plane(state_dir: Path) -> DataPlane:
    # Security group tables of this test's own (other test runs on the host replace
    # the shared ``kumo-sg`` tables with their state).
    return DataPlane(state_dir, isolate_security_groups=True)


def _poll(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


# Rendering (no root needed)


def test_router_advertises_its_ipv6_subnets_with_mtu() -> None:
    state, parts = _v6_pair()
    p = router.plan(state, parts["router"])
    assert sorted(a.prefix for a in p.advertised) == sorted(PREFIXES)
    assert {a.mode for a in p.advertised} == {"ra-only"}
    argv = router_advert.RouterAdvertiser(Path("/nonexistent"), parts["router"]["id"]).command(
        p.advertised
    )
    for rif, prefix, mtu in zip(parts["rifs"], PREFIXES, MTUS, strict=True):
        dev = router.interface_device(rif)
        assert f"--interface={dev}" in argv
        assert f"--dhcp-range={prefix.split('/')[0]},ra-only,64,86400s" in argv
        lifetime = router_advert.ROUTER_LIFETIME
        assert f"--ra-param={dev},mtu:{mtu},{router_advert.RA_INTERVAL},{lifetime}" in argv
    assert "--enable-ra" in argv and "--port=0" in argv
    # DHCPv6 stays with the DHCP namespace even for stateless/stateful subnets.
    assert "--dhcp-ignore=tag:dhcpv6" in argv
    # No NAT for IPv6: the router's only table is ``ip`` (IPv4) and names no IPv6 prefix.
    assert "fd00:" not in router.nat_ruleset(p)


def test_ra_modes_follow_neutron() -> None:
    state, parts = _v6_pair()
    expected = {
        "slaac": "ra-only",
        "dhcpv6-stateless": "ra-stateless",
        "dhcpv6-stateful": "static",
    }
    for ra_mode, range_mode in expected.items():
        for subnet in state.subnets:
            subnet["ipv6_ra_mode"] = subnet["ipv6_address_mode"] = ra_mode
        p = router.plan(state, parts["router"])
        assert {a.mode for a in p.advertised} == {range_mode}, ra_mode
    # Without ipv6_ra_mode an outside router advertises: Kumo's router stays quiet.
    for subnet in state.subnets:
        subnet["ipv6_ra_mode"] = None
    assert router.plan(state, parts["router"]).advertised == []
    assert router_advert.advertised_subnet_ids(state) == set()


def test_dhcp_namespace_stops_advertising_a_routed_subnet(tmp_path: Path) -> None:
    state, parts = _v6_pair()
    net_id = str(parts["nets"][0]["id"])
    server = dhcp.DhcpServer(tmp_path, net_id)
    routed = server.command(state, "ns-x")
    assert "--enable-ra" not in routed
    assert not any(",ra-only," in a for a in routed)
    # Detached from the router: the DHCP namespace advertises the prefix again (router
    # lifetime 0, the network MTU).
    detached = replace(state, ports=[p for p in state.ports if p is not parts["rifs"][0]])
    argv = server.command(detached, "ns-x")
    assert "--enable-ra" in argv
    assert f"--ra-param=ns-x,mtu:{MTUS[0]},{dhcp.RA_INTERVAL},0" in argv
    assert any(",ra-only,64," in a for a in argv)
    # Deleting the router has the same effect.
    assert "--enable-ra" in server.command(replace(state, routers=[]), "ns-x")


def test_dhcp_options_carry_the_network_mtu() -> None:
    topo = netlab.topology()
    opts = dhcp.opts_file(topo.state, str(topo.net["id"]))
    assert f"tag:s{names.short(topo.subnet['id'])},option:mtu,1450" in opts
    # No MTU on the network: no option (the guest keeps its link's).
    del topo.net["mtu"]
    assert "option:mtu" not in dhcp.opts_file(topo.state, str(topo.net["id"]))
    topo.net["mtu"] = "1450; evil"
    assert "option:mtu" not in dhcp.opts_file(topo.state, str(topo.net["id"]))


# Data plane (root, namespaces)


def test_ipv6_guests_route_through_the_router(state_dir: Path, guests: Guests) -> None:
    state, parts = _v6_pair()
    tag = netlab.uid()[:6]
    for n, port in enumerate(parts["guests"]):
        guests.add(_v6_guest(tag, n, port))
    started = time.monotonic()
    _plane(state_dir).apply(state)
    ra = router_advert.RouterAdvertiser(state_dir, parts["router"]["id"])
    assert ra.pid() is not None, (ra.dir / "ra.log").read_text()
    ns = names.router_namespace(parts["router"]["id"])
    assert netlab.sh("sysctl", "-n", "net.ipv6.conf.all.forwarding", netns=ns).strip() == "1"
    for guest in guests:
        _solicit(guest)
    for guest, rif, mtu in zip(guests, parts["rifs"], MTUS, strict=True):
        want_hop = _link_local(rif)
        ok = _poll(functools.partial(_slaac_and_route, guest, want_hop), WAIT)
        assert ok, (guest.netns, _global_v6(guest.netns), _default_routers(guest.netns))
        # Only the router advertises a default route (the DHCP namespace is quiet).
        assert _default_routers(guest.netns) == [want_hop]
        # The RA's MTU option set the guest's IPv6 MTU to the network's.
        has_mtu = functools.partial(_has_ipv6_mtu, guest, mtu)
        assert _poll(has_mtu, 10), _ipv6_mtu(guest.netns)
    print(
        f"SLAAC address and default route on both guests after {time.monotonic() - started:.1f} s"
    )

    # TCP across the router, both ways, with the guests' own addresses (no NAT).
    g0, g1 = guests
    g1.listen(8080, "hello-v6", bind="::")
    g1.listen(8081, "closed-v6", bind="::")
    g0.listen(8080, "hello-back", bind="::")
    assert netlab.connect_ok(g1.ip, 8080, netns=g0.netns) == f"hello-v6 {g0.ip}"
    assert netlab.connect_ok(g0.ip, 8080, netns=g1.netns) == f"hello-back {g1.ip}"
    # IPv6 security group rules apply across the router: 8081 is not allowed in.
    assert netlab.connect(g1.ip, 8081, netns=g0.netns, timeout=2).startswith("ERROR")

    # Detach network 0 from the router: its guest's default route goes at once.
    t0 = time.monotonic()
    detached = replace(state, ports=[p for p in state.ports if p is not parts["rifs"][0]])
    _plane(state_dir).apply(detached)
    assert _poll(lambda: _default_routers(g0.netns) == [], 10), _default_routers(g0.netns)
    print(f"route withdrawn {time.monotonic() - t0:.1f} s after the interface was removed")
    # The other network is still routed, and its advertiser still runs.
    assert _default_routers(g1.netns) == [_link_local(parts["rifs"][1])]
    assert ra.pid() is not None
    assert netlab.connect(g1.ip, 8080, netns=g0.netns, timeout=2).startswith("ERROR")
    # Network 0's DHCP namespace advertises the prefix again, with no default route.
    server = dhcp.DhcpServer(state_dir, str(parts["nets"][0]["id"]))
    assert server.cmdfile.exists() and "--enable-ra" in server.cmdfile.read_text()

    # Delete the router: the last guest's route goes too, and its daemon stops.
    _plane(state_dir).apply(replace(detached, routers=[]))
    assert _poll(lambda: _default_routers(g1.netns) == [], 10), _default_routers(g1.netns)
    assert ra.pid() is None and not ra.dir.exists()
    assert not Path(f"/run/netns/{ns}").exists()


def _netns_inode(path: str) -> int:
    return Path(path).stat().st_ino


def test_router_withdraws_a_subnet_and_repairs_its_advertiser(
    state_dir: Path, guests: Guests
) -> None:
    """A subnet leaving the advertisements (the interface stays) withdraws the route;
    a router namespace deleted by hand comes back with its advertiser in it."""
    state, parts = _v6_pair()
    guest = guests.add(_v6_guest(netlab.uid()[:6], 1, parts["guests"][1]))
    hop = _link_local(parts["rifs"][1])
    ns = names.router_namespace(parts["router"]["id"])
    ra = router_advert.RouterAdvertiser(state_dir, parts["router"]["id"])
    _plane(state_dir).apply(state)
    _solicit(guest)
    assert _poll(functools.partial(_slaac_and_route, guest, hop), WAIT), _default_routers(
        guest.netns
    )

    # The subnet no longer asks Kumo for advertisements (an outside router would send
    # them): the router's interface stays, but it stops being the guest's router.
    subnet = parts["subnets"][1]
    subnet["ipv6_ra_mode"] = None
    _plane(state_dir).apply(state)
    assert _poll(lambda: _default_routers(guest.netns) == [], 10), _default_routers(guest.netns)
    assert hop in [
        a["local"]
        for e in json.loads(netlab.sh("ip", "-j", "-6", "addr", "show", netns=ns))
        for a in e.get("addr_info", [])
        if "local" in a
    ], "the interface itself stays"
    subnet["ipv6_ra_mode"] = "slaac"
    _plane(state_dir).apply(state)
    _solicit(guest)
    assert _poll(lambda: _default_routers(guest.netns) == [hop], WAIT)

    # Drift: the router namespace deleted by hand. The next apply makes it again and
    # restarts the advertiser inside the new namespace, not the orphaned old one.
    old_pid = ra.pid()
    assert old_pid is not None
    netlab.sh("ip", "netns", "delete", ns)
    _plane(state_dir).apply(state)
    new_pid = ra.pid()
    assert new_pid is not None and new_pid != old_pid
    assert _netns_inode(f"/proc/{new_pid}/ns/net") == _netns_inode(f"/run/netns/{ns}")
    assert not Path(f"/proc/{old_pid}").exists()
    # The guest still hears the router (a solicitation is answered by the new daemon).
    netlab.sh("ip", "-6", "route", "flush", "default", netns=guest.netns)
    _solicit(guest)
    assert _poll(lambda: _default_routers(guest.netns) == [hop], WAIT)

    # `kumo down` stops the router's advertiser like the DHCP servers.
    report = remove_owned(state_dir)
    assert new_pid in report.processes
    assert not Path(f"/proc/{new_pid}").exists()


def test_guest_gets_the_network_mtu_by_dhcp(
    state_dir: Path, guests: Guests, tmp_path: Path
) -> None:
    topo = netlab.topology()
    topo.net["mtu"] = 1400
    state = replace(topo.state, routers=[], floatingips=[])
    # The guest's tap exists first, so the plane plugs it into the network's bridge.
    guest = netlab.make_guest(topo.tag, "mtu", topo.g1, prefixlen=24, gateway=None, static=False)
    guests.add(guest)
    _plane(state_dir).apply(state)
    server = dhcp.DhcpServer(state_dir, str(topo.net["id"]))
    assert server.pid() is not None, (server.dir / "dnsmasq.log").read_text()
    assert "option:mtu,1400" in server.optsfile.read_text()
    script = tmp_path / "udhcpc.sh"
    script.write_text('#!/bin/sh\necho "event=$1 ip=$ip mtu=$mtu router=$router"\n')
    script.chmod(0o755)
    argv = ["busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "10", "-T", "2"]
    argv += ["-O", "mtu", "-s", str(script)]
    done = subprocess.run(
        ["ip", "netns", "exec", guest.netns, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    bound = [line for line in done.stdout.splitlines() if line.startswith("event=bound")]
    assert bound, (done.stdout, done.stderr)
    assert f"ip={topo.g1['fixed_ips'][0]['ip_address']}" in bound[0]
    assert "mtu=1400" in bound[0], bound[0]


@pytest.mark.parametrize(
    ("mode", "managed", "other", "autonomous"),
    # With M set, O means nothing (RFC 4861 4.2); dnsmasq sets both.
    [("dhcpv6-stateless", False, True, True), ("dhcpv6-stateful", True, None, False)],
)
def test_router_advertises_dhcpv6_modes_and_leaves_dhcpv6_to_the_dhcp_namespace(
    state_dir: Path,
    guests: Guests,
    mode: str,
    managed: bool,
    other: bool | None,
    autonomous: bool,
) -> None:
    """Neutron's flags for each mode in the router's advertisement (M for stateful,
    O for stateless, A only where the guest builds its own address), the MTU, and
    exactly one answer to a DHCPv6 information request: the DHCP namespace's."""
    state, parts = _v6_pair()
    subnet = parts["subnets"][0]
    subnet["ipv6_ra_mode"] = subnet["ipv6_address_mode"] = mode
    subnet["dns_nameservers"] = ["fd00:94::53"]
    port = parts["guests"][0]
    guest = guests.add(_v6_guest(netlab.uid()[:6], 0, port))
    _plane(state_dir).apply(state)
    # The guest's own link-local address must be usable (not tentative) to solicit.
    has_link_local = functools.partial(_link_local_ready, guest)
    assert _poll(has_link_local, 10)
    argv = [sys.executable, "-c", PROBE, "eth0", str(port["mac_address"])]
    out = netlab.sh(*argv, netns=guest.netns)
    seen = json.loads(out)
    hop = _link_local(parts["rifs"][0])
    from_router = [ra for ra in seen["ras"] if ra["source"] == hop]
    assert from_router, seen
    ra = from_router[0]
    assert bool(ra["flags"] & 0x80) is managed, ra
    assert other is None or bool(ra["flags"] & 0x40) is other, ra
    assert ra["lifetime"] == router_advert.ROUTER_LIFETIME
    assert ra["mtu"] == MTUS[0]
    pio = [p for p in ra["prefixes"] if p["prefix"] == PREFIXES[0].split("/")[0]]
    assert pio and bool(pio[0]["flags"] & 0x40) is autonomous, ra
    # Nobody else advertises a default route on the link.
    assert all(r["lifetime"] == 0 for r in seen["ras"] if r["source"] != hop), seen
    # DHCPv6: one answer, from the DHCP namespace, with the subnet's DNS server.
    dhcp_ll = _link_local(next(p for p in state.ports if p["device_owner"] == "network:dhcp"))
    server = dhcp.DhcpServer(state_dir, str(parts["nets"][0]["id"]))
    log = (server.dir / "dnsmasq.log").read_text()
    assert seen["replies"] == [{"source": dhcp_ll, "dns": ["fd00:94::53"]}], (seen, log)


def _link_local_ready(guest: netlab.Guest) -> bool:
    out = netlab.sh(
        "ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "link", netns=guest.netns
    )
    infos = [a for e in json.loads(out or "[]") for a in e.get("addr_info", []) if "local" in a]
    return bool(infos) and not any(a.get("tentative") for a in infos)


async def test_ipv6_router_from_the_networking_api(
    state_dir: Path, guests: Guests, cloud: TestClient, ident: Any
) -> None:
    """The same through the real API: SLAAC subnets, a router with both as interfaces,
    guest ports in the project's default security group (remote-group rules over IPv6)."""
    admin = issue(cloud)
    headers = {"X-Auth-Token": admin}

    def create(collection: str, resource: str, **body: Any) -> Any:
        resp = cloud.post(f"{V2}/{collection}", json={resource: body}, headers=headers)
        assert resp.status_code == 201, resp.text
        return resp.json()[resource]

    r = create("routers", "router", name="r6api")
    ports = []
    for n, prefix in enumerate(("fd00:95:0:1::/64", "fd00:95:0:2::/64")):
        net = create("networks", "network", name=f"v6api{n}")
        sub = create(
            "subnets",
            "subnet",
            network_id=net["id"],
            cidr=prefix,
            ip_version=6,
            ipv6_ra_mode="slaac",
            ipv6_address_mode="slaac",
        )
        resp = cloud.put(
            f"{V2}/routers/{r['id']}/add_router_interface",
            json={"subnet_id": sub["id"]},
            headers=headers,
        )
        assert resp.status_code == 200, resp.text
        port = create(
            "ports", "port", network_id=net["id"], device_owner="compute:nova", device_id=f"i{n}"
        )
        assert port["fixed_ips"][0]["ip_address"] == eui64(prefix, port["mac_address"])
        ports.append(port)
    tag = netlab.uid()[:6]
    g0, g1 = (guests.add(_v6_guest(tag, n, port)) for n, port in enumerate(ports))

    session = ServiceSession(ident.settings, transport=httpx.ASGITransport(app=cloud.app))
    try:
        state = await ApiStateSource(session, "host1").fetch()
    finally:
        await session.close()
    _plane(state_dir).apply(state)
    rifs = {
        str(p["network_id"]): p for p in state.ports if p["device_owner"] in ROUTER_INTERFACE_OWNERS
    }
    for guest in (g0, g1):
        _solicit(guest)
        hop = _link_local(rifs[str(guest.port["network_id"])])
        ok = _poll(functools.partial(_slaac_and_route, guest, hop), WAIT)
        assert ok, (guest.netns, _global_v6(guest.netns), _default_routers(guest.netns))
    g1.listen(8080, "api-v6", bind="::")
    assert netlab.connect_ok(g1.ip, 8080, netns=g0.netns) == f"api-v6 {g0.ip}"
