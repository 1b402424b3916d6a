"""Security groups and port security as two Kumo-owned nftables tables on the host.

The bridge family has no connection tracking here, so (as measured in
GUESTS_AND_NETWORKS.md) enforcement is split:

* ``table bridge kumo-sg`` sees the real bridge ports. For each protected
  guest tap it drops spoofed frames (source MAC, ARP sender IP and IP source
  not among the port's own or its allowed address pairs) and tags the packet
  mark with the port's index: bits 12–23 for "from port i", bits 0–11 for
  "to port i", bit 30 as the Kumo flag.
* ``table inet kumo-sg`` (forward hook, reached through br_netfilter) keeps
  state: established and related traffic passes, then the egress chain of
  the sending port and the ingress chain of the receiving port decide, with
  default deny. Remote-group rules match named sets of the group members' IPs.

Unmarked packets (anything not to or from a Kumo guest port) are accepted
untouched, so the host's own traffic is never filtered here. Each table is
replaced atomically by one ``nft -f -`` transaction.

Several clouds on one host (the test suite runs many) each replace their own
tables: a cloud with a tag (1–63, bits 24–29 of the mark) uses the tables
``kumo-sg-<tag>`` and its ``inet`` table accepts packets carrying another
cloud's tag, which that cloud's table judges. Tag 0 is the plain ``kumo-sg``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Iterable

from kumo.agents.network.linux import names, nft
from kumo.agents.network.state import DesiredState, Resource, is_guest_port, port_ips

log = logging.getLogger(__name__)

TABLE = "kumo-sg"
FLAG = 0x40000000
#: The cloud tag's bits in the mark (with the Kumo flag: which cloud marked a packet).
TAG_SHIFT = 24
TAG_MASK = 0x3F000000
MAX_TAG = 63
MAX_PORTS = 0xFFF

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_L4_WITH_PORTS = {"tcp", "udp", "sctp", "udplite", "dccp"}
_PROTOCOL_NUMBERS = {
    "icmp": 1,
    "igmp": 2,
    "tcp": 6,
    "udp": 17,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmpv6": 58,
    "ipv6-icmp": 58,
    "sctp": 132,
    "udplite": 136,
    "dccp": 33,
    "vrrp": 112,
    "ospf": 89,
    "pgm": 113,
}
_ICMPV6_ND = "{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert }"


def cloud_tag(key: str) -> int:
    """A cloud's tag (1–63) from a stable key such as its state directory."""
    return 1 + int(hashlib.sha256(key.encode()).hexdigest(), 16) % MAX_TAG


def table_name(tag: int = 0) -> str:
    """The name of the two tables of the cloud with ``tag``."""
    if not 0 <= tag <= MAX_TAG:
        raise ValueError(f"cloud tag {tag} is not in 0..{MAX_TAG}")
    return TABLE if tag == 0 else f"{TABLE}-{tag}"


def _cloud_mark(tag: int) -> int:
    return FLAG | (tag << TAG_SHIFT)


def protected_ports(state: DesiredState) -> list[Resource]:
    """Guest ports with port security on, in a stable order (their index is position + 1)."""
    ports = [
        p
        for p in state.ports
        if is_guest_port(p) and p.get("port_security_enabled", True) is not False
    ]
    return sorted(ports, key=lambda p: str(p["id"]))[:MAX_PORTS]


def _nets(values: Iterable[str]) -> list[str]:
    """Valid IPs/CIDRs, merged so nftables interval sets never conflict."""
    parsed: dict[int, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {4: [], 6: []}
    for value in values:
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            log.warning("ignoring invalid address %r", value)
            continue
        parsed[net.version].append(net)
    result = []
    for nets in parsed.values():
        for net in ipaddress.collapse_addresses(nets):  # type: ignore[type-var]
            host = net.prefixlen == net.max_prefixlen
            result.append(str(net.network_address) if host else str(net))
    return result


def _split(values: Iterable[str]) -> tuple[list[str], list[str]]:
    v4: list[str] = []
    v6: list[str] = []
    for value in values:
        (v6 if ":" in value else v4).append(value)
    return v4, v6


def _allowed_sources(port: Resource) -> tuple[list[str], list[str]]:
    """(MACs, IPs/CIDRs) a port may send from: its own plus allowed address pairs."""
    macs = {str(port.get("mac_address", "")).lower()}
    ips = list(port_ips(port))
    for pair in port.get("allowed_address_pairs") or []:
        ips.append(str(pair.get("ip_address", "")))
        if pair.get("mac_address"):
            macs.add(str(pair["mac_address"]).lower())
    return sorted(m for m in macs if _MAC.match(m)), _nets(ips)


def _set(values: list[str]) -> str:
    return "{ " + ", ".join(values) + " }"


def _bridge_table(ports: list[Resource], tag: int = 0) -> str:
    lines = ["chain forward {", "type filter hook forward priority -200; policy accept;"]
    if ports:
        from_map = ", ".join(f'"{names.tap(p["id"])}" : jump from_{i}' for i, p in _indexed(ports))
        to_map = ", ".join(f'"{names.tap(p["id"])}" : jump to_{i}' for i, p in _indexed(ports))
        lines += [f"iifname vmap {{ {from_map} }}", f"oifname vmap {{ {to_map} }}"]
    lines.append("}")
    for i, port in _indexed(ports):
        macs, nets = _allowed_sources(port)
        v4, v6 = _split(nets)
        lines.append(f"chain from_{i} {{")
        lines.append(f"ether saddr != {_set(macs or ['ff:ff:ff:ff:ff:ff'])} drop")
        lines.append(f"ether type arp arp saddr ip != {_set(['0.0.0.0', *v4])} drop")  # noqa: S104
        # DHCP discovery comes from 0.0.0.0 before the guest has its address.
        lines.append("ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return")
        lines.append(f"ether type ip ip saddr != {_set(v4 or ['255.255.255.255'])} drop")
        lines.append(f"ether type ip6 ip6 saddr != {_set(['::', 'fe80::/10', *v6])} drop")
        lines.append(f"meta mark set meta mark | {_cloud_mark(tag) | (i << 12):#010x}")
        lines.append("}")
        lines.append(f"chain to_{i} {{")
        lines.append(f"meta mark set meta mark | {_cloud_mark(tag) | i:#010x}")
        lines.append("}")
    return "\n".join(lines)


def _indexed(ports: list[Resource]) -> list[tuple[int, Resource]]:
    return [(i + 1, p) for i, p in enumerate(ports)]


def _group_members(state: DesiredState) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for port in state.ports:
        ips = port_ips(port) + [
            str(pair.get("ip_address", "")) for pair in port.get("allowed_address_pairs") or []
        ]
        for group_id in port.get("security_groups") or []:
            members.setdefault(str(group_id), []).extend(ips)
    return members


def _set_name(group_id: str, version: int) -> str:
    return f"rg{version}_{re.sub(r'[^0-9a-zA-Z]', '', group_id)[:32]}"


def rule_match(rule: Resource) -> str | None:
    """The nftables match of one security group rule; None for one Kumo cannot express.

    Every value is validated (ints in range, parsed CIDRs, known protocol
    names) before it is written into the ruleset.
    """
    ethertype = rule.get("ethertype", "IPv4")
    if ethertype not in ("IPv4", "IPv6"):
        return None
    v = 4 if ethertype == "IPv4" else 6
    family, ip = ("ipv4", "ip") if v == 4 else ("ipv6", "ip6")
    parts = [f"meta nfproto {family}"]
    addr = "saddr" if rule.get("direction") == "ingress" else "daddr"
    if rule.get("remote_ip_prefix"):
        try:
            net = ipaddress.ip_network(str(rule["remote_ip_prefix"]), strict=False)
        except ValueError:
            return None
        if net.version != v:
            return None
        if net.prefixlen:
            parts.append(f"{ip} {addr} {net}")
    elif rule.get("remote_group_id"):
        parts.append(f"{ip} {addr} @{_set_name(str(rule['remote_group_id']), v)}")
    protocol = rule.get("protocol")
    if protocol in (None, "", "any", "0", 0):
        return " ".join(parts)
    number = _protocol_number(protocol)
    if number is None:
        return None
    if number in (1, 58) or protocol in ("icmp", "icmpv6", "ipv6-icmp"):
        number = 1 if v == 4 else 58
        parts.append(f"meta l4proto {number}")
        kind = "icmp" if v == 4 else "icmpv6"
        icmp_type, icmp_code = rule.get("port_range_min"), rule.get("port_range_max")
        if _is_int(icmp_type, 0, 255):
            parts.append(f"{kind} type {int(icmp_type)}")  # type: ignore[arg-type]
            if _is_int(icmp_code, 0, 255):
                parts.append(f"{kind} code {int(icmp_code)}")  # type: ignore[arg-type]
        return " ".join(parts)
    parts.append(f"meta l4proto {number}")
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if _is_int(low, 1, 65535) and str(protocol) in _L4_WITH_PORTS | {"6", "17", "132"}:
        top = int(high) if _is_int(high, 1, 65535) else int(low)  # type: ignore[arg-type]
        parts.append(f"th dport {int(low)}-{max(top, int(low))}")  # type: ignore[arg-type]
    return " ".join(parts)


def _is_int(value: object, low: int, high: int) -> bool:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
    return low <= number <= high and not isinstance(value, bool)


def _protocol_number(protocol: object) -> int | None:
    if isinstance(protocol, str) and protocol in _PROTOCOL_NUMBERS:
        return _PROTOCOL_NUMBERS[protocol]
    if _is_int(protocol, 0, 255):
        return int(protocol)  # type: ignore[call-overload, no-any-return]
    return None


def _inet_table(state: DesiredState, ports: list[Resource], tag: int = 0) -> str:
    groups = {str(g["id"]): g for g in state.security_groups}
    lines = []
    for group_id, ips in sorted(_group_members(state).items()):
        v4, v6 = _split(_nets(ips))
        for version, values, kind in ((4, v4, "ipv4_addr"), (6, v6, "ipv6_addr")):
            elements = f" elements = {_set(values)};" if values else ""
            lines.append(
                f"set {_set_name(group_id, version)} {{ type {kind}; flags interval;"
                f" auto-merge;{elements} }}"
            )
    # Sets named by rules whose group has no member port yet must exist too.
    referenced = {
        str(r["remote_group_id"])
        for g in groups.values()
        for r in g.get("security_group_rules") or []
        if r.get("remote_group_id")
    }
    for group_id in sorted(referenced - set(_group_members(state))):
        for version, kind in ((4, "ipv4_addr"), (6, "ipv6_addr")):
            lines.append(f"set {_set_name(group_id, version)} {{ type {kind}; flags interval; }}")
    lines += [
        "chain forward {",
        "type filter hook forward priority 0; policy accept;",
        # Not marked by this cloud (host traffic, or another cloud's guests): not ours.
        f"meta mark & {FLAG | TAG_MASK:#010x} != {_cloud_mark(tag):#010x} accept",
        "ct state established,related accept",
        "ct state invalid drop",
    ]
    if ports:
        egress = ", ".join(f"{i << 12:#010x} : jump egress_{i}" for i, _ in _indexed(ports))
        ingress = ", ".join(f"{i:#010x} : jump ingress_{i}" for i, _ in _indexed(ports))
        lines.append(f"meta mark & 0x00fff000 vmap {{ {egress} }}")
        lines.append(f"meta mark & 0x00000fff vmap {{ {ingress} }}")
    lines.append("}")
    for i, port in _indexed(ports):
        rules = [
            r
            for gid in port.get("security_groups") or []
            for r in (groups.get(str(gid)) or {}).get("security_group_rules") or []
        ]
        for direction, verdict in (("egress", "return"), ("ingress", "accept")):
            lines.append(f"chain {direction}_{i} {{")
            if direction == "egress":
                lines.append("udp sport 68 udp dport 67 return")
                lines.append("meta nfproto ipv6 udp sport 546 udp dport 547 return")
            else:
                lines.append("udp sport 67 udp dport 68 accept")
                # DHCPv6 servers answer from their link-local address (as in Neutron).
                lines.append("ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept")
            lines.append(f"meta l4proto ipv6-icmp icmpv6 type {_ICMPV6_ND} {verdict}")
            for rule in rules:
                if rule.get("direction") != direction:
                    continue
                match = rule_match(rule)
                if match is None:
                    log.warning("security group rule %s cannot be expressed", rule.get("id"))
                    continue
                lines.append(f"{match} {verdict}")
            lines.append("drop")
            lines.append("}")
    return "\n".join(lines)


def render(state: DesiredState, tag: int = 0) -> tuple[str, str]:
    """The bodies of the ``bridge`` and ``inet`` tables of the cloud with ``tag``."""
    ports = protected_ports(state)
    return _bridge_table(ports, tag), _inet_table(state, ports, tag)


def apply(state: DesiredState, tag: int = 0) -> None:
    """Replace both security group tables of the cloud with ``tag`` with ``state``'s rules."""
    replace(*render(state, tag), tag)


def replace(bridge_body: str, inet_body: str, tag: int = 0) -> None:
    """Replace both tables of the cloud with ``tag`` with bodies :func:`render` made."""
    name = table_name(tag)
    nft.replace_tables([("inet", name, inet_body), ("bridge", name, bridge_body)])


def remove(tag: int = 0) -> None:
    """Delete both security group tables of the cloud with ``tag``."""
    nft.delete_table("bridge", table_name(tag))
    nft.delete_table("inet", table_name(tag))
