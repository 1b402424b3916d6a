"""Whether an address Kumo gives the host would take traffic away from the host.

The host's one address on a Kumo device is the gateway of the single-host
external network (on ``kbr-ext``), so floating IPs answer from the host. An
address puts a connected route on the host: if its network overlaps one the host
already reaches — a route, an address, its resolver — Kumo would capture that
traffic. Seen on these machines: the package registries resolve to 203.0.113.80,
so an external network on 203.0.113.0/24 cut the host off from PyPI and Debian.
The default external network is therefore 198.51.100.0/24, and this check refuses
any external range that overlaps what the host already uses.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from kumo.agents.network.linux import names
from kumo.agents.network.linux.cmd import run

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nameservers(resolv_conf: Path) -> list[str]:
    try:
        lines = resolv_conf.read_text().splitlines()
    except OSError:
        return []
    return [line.split()[1] for line in lines if line.startswith("nameserver") and " " in line]


def host_conflicts(cidr: str, *, resolv_conf: Path = Path("/etc/resolv.conf")) -> list[str]:
    """Why giving the host an address in ``cidr`` would harm it (empty: it would not).

    Checks the host's own addresses and routes on devices that are not Kumo's
    (the default route excepted: everything overlaps it), and its nameservers.
    """
    net: Network = ipaddress.ip_network(cidr, strict=False)
    reasons = []
    for entry in json.loads(run(["ip", "-j", "addr", "show"]) or "[]"):
        device = str(entry.get("ifname", ""))
        if names.is_kumo_device(device):
            continue
        for info in entry.get("addr_info", []):
            own = ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}").network
            if own.version == net.version and own.overlaps(net):
                reasons.append(f"the host's address {info['local']} on {device}")
    for route in json.loads(run(["ip", "-j", "route", "show", "table", "all"]) or "[]"):
        device, destination = str(route.get("dev", "")), str(route.get("dst", ""))
        if names.is_kumo_device(device) or destination in ("", "default"):
            continue
        try:
            routed = ipaddress.ip_network(destination, strict=False)
        except ValueError:
            continue  # "broadcast"/"local" entries name single addresses we saw above
        if routed.version == net.version and routed.overlaps(net):
            reasons.append(f"the host's route to {destination} via {device}")
    for server in _nameservers(resolv_conf):
        try:
            if ipaddress.ip_address(server) in net:
                reasons.append(f"the host's nameserver {server}")
        except ValueError:
            continue
    return sorted(set(reasons))
