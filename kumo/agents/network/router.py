"""Routers: a ``kumo-qrouter-<id>`` namespace with NAT in ``table ip kumo-router``.

The namespace has one veth per router interface (``qr-…``, the subnet's
gateway IP) on the internal network's bridge, and one for the external
gateway (``qg-…``) on the external bridge carrying the gateway IP and every
floating IP as a /32. IPv4 and IPv6 forwarding are switched on inside the
namespace only. Floating IPs are DNAT (in) and SNAT (out); other internal
IPv4 traffic leaving by the gateway is SNATed to the gateway IP when
``enable_snat``. IPv6 is routed, never NATed (as in Neutron).

For interfaces on IPv6 subnets with ``ipv6_ra_mode`` the router advertises the
prefix, the network MTU and itself as default router, and withdraws itself before
such an interface goes (:mod:`kumo.agents.network.router_advert`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from dataclasses import dataclass, field
from pathlib import Path

from kumo.agents.network.linux import ip, names, nft
from kumo.agents.network.router_advert import (
    Advertisement,
    RouterAdvertiser,
    enable_forwarding,
    ra_range_mode,
    withdraw,
)
from kumo.agents.network.state import (
    ROUTER_GATEWAY_OWNER,
    ROUTER_INTERFACE_OWNERS,
    DesiredState,
    Resource,
    port_ips,
)

log = logging.getLogger(__name__)

TABLE = "kumo-router"
METADATA_IP = "169.254.169.254"


@dataclass
class RouterPlan:
    """What one router's namespace must hold."""

    router_id: str
    namespace: str
    interfaces: list[Resource] = field(default_factory=list)
    gateway: Resource | None = None
    floating: list[tuple[str, str]] = field(default_factory=list)  # (floating, fixed)
    internal_cidrs: list[str] = field(default_factory=list)
    snat: bool = True
    default_gateway: str | None = None
    routes: list[tuple[str, str]] = field(default_factory=list)
    advertised: list[Advertisement] = field(default_factory=list)


def interface_device(port: Resource) -> str:
    """A router interface's veth name inside the router namespace."""
    return "qr-" + names.short(str(port["id"]))


def _synthetic_gateway(router: Resource) -> Resource | None:
    info = router.get("external_gateway_info") or {}
    fixed = info.get("external_fixed_ips") or []
    if not info.get("network_id") or not fixed:
        return None
    digest = hashlib.sha256(str(router["id"]).encode()).hexdigest()
    mac = "fa:16:3e:" + ":".join(digest[i : i + 2] for i in range(0, 6, 2))
    return {
        "id": f"gw-{router['id']}",
        "network_id": info["network_id"],
        "mac_address": mac,
        "fixed_ips": fixed,
        "device_owner": ROUTER_GATEWAY_OWNER,
        "device_id": router["id"],
    }


def plan(state: DesiredState, router: Resource) -> RouterPlan:
    """The desired namespace contents of ``router``."""
    rid = str(router["id"])
    result = RouterPlan(router_id=rid, namespace=names.router_namespace(rid))
    for port in sorted(state.ports, key=lambda p: str(p["id"])):
        if port.get("device_id") != rid:
            continue
        if port.get("device_owner") in ROUTER_INTERFACE_OWNERS:
            result.interfaces.append(port)
            network = state.network(str(port.get("network_id"))) or {}
            mtu = network.get("mtu")
            for fixed in port.get("fixed_ips", []):
                subnet = state.subnet(fixed.get("subnet_id", ""))
                if subnet and ipaddress.ip_network(subnet["cidr"]).version == 4:
                    result.internal_cidrs.append(str(subnet["cidr"]))
                mode = ra_range_mode(subnet) if subnet else None
                if subnet and mode:
                    result.advertised.append(
                        Advertisement(
                            device=interface_device(port),
                            prefix=str(ipaddress.ip_network(subnet["cidr"])),
                            mode=mode,
                            mtu=mtu if isinstance(mtu, int) and mtu >= 1280 else None,
                        )
                    )
        elif port.get("device_owner") == ROUTER_GATEWAY_OWNER:
            result.gateway = port
    info = router.get("external_gateway_info") or {}
    if info:
        result.gateway = result.gateway or _synthetic_gateway(router)
        result.snat = info.get("enable_snat", True) is not False
    else:
        result.gateway = None
    if result.gateway is not None:
        for fixed in result.gateway.get("fixed_ips", []):
            subnet = state.subnet(fixed.get("subnet_id", ""))
            if subnet and subnet.get("gateway_ip") and ":" not in str(subnet["gateway_ip"]):
                result.default_gateway = str(ipaddress.ip_address(subnet["gateway_ip"]))
        for fip in state.floatingips:
            if fip.get("router_id") == rid and fip.get("port_id") and fip.get("fixed_ip_address"):
                result.floating.append(
                    (
                        str(ipaddress.ip_address(fip["floating_ip_address"])),
                        str(ipaddress.ip_address(fip["fixed_ip_address"])),
                    )
                )
    for route in router.get("routes") or []:
        try:
            dest = ipaddress.ip_network(route["destination"], strict=False)
            hop = ipaddress.ip_address(route["nexthop"])
        except (KeyError, ValueError):
            continue
        result.routes.append((str(dest), str(hop)))
    result.floating.sort()
    result.advertised.sort(key=lambda a: (a.device, a.prefix))
    return result


def gateway_device(port: Resource) -> str:
    """The gateway veth's name inside the router namespace."""
    return "qg-" + names.short(str(port["id"]))


def nat_ruleset(p: RouterPlan) -> str:
    """The body of ``table ip kumo-router`` for a router plan."""
    lines = [
        "chain prerouting {",
        "type nat hook prerouting priority dstnat; policy accept;",
    ]
    lines += [f"ip daddr {fip} dnat to {fixed}" for fip, fixed in p.floating]
    lines += ["}", "chain output {", "type nat hook output priority -100; policy accept;"]
    lines += [f"ip daddr {fip} dnat to {fixed}" for fip, fixed in p.floating]
    lines += ["}", "chain postrouting {"]
    lines.append("type nat hook postrouting priority srcnat; policy accept;")
    if p.gateway is not None:
        qg = gateway_device(p.gateway)
        lines += [f'ip saddr {fixed} oifname "{qg}" snat to {fip}' for fip, fixed in p.floating]
        gateway_ips = port_ips(p.gateway, 4)
        if p.snat and gateway_ips and p.internal_cidrs:
            cidrs = ", ".join(sorted(set(p.internal_cidrs)))
            lines.append(f'ip saddr {{ {cidrs} }} oifname "{qg}" snat to {gateway_ips[0]}')
    lines.append("}")
    return "\n".join(lines)


def sync(
    state: DesiredState, p: RouterPlan, external_bridge: str, *, state_dir: Path | None = None
) -> bool:
    """Make the router's namespace match the plan; True if anything changed.

    ``state_dir`` holds the router advertisement daemon's files; without it no
    IPv6 prefix is advertised.
    """
    ns = p.namespace
    created = ip.ensure_namespace(ns)
    changed = created
    if created:
        enable_forwarding(ns)
    # The metadata proxy listens on 169.254.169.254 inside the namespace.
    changed |= ip.sync_addresses("lo", [f"{METADATA_IP}/32"], ns)
    wanted_devices = {"lo"}
    for port in p.interfaces:
        dev = interface_device(port)
        wanted_devices.add(dev)
        network = state.network(str(port["network_id"])) or {}
        changed |= ip.ensure_veth(
            names.device(names.ROUTER_VETH, str(port["id"])),
            dev,
            peer_netns=ns,
            bridge=names.bridge(str(port["network_id"])),
            mac=port.get("mac_address"),
            mtu=network.get("mtu"),
        )
        changed |= ip.sync_addresses(dev, state.port_cidrs(port), ns)
    if p.gateway is not None:
        qg = gateway_device(p.gateway)
        wanted_devices.add(qg)
        changed |= ip.ensure_veth(
            names.device(names.GATEWAY_VETH, str(p.gateway["id"])),
            qg,
            peer_netns=ns,
            bridge=external_bridge,
            mac=p.gateway.get("mac_address"),
        )
        addresses = state.port_cidrs(p.gateway) + [f"{fip}/32" for fip, _ in p.floating]
        changed |= ip.sync_addresses(qg, addresses, ns)
        if p.default_gateway:
            routes = ip.list_routes(ns)
            if not any(
                r.get("dst") == "default" and r.get("gateway") == p.default_gateway for r in routes
            ):
                ip.replace_route("default", via=p.default_gateway, dev=qg, netns=ns)
                changed = True
    advertiser = RouterAdvertiser(state_dir, p.router_id) if state_dir else None
    for link in ip.list_links(ns):
        if link.name not in wanted_devices:
            if (
                advertiser is not None
                and link.name.startswith("qr-")
                and advertiser.advertised(link.name, ns)
            ):
                # Guests drop their default route through it now, not in 30 minutes.
                withdraw(ns, link.name, link.mac)
            ip.delete_link(link.name, ns)
            changed = True
    if advertiser is not None:
        changed |= advertiser.sync(p.advertised, restart=created)
    for dest, hop in p.routes:
        ip.replace_route(dest, via=hop, netns=ns)
    body = nat_ruleset(p)
    if _listing_drifted(ns, body):
        nft.replace_table("ip", TABLE, body, netns=ns)
        _applied[ns] = (body, nft.table_text("ip", TABLE, netns=ns))
        changed = True
    return changed


#: Per namespace: the last ruleset body applied and how nft listed it afterwards.
_applied: dict[str, tuple[str, str | None]] = {}


def _listing_drifted(ns: str, body: str) -> bool:
    last = _applied.get(ns)
    if last is None or last[0] != body:
        return True
    return nft.table_text("ip", TABLE, netns=ns) != last[1]


def remove(router_id: str, *, state_dir: Path | None = None) -> None:
    """Delete a router's namespace (its devices and table go with it).

    With ``state_dir``, its advertised interfaces first say goodbye (router
    lifetime 0) and its advertisement daemon stops.
    """
    ns = names.router_namespace(router_id)
    if state_dir is not None:
        advertiser = RouterAdvertiser(state_dir, router_id)
        advertiser.stop()
        if ip.namespace_exists(ns):
            for link in ip.list_links(ns):
                if link.name.startswith("qr-") and advertiser.advertised(link.name, ns):
                    withdraw(ns, link.name, link.mac)
        advertiser.forget()
    ip.delete_namespace(ns)
    _applied.pop(ns, None)
