"""IP address management: allocation pools, and fixed IPs for ports.

Addresses are handed out from a subnet's allocation pools in order, the lowest
free one first; an address is unique per subnet (the primary key of
``net_ip_allocations``), so two concurrent allocations of the same address
cannot both commit. SLAAC (and DHCPv6-stateless) IPv6 subnets give each port
its EUI-64 address, derived from the MAC as Neutron does.
"""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.network.db.models import IPAllocation, Subnet
from kumo.network.service.core import bad, conflict, invalid_input, subnet_not_found

AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")


def _int(address: str) -> int:
    return int(ipaddress.ip_address(address))


def _text(value: int, version: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def default_pools(cidr: str, gateway_ip: str | None) -> list[dict[str, str]]:
    """The whole cidr minus the network (and IPv4 broadcast) address and the gateway."""
    net = ipaddress.ip_network(cidr)
    if net.num_addresses < 4 and net.version == 4:
        return []
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    gateway = _int(gateway_ip) if gateway_ip else None
    ranges: list[tuple[int, int]] = [(first, last)]
    if gateway is not None and first <= gateway <= last:
        ranges = [(lo, hi) for lo, hi in ((first, gateway - 1), (gateway + 1, last)) if lo <= hi]
    return [{"start": _text(lo, net.version), "end": _text(hi, net.version)} for lo, hi in ranges]


def validate_pools(
    pools: list[dict[str, str]], cidr: str, gateway_ip: str | None
) -> list[dict[str, str]]:
    """Check pools as Neutron does: valid, inside the cidr, disjoint, gateway outside."""
    net = ipaddress.ip_network(cidr)
    low = int(net.network_address) + (0 if net.version == 6 else 1)
    high = int(net.broadcast_address) - (0 if net.version == 6 else 1)
    ranges: list[tuple[int, int]] = []
    for pool in pools:
        try:
            start_ip = ipaddress.ip_address(pool["start"])
            end_ip = ipaddress.ip_address(pool["end"])
        except (KeyError, ValueError, TypeError):
            raise bad(
                "InvalidAllocationPool", f"The allocation pool {pool} is not valid."
            ) from None
        start, end = int(start_ip), int(end_ip)
        if start_ip.version != net.version or end_ip.version != net.version or start > end:
            raise bad("InvalidAllocationPool", f"The allocation pool {pool} is not valid.")
        if start < low or end > high:
            raise bad(
                "OutOfBoundsAllocationPool",
                f"The allocation pool {start_ip}-{end_ip} spans beyond the subnet cidr {cidr}.",
            )
        ranges.append((start, end))
    ranges.sort()
    v = net.version
    for (s1, e1), (s2, e2) in itertools.pairwise(ranges):
        if s2 <= e1:
            raise conflict(
                "OverlappingAllocationPools",
                f"Found overlapping allocation pools: {_text(s1, v)}-{_text(e1, v)} "
                f"{_text(s2, v)}-{_text(e2, v)} for subnet {cidr}.",
            )
    if gateway_ip:
        gw = _int(gateway_ip)
        for start, end in ranges:
            if start <= gw <= end:
                raise conflict(
                    "GatewayConflictWithAllocationPools",
                    f"Gateway ip {gateway_ip} conflicts with allocation pool "
                    f"{_text(start, v)}-{_text(end, v)}",
                )
    return [{"start": _text(lo, v), "end": _text(hi, v)} for lo, hi in ranges]


def eui64(cidr: str, mac: str) -> str:
    """The SLAAC address of ``mac`` in a /64."""
    net = ipaddress.ip_network(cidr)
    octets = [int(b, 16) for b in mac.split(":")]
    octets[0] ^= 0x02
    iid = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    value = int(net.network_address) | int.from_bytes(bytes(iid), "big")
    return str(ipaddress.ip_address(value))


def allocated(session: Session, subnet_id: str) -> set[str]:
    """Every address allocated on a subnet."""
    return set(
        session.scalars(select(IPAllocation.ip_address).where(IPAllocation.subnet_id == subnet_id))
    )


def next_free(session: Session, subnet: Subnet) -> str | None:
    """The lowest free address of the subnet's pools, or None when exhausted."""
    return _next_excluding(session, subnet, set())


def _check_requested(session: Session, subnet: Subnet, ip: str, owner: str) -> None:
    address = ipaddress.ip_address(ip)
    net = ipaddress.ip_network(subnet.cidr)
    if address not in net or (
        net.version == 4
        and net.num_addresses > 2
        and address in (net.network_address, net.broadcast_address)
    ):
        raise bad(
            "InvalidIpForSubnet",
            f"IP address {ip} is not a valid IP for the specified subnet.",
        )
    if ip == subnet.gateway_ip and not owner.startswith("network:"):
        raise conflict(
            "IpAddressAlreadyAllocated",
            f"IP address {ip} already allocated in subnet {subnet.id}",
        )
    if ip in allocated(session, subnet.id):
        raise conflict(
            "IpAddressAlreadyAllocated",
            f"IP address {ip} already allocated in subnet {subnet.id}",
        )


def plan_fixed_ips(
    session: Session,
    network_id: str,
    requested: list[dict[str, Any]] | None,
    mac: str,
    device_owner: str,
    keep: set[tuple[str, str]] | None = None,
) -> list[tuple[str, str]]:
    """The (subnet_id, ip_address) pairs a port gets.

    ``requested`` is the port's ``fixed_ips`` (None: Neutron's automatic choice —
    one IPv4 address from the first subnet with room, the SLAAC address on every
    SLAAC subnet and one address from the first stateful IPv6 subnet). ``keep``
    are pairs the port already holds (on update), which are not re-checked.
    """
    subnets = list(
        session.scalars(
            select(Subnet).where(Subnet.network_id == network_id).order_by(Subnet.created_at)
        )
    )
    by_id = {s.id: s for s in subnets}
    keep = keep or set()
    out: list[tuple[str, str]] = []
    if requested is None:
        v4_done = v6_done = False
        for s in subnets:
            if s.ip_version == 6 and s.ipv6_address_mode in AUTO_ADDRESS_MODES:
                if not device_owner.startswith("network:router"):
                    out.append((s.id, eui64(s.cidr, mac)))
                continue
            if (s.ip_version == 4 and v4_done) or (s.ip_version == 6 and v6_done):
                continue
            ip = next_free(session, s)
            if ip is None:
                continue
            out.append((s.id, ip))
            v4_done = v4_done or s.ip_version == 4
            v6_done = v6_done or s.ip_version == 6
        if subnets and not out:
            raise conflict(
                "IpAddressGenerationFailure",
                f"No more IP addresses available on network {network_id}.",
            )
        return out
    taken_now: set[tuple[str, str]] = set()
    for item in requested:
        subnet_id = item.get("subnet_id")
        ip = item.get("ip_address")
        subnet: Subnet | None
        if subnet_id is not None:
            subnet = by_id.get(subnet_id)
            if subnet is None:
                if session.get(Subnet, subnet_id) is not None:
                    raise invalid_input(
                        f"Failed to create port on network {network_id}, because fixed_ips "
                        f"included invalid subnet {subnet_id}"
                    )
                raise subnet_not_found(subnet_id)
        elif ip is not None:
            address = ipaddress.ip_address(ip)
            subnet = next((s for s in subnets if address in ipaddress.ip_network(s.cidr)), None)
            if subnet is None:
                raise bad(
                    "InvalidIpForNetwork",
                    f"IP address {ip} is not a valid IP for any of the subnets on the "
                    "specified network.",
                )
        else:
            raise invalid_input("IP allocation requires subnet_id or ip_address")
        if ip is None:
            if subnet.ip_version == 6 and subnet.ipv6_address_mode in AUTO_ADDRESS_MODES:
                ip = eui64(subnet.cidr, mac)
            else:
                current = next((p for p in keep if p[0] == subnet.id), None)
                if current and current not in taken_now:
                    ip = current[1]
                else:
                    used = {p[1] for p in taken_now if p[0] == subnet.id}
                    ip = _next_excluding(session, subnet, used)
                    if ip is None:
                        raise conflict(
                            "IpAddressGenerationFailure",
                            f"No more IP addresses available on network {network_id}.",
                        )
        elif (subnet.id, ip) not in keep:
            _check_requested(session, subnet, ip, device_owner)
        pair = (subnet.id, str(ipaddress.ip_address(ip)))
        if pair in taken_now:
            raise invalid_input(f"Duplicate IP address '{ip}'")
        taken_now.add(pair)
        out.append(pair)
    return out


def _next_excluding(session: Session, subnet: Subnet, also_used: set[str]) -> str | None:
    used = {_int(ip) for ip in allocated(session, subnet.id) | also_used}
    for pool in subnet.allocation_pools:
        addr, end = _int(pool["start"]), _int(pool["end"])
        # At most len(used)+1 steps per pool: the used set is what stands in the way.
        for _ in range(len(used) + 1):
            if addr > end:
                break
            if addr not in used:
                return _text(addr, subnet.ip_version)
            addr += 1
    return None


def assign(session: Session, port_id: str, network_id: str, pairs: list[tuple[str, str]]) -> None:
    """Record a port's addresses."""
    for position, (subnet_id, ip) in enumerate(pairs):
        session.add(
            IPAllocation(
                subnet_id=subnet_id,
                ip_address=ip,
                port_id=port_id,
                network_id=network_id,
                position=position,
            )
        )
