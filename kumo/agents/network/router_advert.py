"""IPv6 router advertisements of Kumo routers: dnsmasq in RA-only mode, and withdrawal.

Neutron runs radvd in the router namespace; radvd is not among Kumo's packages
and dnsmasq is, and dnsmasq advertises just as well (``--enable-ra`` with the
``ra-only`` / ``ra-stateless`` / ``static`` range modes, the network MTU and the
router lifetime through ``--ra-param``). The router's dnsmasq serves no DNS
(``--port=0``) and ignores every DHCPv6 request: DHCPv6 stays with the
network's DHCP namespace, which stops advertising a subnet once a router does
(:func:`advertised_subnet_ids`).

dnsmasq sends no farewell when it stops or its interface goes, so before an
advertised interface is removed :func:`withdraw` sends one advertisement with
router lifetime 0 from it (RFC 4861 6.2.5): guests drop their default route
through it at once, not after :data:`ROUTER_LIFETIME`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from kumo.agents.network import dnsmasq_process
from kumo.agents.network.linux import ip, names
from kumo.agents.network.linux.cmd import in_namespace
from kumo.agents.network.state import ROUTER_INTERFACE_OWNERS, DesiredState, Resource

log = logging.getLogger(__name__)

#: Seconds between unsolicited router advertisements (solicitations are answered at once).
RA_INTERVAL = 10
#: How long guests keep the router as default without hearing from it (radvd's and
#: Neutron's default).
ROUTER_LIFETIME = 1800
#: dnsmasq ``--dhcp-range`` mode by ``ipv6_ra_mode``: SLAAC sets the A flag only,
#: stateless adds the O flag, stateful the M flag (and no A flag). DHCPv6 itself is
#: answered by the network's DHCP namespace, never by the router.
RA_RANGE_MODES = {
    "slaac": "ra-only",
    "dhcpv6-stateless": "ra-stateless",
    "dhcpv6-stateful": "static",
}


@dataclass(frozen=True)
class Advertisement:
    """One IPv6 prefix the router advertises on one of its interfaces."""

    device: str  # the ``qr-…`` device inside the namespace
    prefix: str
    mode: str  # dnsmasq range mode, from RA_RANGE_MODES
    mtu: int | None


def advertised_subnet_ids(state: DesiredState) -> set[str]:
    """IPv6 subnets with ``ipv6_ra_mode`` that a router of ``state`` is attached to.

    Their router advertises them (with itself as default router), so the network's
    DHCP namespace must not.
    """
    routers = {str(r["id"]) for r in state.routers}
    result = set()
    for port in state.ports:
        if port.get("device_owner") not in ROUTER_INTERFACE_OWNERS:
            continue
        if str(port.get("device_id")) not in routers:
            continue
        for fixed in port.get("fixed_ips", []):
            subnet = state.subnet(fixed.get("subnet_id", ""))
            if subnet and ra_range_mode(subnet):
                result.add(str(subnet["id"]))
    return result


def ra_range_mode(subnet: Resource) -> str | None:
    """The router's dnsmasq range mode for a subnet; None: the router does not advertise it."""
    if ipaddress.ip_network(subnet["cidr"]).version != 6:
        return None
    return RA_RANGE_MODES.get(str(subnet.get("ipv6_ra_mode")))


def enable_forwarding(ns: str) -> None:
    """Switch on IPv4 and IPv6 forwarding inside a router namespace (never the host)."""
    ip.set_sysctl("net.ipv4.ip_forward", "1", netns=ns)
    # ``all`` also sets ``default``, so interfaces made later forward too; with
    # forwarding on, the kernel ignores advertisements (accept_ra=1), as a router should.
    ip.set_sysctl("net.ipv6.conf.all.forwarding", "1", netns=ns)
    # The API hands out each address once: duplicate address detection would only
    # keep the router's addresses (and advertisements) tentative for a second or two.
    ip.set_sysctl("net.ipv6.conf.default.accept_dad", "0", netns=ns)
    ip.set_sysctl("net.ipv6.conf.all.accept_dad", "0", netns=ns)


class RouterAdvertiser:
    """dnsmasq sending one router's IPv6 router advertisements (RA only, no DHCP or DNS).

    Files live under ``<state_dir>/network/router/<router>``; the pid file path is
    on its command line, so ``kumo down`` finds and stops it like the DHCP servers.
    """

    def __init__(self, state_dir: Path, router_id: str) -> None:
        self.router_id = router_id
        self.namespace = names.router_namespace(router_id)
        self.dir = state_dir / "network" / "router" / router_id
        self.pidfile = self.dir / "ra.pid"
        self.cmdfile = self.dir / "ra.cmdline"

    def command(self, advertised: list[Advertisement]) -> list[str]:
        """The dnsmasq command line (without the namespace prefix)."""
        devices = sorted({a.device for a in advertised})
        argv = [
            "dnsmasq",
            "--conf-file=/dev/null",
            "--port=0",  # no DNS: the DHCP namespace serves names
            "--no-hosts",
            "--no-resolv",
            "--bind-interfaces",
            *[f"--interface={dev}" for dev in devices],
            "--except-interface=lo",
            f"--pid-file={self.pidfile}",
            f"--dhcp-leasefile={self.dir / 'leases'}",
            f"--log-facility={self.dir / 'ra.log'}",
            "--user=root",
            "--group=root",
            "--enable-ra",
            # The stateless and stateful range modes also start a DHCPv6 server: the
            # network's DHCP namespace answers DHCPv6, so this one ignores every request.
            "--dhcp-ignore=tag:dhcpv6",
        ]
        for a in advertised:
            net = ipaddress.ip_network(a.prefix)
            argv.append(f"--dhcp-range={net.network_address},{a.mode},{net.prefixlen},86400s")
        mtus = {a.device: a.mtu for a in advertised}
        for dev in devices:
            mtu = f"mtu:{mtus[dev]}," if mtus[dev] else ""
            argv.append(f"--ra-param={dev},{mtu}{RA_INTERVAL},{ROUTER_LIFETIME}")
        return argv

    def pid(self) -> int | None:
        """The running daemon's pid (checked against its command line), or None."""
        return dnsmasq_process.running_pid(self.pidfile)

    def advertised(self, device: str, ns: str) -> bool:
        """Whether the last started daemon advertised on ``device``.

        Without a record of it, any IPv6 global address on the device counts.
        """
        if self.cmdfile.exists():
            return device in self._devices()
        return any(":" in a for a in ip.list_addresses(device, ns))

    def _devices(self) -> set[str]:
        """The devices the last started daemon advertised on (from its command line)."""
        try:
            text = self.cmdfile.read_text()
        except OSError:
            return set()
        return set(re.findall(r"--interface=(qr-[0-9a-f]+)", text))

    def sync(self, advertised: list[Advertisement], *, restart: bool = False) -> bool:
        """Run the daemon for ``advertised`` (stop it when empty); True if anything changed.

        ``restart``: the namespace was just (re)made, so a daemon still running
        belongs to the old one. Devices that stay but are no longer advertised
        (their IPv6 subnet left the router) get a withdrawal first.
        """
        argv = self.command(advertised) if advertised else None
        running = self.pid() is not None
        if (
            running
            and not restart
            and argv is not None
            and self.cmdfile.exists()
            and self.cmdfile.read_text() == repr(argv)
        ):
            return False
        if not running and argv is None and not self.cmdfile.exists():
            return False
        kept = {a.device for a in advertised}
        for device in sorted(self._devices() - kept):
            link = ip.get_link(device, self.namespace)
            if link is not None:
                withdraw(self.namespace, device, link.mac)
        self.stop()
        if argv is None:
            self.cmdfile.unlink(missing_ok=True)
            return True
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A namespace made by an older Kumo may lack IPv6 forwarding; cheap to repeat.
        enable_forwarding(self.namespace)
        subprocess.run(in_namespace(argv, self.namespace), check=True, timeout=30)
        self.cmdfile.write_text(repr(argv))
        return True

    def stop(self) -> None:
        """Stop the daemon (if running) and wait for it briefly."""
        dnsmasq_process.stop(self.pidfile)

    def forget(self) -> None:
        """Delete the daemon's files (after :meth:`stop`)."""
        for path in (self.pidfile, self.cmdfile, self.dir / "leases", self.dir / "ra.log"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.dir.rmdir()


#: Sends a router advertisement with router lifetime 0 (RFC 4861 6.2.5: a router
#: ceasing to be one) from a device; the kernel fills in the ICMPv6 checksum and
#: picks the device's link-local source address.
_WITHDRAW = textwrap.dedent(
    """
    import socket, struct, sys, time
    dev, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    index = socket.if_nametoindex(dev)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
    if len(mac) == 6:
        ra += bytes([1, 1]) + mac  # source link-layer address option
    for _ in range(3):
        s.sendto(ra, ("ff02::1", 0, 0, index))
        time.sleep(0.05)
    """
)


def withdraw(ns: str, device: str, mac: str | None) -> None:
    """Tell the guests on ``device``'s link that this router no longer routes for them.

    Best effort: a device without an IPv6 link-local address cannot send, and
    then the guests' route expires with its lifetime.
    """
    argv = [sys.executable, "-c", _WITHDRAW, device, mac or ""]
    try:
        done = subprocess.run(
            in_namespace(argv, ns), capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("router advertisement withdrawal on %s in %s failed: %s", device, ns, exc)
        return
    if done.returncode != 0:
        log.warning("router advertisement withdrawal on %s failed: %s", device, done.stderr[-300:])
