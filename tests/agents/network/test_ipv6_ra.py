"""IPv6 subnets: dnsmasq in the DHCP namespace advertises SLAAC / stateless prefixes.

The data-plane test plugs a namespace standing in for a guest (``accept_ra=2``,
as a guest whose forwarding is on would need) and waits for the kernel to build
its SLAAC address from the advertised prefix: the same EUI-64 address the
Networking API's IPAM gave the port.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from kumo.agents.network import dhcp
from kumo.agents.network.linux import names
from kumo.agents.network.plane import DataPlane
from kumo.agents.network.state import DesiredState
from kumo.network.service.ipam import eui64
from tests.agents.network import netlab

PREFIX = "fd00:93:0:1::/64"


def _v6_network(ra_mode: str | None, address_mode: str | None) -> DesiredState:
    net = {"id": netlab.uid(), "name": "v6", "mtu": 1500}
    subnet = {
        "id": netlab.uid(),
        "network_id": net["id"],
        "cidr": PREFIX,
        "ip_version": 6,
        "gateway_ip": "fd00:93:0:1::1",
        "enable_dhcp": True,
        "ipv6_ra_mode": ra_mode,
        "ipv6_address_mode": address_mode,
        "dns_nameservers": ["fd00:93::53"],
        "host_routes": [],
    }
    ports = []
    for n, owner in ((2, "network:dhcp"), (21, "compute:nova")):
        mac = netlab.mac(n)
        ports.append(
            {
                "id": netlab.uid(),
                "network_id": net["id"],
                "mac_address": mac,
                "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": eui64(PREFIX, mac)}],
                "device_owner": owner,
                "device_id": netlab.uid(),
                "security_groups": [],
                "port_security_enabled": True,
                "allowed_address_pairs": [],
            }
        )
    return DesiredState(networks=[net], subnets=[subnet], ports=ports)


def _command(state: DesiredState, tmp_path: Path) -> list[str]:
    network_id = str(state.networks[0]["id"])
    return dhcp.DhcpServer(tmp_path, network_id).command(state, "ns-x")


def test_dnsmasq_modes_follow_the_subnet(tmp_path: Path) -> None:
    """Neutron's meaning of the two modes, as dnsmasq arguments."""
    cases: list[tuple[str | None, str | None, str | None, bool]] = [
        ("slaac", "slaac", "ra-only", True),
        ("dhcpv6-stateless", "dhcpv6-stateless", "ra-stateless", True),
        ("dhcpv6-stateful", "dhcpv6-stateful", "static", True),
        # Only an address mode: an outside router advertises; dnsmasq must not
        # (its ra-* range modes advertise by themselves), only answers DHCPv6.
        (None, "slaac", None, False),
        (None, "dhcpv6-stateless", "static", False),
        (None, "dhcpv6-stateful", "static", False),
        (None, None, "static", False),
    ]
    for ra_mode, address_mode, range_mode, ra in cases:
        state = _v6_network(ra_mode, address_mode)
        argv = _command(state, tmp_path)
        ranges = [a for a in argv if a.startswith("--dhcp-range=")]
        if range_mode is None:
            assert ranges == []
        else:
            assert len(ranges) == 1 and f",fd00:93:0:1::,{range_mode},64," in ranges[0], ranges
        assert ("--enable-ra" in argv) is ra, (ra_mode, address_mode)
        assert ("--ra-param=ns-x,mtu:1500,10,0" in argv) is ra
        hosts = dhcp.hosts_file(state, str(state.networks[0]["id"]))
        # Host entries only where dnsmasq serves DHCPv6 (never for advertised SLAAC).
        assert ("[fd00:93:0:1:" in hosts) is (range_mode == "static"), hosts
        opts = dhcp.opts_file(state, str(state.networks[0]["id"]))
        assert "option6:dns-server,[fd00:93::53]" in opts


def _global_v6(netns: str) -> list[str]:
    out = netlab.sh("ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "global", netns=netns)
    entries = json.loads(out or "[]")
    return [a["local"] for e in entries for a in e.get("addr_info", []) if "local" in a]


def _slaac_guest(state_dir: Path, ra_mode: str | None, wait: float) -> tuple[str, list[str], float]:
    """Plug a guest into a SLAAC subnet; (its port's address, its addresses, seconds)."""
    state = _v6_network(ra_mode, "slaac")
    network_id = str(state.networks[0]["id"])
    port: dict[str, Any] = state.ports[1]
    expected = str(port["fixed_ips"][0]["ip_address"])
    guest = netlab.make_guest(
        netlab.uid()[:6], "v6", port, prefixlen=64, gateway=None, static=False
    )
    try:
        for key, value in (("accept_ra", "2"), ("autoconf", "1"), ("use_tempaddr", "0")):
            netlab.sh("sysctl", "-qw", f"net.ipv6.conf.eth0.{key}={value}", netns=guest.netns)
        started = time.monotonic()
        DataPlane(state_dir).apply(state)
        server = dhcp.DhcpServer(state_dir, network_id)
        assert server.pid() is not None, (server.dir / "dnsmasq.log").read_text()
        # Bounce the link so the guest solicits a router advertisement at once.
        netlab.sh("ip", "link", "set", "eth0", "down", netns=guest.netns)
        netlab.sh("ip", "link", "set", "eth0", "up", netns=guest.netns)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and expected not in _global_v6(guest.netns):
            time.sleep(0.2)
        addresses = _global_v6(guest.netns)
        if ra_mode:
            # Prefix information only: the DHCP namespace is no default router.
            routes = netlab.sh("ip", "-6", "route", "show", "default", netns=guest.netns)
            assert "default" not in routes
        assert names.dhcp_namespace(network_id) in DataPlane(state_dir).ownership.load().namespaces
        return expected, addresses, time.monotonic() - started
    finally:
        guest.stop()


def test_a_guest_gets_its_slaac_address(state_dir: Path) -> None:
    expected, addresses, seconds = _slaac_guest(state_dir, "slaac", wait=45)
    assert expected in addresses, addresses
    print(f"SLAAC address after {seconds:.1f} s")


def test_no_advertisement_without_ra_mode(state_dir: Path) -> None:
    """An address mode alone means an outside router advertises: dnsmasq stays quiet."""
    _, addresses, _ = _slaac_guest(state_dir, None, wait=8)
    assert addresses == [], addresses
