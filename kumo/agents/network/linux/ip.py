"""Namespaces, links, addresses and routes through ``ip`` (iproute2).

Every function takes ``netns`` (``None``: the host) and is idempotent where
the name says so (``ensure_*``): calling it again for an object that already
exists as asked changes nothing.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kumo.agents.network.linux.cmd import LinuxCommandError, run

NETNS_DIR = Path("/run/netns")


# Namespaces


def list_namespaces() -> list[str]:
    """Names of every named network namespace on the host."""
    out = run(["ip", "-j", "netns", "list"]).strip()
    if not out:
        return []
    return sorted(str(entry["name"]) for entry in json.loads(out))


def namespace_exists(name: str) -> bool:
    """Whether the named namespace exists."""
    return (NETNS_DIR / name).exists()


def ensure_namespace(name: str) -> bool:
    """Create ``name`` with its loopback up; True when it was created now."""
    if namespace_exists(name):
        return False
    run(["ip", "netns", "add", name])
    run(["ip", "link", "set", "lo", "up"], netns=name)
    return True


def delete_namespace(name: str) -> None:
    """Delete a namespace (its devices go with it); a missing one is not an error."""
    if namespace_exists(name):
        run(["ip", "netns", "delete", name])


def set_sysctl(name: str, value: str, *, netns: str) -> None:
    """Set a sysctl inside a namespace (never on the host: ``netns`` is required)."""
    run(["sysctl", "-qw", f"{name}={value}"], netns=netns)


# Links


@dataclass
class Link:
    """One network device as ``ip -j link`` reports it."""

    name: str
    kind: str | None
    master: str | None
    up: bool
    mac: str | None
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


def _link(entry: dict[str, Any]) -> Link:
    info = entry.get("linkinfo") or {}
    return Link(
        name=str(entry["ifname"]),
        kind=info.get("info_kind"),
        master=entry.get("master"),
        up="UP" in entry.get("flags", []),
        mac=entry.get("address"),
        raw=entry,
    )


def list_links(netns: str | None = None) -> list[Link]:
    """Every device of the host (or of ``netns``) with its kind and master."""
    out = run(["ip", "-d", "-j", "link", "show"], netns=netns)
    return [_link(entry) for entry in json.loads(out or "[]")]


def get_link(name: str, netns: str | None = None) -> Link | None:
    """The device ``name``, or None."""
    try:
        out = run(["ip", "-d", "-j", "link", "show", "dev", name], netns=netns)
    except LinuxCommandError:
        return None
    entries = json.loads(out or "[]")
    return _link(entries[0]) if entries else None


def link_exists(name: str, netns: str | None = None) -> bool:
    """Whether the device exists."""
    return get_link(name, netns) is not None


def delete_link(name: str, netns: str | None = None) -> None:
    """Delete a device (a veth takes its peer along); a missing one is not an error."""
    with contextlib.suppress(LinuxCommandError):
        run(["ip", "link", "delete", "dev", name], netns=netns)


def set_up(name: str, netns: str | None = None, *, mtu: int | None = None) -> None:
    """Bring a device up (optionally setting its MTU)."""
    extra = ["mtu", str(mtu)] if mtu else []
    run(["ip", "link", "set", "dev", name, *extra, "up"], netns=netns)


def ensure_bridge(name: str, *, mtu: int | None = None) -> bool:
    """A host Linux bridge ``name``, up, without STP; True when created now."""
    if link_exists(name):
        set_up(name, mtu=mtu)
        return False
    # No IPv6 link-local addresses or router solicitations from Kumo's bridges.
    run(["ip", "link", "add", "name", name, "type", "bridge", "stp_state", "0"])
    with contextlib.suppress(LinuxCommandError):
        run(["sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1"])
    set_up(name, mtu=mtu)
    return True


def set_master(name: str, bridge: str, netns: str | None = None) -> None:
    """Attach a device to a bridge."""
    run(["ip", "link", "set", "dev", name, "master", bridge], netns=netns)


def ensure_veth(
    host_name: str,
    peer_name: str,
    *,
    peer_netns: str,
    bridge: str,
    mac: str | None = None,
    mtu: int | None = None,
) -> bool:
    """A veth pair: ``host_name`` on ``bridge``, ``peer_name`` inside ``peer_netns``.

    ``mac`` is the peer's (the port's) MAC address. True when created now; a
    half-made pair (one end missing) is rebuilt.
    """
    host = get_link(host_name)
    peer = get_link(peer_name, peer_netns)
    if host is not None and peer is not None:
        if host.master != bridge:
            set_master(host_name, bridge)
        set_up(host_name, mtu=mtu)
        set_up(peer_name, peer_netns, mtu=mtu)
        return False
    delete_link(host_name)
    delete_link(peer_name, peer_netns)
    argv = ["ip", "link", "add", "name", host_name, "type", "veth", "peer", "name", peer_name]
    if mac:
        argv += ["address", mac]
    argv += ["netns", peer_netns]
    run(argv)
    set_master(host_name, bridge)
    set_up(host_name, mtu=mtu)
    set_up(peer_name, peer_netns, mtu=mtu)
    return True


def ensure_vlan(name: str, *, parent: str, vlan_id: int, bridge: str) -> bool:
    """A VLAN sub-interface of ``parent`` (a Kumo-owned trunk) attached to ``bridge``."""
    created = False
    if not link_exists(name):
        argv = ["ip", "link", "add", "link", parent, "name", name]
        run([*argv, "type", "vlan", "id", str(vlan_id)])
        created = True
    set_master(name, bridge)
    set_up(name)
    return created


def ensure_vxlan(
    name: str,
    *,
    vni: int,
    bridge: str,
    local_ip: str | None = None,
    dev: str | None = None,
    dstport: int = 4789,
    mtu: int | None = None,
) -> bool:
    """A VXLAN device (head-end replication via fdb entries) attached to ``bridge``."""
    created = False
    if not link_exists(name):
        argv = ["ip", "link", "add", "name", name, "type", "vxlan", "id", str(vni)]
        argv += ["dstport", str(dstport), "nolearning"]
        if local_ip:
            argv += ["local", local_ip]
        if dev:
            argv += ["dev", dev]
        run(argv)
        created = True
    set_master(name, bridge)
    set_up(name, mtu=mtu)
    return created


def set_vxlan_peers(name: str, peers: list[str]) -> None:
    """Flood BUM traffic of a VXLAN device to exactly ``peers`` (other hosts' VTEP IPs)."""
    out = run(["bridge", "-j", "fdb", "show", "dev", name])
    current = {
        str(e["dst"])
        for e in json.loads(out or "[]")
        if e.get("mac") == "00:00:00:00:00:00" and e.get("dst")
    }
    for peer in sorted(set(peers) - current):
        run(["bridge", "fdb", "append", "00:00:00:00:00:00", "dev", name, "dst", peer])
    for peer in sorted(current - set(peers)):
        run(["bridge", "fdb", "del", "00:00:00:00:00:00", "dev", name, "dst", peer])


# Addresses and routes


def list_addresses(name: str, netns: str | None = None) -> list[str]:
    """The device's global addresses as ``address/prefixlen``."""
    out = run(["ip", "-j", "addr", "show", "dev", name], netns=netns)
    result = []
    for entry in json.loads(out or "[]"):
        for info in entry.get("addr_info", []):
            if info.get("scope") == "global":
                result.append(f"{info['local']}/{info['prefixlen']}")
    return result


def sync_addresses(name: str, wanted: list[str], netns: str | None = None) -> bool:
    """Make the device's global addresses exactly ``wanted`` (CIDR form); True if changed."""
    current = set(list_addresses(name, netns))
    changed = False
    for cidr in sorted(set(wanted) - current):
        run(["ip", "addr", "add", cidr, "dev", name], netns=netns)
        changed = True
    for cidr in sorted(current - set(wanted)):
        run(["ip", "addr", "del", cidr, "dev", name], netns=netns)
        changed = True
    return changed


def replace_route(
    destination: str, *, via: str | None = None, dev: str | None = None, netns: str
) -> None:
    """Add or replace a route inside a namespace (never on the host)."""
    argv = ["ip", "route", "replace", destination]
    if via:
        argv += ["via", via]
    if dev:
        argv += ["dev", dev]
    run(argv, netns=netns)


def list_routes(netns: str | None = None) -> list[dict[str, Any]]:
    """The main routing table (JSON entries of ``ip -j route``)."""
    out = run(["ip", "-j", "route", "show"], netns=netns)
    routes: list[dict[str, Any]] = json.loads(out or "[]")
    return routes


def delete_route(destination: str, *, netns: str) -> None:
    """Delete a route inside a namespace; a missing one is not an error."""
    with contextlib.suppress(LinuxCommandError):
        run(["ip", "route", "del", destination], netns=netns)
