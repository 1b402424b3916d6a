"""DHCP for a network: dnsmasq in a ``kumo-qdhcp-<network>`` namespace.

dnsmasq serves only static leases from a hosts file generated from the
network's ports (MAC → IP, hostname) and options from an options file
(router, DNS servers, host routes, the network MTU, validated
``extra_dhcp_opts``). For IPv6 subnets with ``ipv6_ra_mode`` it also sends
router advertisements (prefix and MTU, router lifetime 0) until a router is
attached to the subnet; from then on the router advertises (see
:mod:`kumo.agents.network.router_advert`) and dnsmasq only answers DHCPv6. It never
forwards DNS to the host's resolvers (``--no-resolv``, ``--no-hosts``) and
reads no system configuration (``--conf-file=/dev/null``). A port change
rewrites the two files and restarts dnsmasq (SIGHUP, the upstream way, crashes
Debian 12's dnsmasq 2.90 once it has leases; it stays available as an option);
the lease file is kept, so clients keep their leases.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
from pathlib import Path

from kumo.agents.network import dnsmasq_process, router_advert
from kumo.agents.network.linux import ip, names
from kumo.agents.network.linux.cmd import in_namespace
from kumo.agents.network.state import DHCP_OWNER, DesiredState, Resource

LEASE_SECONDS = 86400
#: dnsmasq's ``--dhcp-range`` mode for an IPv6 subnet whose router advertisements Kumo
#: sends (``ipv6_ra_mode`` set), by its address mode: SLAAC only advertises the prefix;
#: stateless adds DHCPv6 for options (DNS); stateful hands out the ports' addresses.
IPV6_RANGE_MODES = {"slaac": "ra-only", "dhcpv6-stateless": "ra-stateless"}
#: Seconds between unsolicited router advertisements (solicitations are answered at once).
RA_INTERVAL = 10
_OPT_NAME = re.compile(r"^(?:[0-9]{1,3}|[a-z][a-z0-9-]{0,40})$")
_OPT_VALUE = re.compile(r"^[A-Za-z0-9 .,:/_@=+\-\[\]]{0,255}$")


def dhcp_port(state: DesiredState, network_id: str) -> Resource | None:
    """The network's DHCP port (owner ``network:dhcp``), if the API made one."""
    ports = [p for p in state.ports_of(network_id) if p.get("device_owner") == DHCP_OWNER]
    return sorted(ports, key=lambda p: str(p["id"]))[0] if ports else None


def dhcp_subnets(state: DesiredState, network_id: str) -> list[Resource]:
    """The network's subnets with DHCP enabled."""
    return [s for s in state.subnets_of(network_id) if s.get("enable_dhcp", True)]


def ipv6_range_mode(subnet: Resource, *, routed: bool = False) -> str | None:
    """The ``--dhcp-range`` mode of an IPv6 subnet; None: dnsmasq does not serve it.

    ``static`` is DHCPv6 (stateful, and stateless information requests). The
    ``ra-*`` modes make dnsmasq advertise, so they are used only when the subnet
    asks Kumo for advertisements (``ipv6_ra_mode``) and no Kumo router advertises
    it (``routed``); a SLAAC subnet advertised elsewhere (an outside router, or
    its Kumo router) gets nothing from dnsmasq, as in Neutron.
    """
    address_mode = subnet.get("ipv6_address_mode") or subnet.get("ipv6_ra_mode")
    if subnet.get("ipv6_ra_mode") and not routed:
        return IPV6_RANGE_MODES.get(str(address_mode), "static")
    return None if address_mode == "slaac" else "static"


def advertises(state: DesiredState, network_id: str) -> bool:
    """Whether dnsmasq sends router advertisements.

    It does for IPv6 subnets with ``ipv6_ra_mode`` that no router of ``state`` is
    attached to. (A subnet with only ``ipv6_address_mode`` expects an outside
    router to advertise, as in Neutron; an attached router advertises itself.)
    """
    routed = router_advert.advertised_subnet_ids(state)
    return any(
        ipaddress.ip_network(s["cidr"]).version == 6
        and s.get("ipv6_ra_mode")
        and s["id"] not in routed
        for s in dhcp_subnets(state, network_id)
    )


def network_mtu(state: DesiredState, network_id: str) -> int | None:
    """The network's MTU as sent to guests (DHCP option 26, RA MTU option), if valid."""
    mtu = (state.network(network_id) or {}).get("mtu")
    # 68 is IPv4's minimum; IPv6 needs 1280, checked where RAs are built.
    return (
        mtu if isinstance(mtu, int) and not isinstance(mtu, bool) and 68 <= mtu <= 65535 else None
    )


def valid_extra_opt(opt: Resource) -> bool:
    """Whether an ``extra_dhcp_opts`` entry is safe to write into the options file."""
    name, value = str(opt.get("opt_name", "")), opt.get("opt_value")
    return bool(_OPT_NAME.match(name)) and value is not None and bool(_OPT_VALUE.match(str(value)))


def _hostname(port: Resource, address: str) -> str:
    dns_name = str(port.get("dns_name") or "")
    if re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", dns_name):
        return dns_name
    return "host-" + re.sub(r"[.:]", "-", address)


def hosts_file(state: DesiredState, network_id: str) -> str:
    """The ``--dhcp-hostsfile``: one ``mac,set:p<id>,hostname,ip`` line per fixed IP."""
    # Advertised IPv6 SLAAC/stateless subnets get no addresses by DHCP (the guest builds its own).
    routed = router_advert.advertised_subnet_ids(state)
    subnet_ids = {
        s["id"]
        for s in dhcp_subnets(state, network_id)
        if ipaddress.ip_network(s["cidr"]).version == 4
        or ipv6_range_mode(s, routed=s["id"] in routed) == "static"
    }
    lines = []
    for port in sorted(state.ports_of(network_id), key=lambda p: str(p["id"])):
        if port.get("device_owner") == DHCP_OWNER:
            continue
        mac = str(port.get("mac_address", "")).lower()
        if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac):
            continue
        for fixed in port.get("fixed_ips", []):
            if fixed.get("subnet_id") not in subnet_ids:
                continue
            address = ipaddress.ip_address(fixed["ip_address"])
            shown = f"[{address}]" if address.version == 6 else str(address)
            lines.append(
                f"{mac},set:p{names.short(port['id'])},{_hostname(port, str(address))},{shown}"
            )
    return "\n".join(lines) + "\n"


def opts_file(state: DesiredState, network_id: str) -> str:
    """The ``--dhcp-optsfile``: per-subnet router/DNS/routes/MTU, per-port extra options."""
    lines = []
    mtu = network_mtu(state, network_id)
    for subnet in dhcp_subnets(state, network_id):
        if ipaddress.ip_network(subnet["cidr"]).version != 4:
            v6_dns = [
                f"[{ipaddress.ip_address(d)}]"
                for d in subnet.get("dns_nameservers") or []
                if ipaddress.ip_address(d).version == 6
            ]
            if v6_dns:
                tag = f"tag:s{names.short(subnet['id'])}"
                lines.append(f"{tag},option6:dns-server,{','.join(v6_dns)}")
            continue
        tag = f"tag:s{names.short(subnet['id'])}"
        if subnet.get("gateway_ip"):
            lines.append(f"{tag},option:router,{ipaddress.ip_address(subnet['gateway_ip'])}")
        else:
            lines.append(f"{tag},option:router")
        dns = [str(ipaddress.ip_address(d)) for d in subnet.get("dns_nameservers") or []]
        if dns:
            lines.append(f"{tag},option:dns-server,{','.join(dns)}")
        if mtu is not None:
            # Option 26: a guest on a VXLAN network (MTU 1450) must not send 1500-byte frames.
            lines.append(f"{tag},option:mtu,{mtu}")
        routes = []
        for route in subnet.get("host_routes") or []:
            dest = ipaddress.ip_network(route["destination"], strict=False)
            hop = ipaddress.ip_address(route["nexthop"])
            routes.append(f"{dest},{hop}")
        if routes:
            if subnet.get("gateway_ip"):
                routes.append(f"0.0.0.0/0,{ipaddress.ip_address(subnet['gateway_ip'])}")
            lines.append(f"{tag},option:classless-static-route,{','.join(routes)}")
            lines.append(f"{tag},249,{','.join(routes)}")
    for port in sorted(state.ports_of(network_id), key=lambda p: str(p["id"])):
        for opt in port.get("extra_dhcp_opts") or []:
            if opt.get("ip_version", 4) != 4 or not valid_extra_opt(opt):
                continue
            name = str(opt["opt_name"])
            key = name if name.isdigit() else f"option:{name}"
            lines.append(f"tag:p{names.short(port['id'])},{key},{opt['opt_value']}")
    return "\n".join(lines) + "\n"


class DhcpServer:
    """dnsmasq of one network; files under ``<state_dir>/network/dhcp/<network>``."""

    def __init__(
        self, state_dir: Path, network_id: str, *, reload_with_sighup: bool = False
    ) -> None:
        self.network_id = network_id
        self.reload_with_sighup = reload_with_sighup
        self.namespace = names.dhcp_namespace(network_id)
        self.dir = state_dir / "network" / "dhcp" / network_id
        self.pidfile = self.dir / "dnsmasq.pid"
        self.hostsfile = self.dir / "host"
        self.optsfile = self.dir / "opts"
        self.leasefile = self.dir / "leases"
        self.cmdfile = self.dir / "cmdline"

    def command(self, state: DesiredState, interface: str) -> list[str]:
        """The dnsmasq command line (without the namespace prefix)."""
        argv = [
            "dnsmasq",
            "--conf-file=/dev/null",
            "--no-hosts",
            "--no-resolv",
            "--bind-interfaces",
            f"--interface={interface}",
            "--except-interface=lo",
            f"--pid-file={self.pidfile}",
            f"--dhcp-hostsfile={self.hostsfile}",
            f"--dhcp-optsfile={self.optsfile}",
            f"--dhcp-leasefile={self.leasefile}",
            f"--log-facility={self.dir / 'dnsmasq.log'}",
            "--dhcp-authoritative",
            "--user=root",
            "--group=root",
            f"--domain={'openstacklocal'}",
        ]
        routed = router_advert.advertised_subnet_ids(state)
        for subnet in dhcp_subnets(state, self.network_id):
            net = ipaddress.ip_network(subnet["cidr"])
            tag = f"set:s{names.short(subnet['id'])}"
            if net.version == 4:
                argv.append(
                    f"--dhcp-range={tag},{net.network_address},static,{net.netmask},{LEASE_SECONDS}s"
                )
            else:
                mode = ipv6_range_mode(subnet, routed=subnet["id"] in routed)
                if mode is None:
                    continue
                argv.append(
                    f"--dhcp-range={tag},{net.network_address},{mode},{net.prefixlen},{LEASE_SECONDS}s"
                )
        if advertises(state, self.network_id):
            # Prefix information only: router lifetime 0, since this namespace routes
            # nothing (no Kumo router is attached; an outside one may be).
            mtu = network_mtu(state, self.network_id)
            mtu_param = f"mtu:{mtu}," if mtu is not None and mtu >= 1280 else ""
            argv += ["--enable-ra", f"--ra-param={interface},{mtu_param}{RA_INTERVAL},0"]
        return argv

    def pid(self) -> int | None:
        """The running dnsmasq's pid (checked against its command line), or None."""
        return dnsmasq_process.running_pid(self.pidfile)

    def sync(self, state: DesiredState, port: Resource) -> bool:
        """Make namespace, port, files and process match ``state``; True if anything changed."""
        changed = ip.ensure_namespace(self.namespace)
        if changed:
            # The API hands out each address once; duplicate address detection would
            # only keep the port's link-local address tentative for the first second or
            # two, and DHCPv6 replies (sent from it) would be lost meanwhile.
            ip.set_sysctl("net.ipv6.conf.default.accept_dad", "0", netns=self.namespace)
            ip.set_sysctl("net.ipv6.conf.all.accept_dad", "0", netns=self.namespace)
        host_dev = names.device(names.DHCP_VETH, port["id"])
        ns_dev = "ns-" + names.short(port["id"])
        network = state.network(self.network_id) or {}
        changed |= ip.ensure_veth(
            host_dev,
            ns_dev,
            peer_netns=self.namespace,
            bridge=names.bridge(self.network_id),
            mac=port.get("mac_address"),
            mtu=network.get("mtu"),
        )
        changed |= ip.sync_addresses(ns_dev, state.port_cidrs(port), self.namespace)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        files_changed = _write_if_changed(self.hostsfile, hosts_file(state, self.network_id))
        files_changed |= _write_if_changed(self.optsfile, opts_file(state, self.network_id))
        argv = self.command(state, ns_dev)
        pid = self.pid()
        if pid is not None and self.cmdfile.exists() and self.cmdfile.read_text() == repr(argv):
            if not files_changed:
                return changed
            if self.reload_with_sighup:
                os.kill(pid, signal.SIGHUP)  # re-read hosts and options; leases are kept
                return True
        # Debian 12's dnsmasq 2.90 aborts ("free(): invalid pointer") on SIGHUP once it
        # has handed out a lease, so by default a change restarts it; the lease file
        # stays, so clients keep their leases either way.
        self.stop()
        # A lease dnsmasq still holds for an address the API gave another port (the old
        # port was deleted) would make it refuse the new port's MAC: Neutron releases it
        # with dhcp_release; here the stopped server's lease file forgets it.
        prune_leases(self.leasefile, self.hostsfile.read_text())
        subprocess.run(in_namespace(argv, self.namespace), check=True, timeout=30)
        self.cmdfile.write_text(repr(argv))
        return True

    def stop(self) -> None:
        """Stop dnsmasq (if running) and wait for it briefly."""
        dnsmasq_process.stop(self.pidfile)

    def remove(self) -> None:
        """Stop dnsmasq and delete the namespace and the host end of its port."""
        self.stop()
        ip.delete_namespace(self.namespace)
        self.cmdfile.unlink(missing_ok=True)


def prune_leases(leasefile: Path, hosts: str) -> bool:
    """Drop IPv4 leases whose MAC and address no longer pair in ``hosts``; True if any went.

    Lines of the lease file: ``expiry mac ip hostname client-id`` for IPv4; the
    ``duid`` line and the IPv6 lines (``expiry iaid ip ...``) are kept as they are.
    """
    if not leasefile.exists():
        return False
    pairs = set()
    for line in hosts.splitlines():
        fields = line.split(",")
        if len(fields) >= 2:
            pairs.add((fields[0].lower(), fields[-1].strip("[]")))
    kept, dropped = [], False
    for line in leasefile.read_text().splitlines():
        fields = line.split()
        mac = fields[1].lower() if len(fields) >= 3 else ""
        if re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac) and (mac, fields[2]) not in pairs:
            dropped = True
            continue
        kept.append(line)
    if dropped:
        _write_if_changed(leasefile, "".join(f"{line}\n" for line in kept))
    return dropped


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return True


def wanted_networks(state: DesiredState) -> dict[str, Resource]:
    """Networks that need a DHCP server here, with their DHCP port."""
    result = {}
    for network in state.networks:
        port = dhcp_port(state, network["id"])
        if port is not None and dhcp_subnets(state, network["id"]):
            result[str(network["id"])] = port
    return result
