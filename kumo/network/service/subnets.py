"""Subnets (IPv4 and IPv6), with cidrs given or carved from a subnet pool."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.network.db.models import IPAllocation, Network, Port, Subnet, SubnetPool
from kumo.network.service import core, ipam
from kumo.network.service.core import bad, conflict, invalid_input, subnet_not_found

MAX_DNS_NAMESERVERS = 5
MAX_HOST_ROUTES = 20
#: Ports whose addresses do not keep a subnet from being deleted.
AUTO_DELETED_OWNERS = ("network:dhcp",)


def view(subnet: Subnet, network: Network, tags: list[str]) -> dict[str, Any]:
    """A subnet as the API shows it (``_target``: facts policies test)."""
    return {
        "id": subnet.id,
        "name": subnet.name,
        "network_id": subnet.network_id,
        "ip_version": subnet.ip_version,
        "cidr": subnet.cidr,
        "gateway_ip": subnet.gateway_ip,
        "allocation_pools": list(subnet.allocation_pools),
        "dns_nameservers": list(subnet.dns_nameservers),
        "host_routes": list(subnet.host_routes),
        "enable_dhcp": subnet.enable_dhcp,
        "ipv6_ra_mode": subnet.ipv6_ra_mode,
        "ipv6_address_mode": subnet.ipv6_address_mode,
        "subnetpool_id": subnet.subnetpool_id,
        "service_types": [],
        "segment_id": None,
        "router:external": network.router_external,
        **core.standard(subnet, "subnets", tags),
        "_target": {
            "network:project_id": network.project_id,
            "shared": network.shared,
            "router:external": network.router_external,
        },
    }


def views(session: Session, subnets: list[Subnet]) -> list[dict[str, Any]]:
    """Views of many subnets with two extra queries."""
    net_ids = {s.network_id for s in subnets}
    nets = (
        {n.id: n for n in session.scalars(select(Network).where(Network.id.in_(net_ids)))}
        if net_ids
        else {}
    )
    tags = core.tags_of(session, "subnets", [s.id for s in subnets])
    return [view(s, nets[s.network_id], tags[s.id]) for s in subnets]


def load(session: Session, subnet_id: str) -> Subnet:
    """The subnet row, or ``SubnetNotFound``."""
    subnet = session.get(Subnet, subnet_id)
    if subnet is None:
        raise subnet_not_found(subnet_id)
    return subnet


def list_subnets(db: Database) -> list[dict[str, Any]]:
    """Every subnet (the API keeps those the caller may see)."""
    with db.reader() as session:
        return views(session, list(session.scalars(select(Subnet))))


def get_subnet(db: Database, subnet_id: str) -> dict[str, Any]:
    """One subnet, or ``SubnetNotFound``."""
    with db.reader() as session:
        return views(session, [load(session, subnet_id)])[0]


def within(
    inner: ipaddress.IPv4Network | ipaddress.IPv6Network,
    outer: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> bool:
    """True when ``inner`` lies inside ``outer`` (same IP version)."""
    return (
        inner.version == outer.version
        and int(inner.network_address) >= int(outer.network_address)
        and int(inner.broadcast_address) <= int(outer.broadcast_address)
    )


def _check_version(value: str, ip_version: int, attr: str) -> None:
    addr = value.split("/")[0]
    if ipaddress.ip_address(addr).version != ip_version:
        raise invalid_input(f"{attr} '{value}' does not match the ip_version '{ip_version}'")


def _allocate_from_pool(
    session: Session, pool: SubnetPool, prefixlen: int | None, cidr: str | None
) -> str:
    """A free prefix of the pool (or check that ``cidr`` lies in it)."""
    taken = [
        ipaddress.ip_network(c)
        for c in session.scalars(select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id))
    ]
    prefixes = [ipaddress.ip_network(p) for p in pool.prefixes]
    if cidr is not None:
        net = ipaddress.ip_network(cidr)
        if not any(within(net, p) for p in prefixes):
            raise bad(
                "SubnetAllocationError",
                f"Failed to allocate subnet: Cidr {cidr} not in the subnet pool.",
            )
        if any(net.overlaps(t) for t in taken):
            raise bad(
                "SubnetAllocationError",
                f"Failed to allocate subnet: Cidr {cidr} overlaps an allocated subnet.",
            )
        return cidr
    length = prefixlen if prefixlen is not None else pool.default_prefixlen
    if length < pool.min_prefixlen:
        raise bad(
            "MinPrefixSubnetAllocationError",
            f"Unable to allocate subnet with prefix length {length}, minimum allowed prefix "
            f"is {pool.min_prefixlen}.",
        )
    if length > pool.max_prefixlen:
        raise bad(
            "MaxPrefixSubnetAllocationError",
            f"Unable to allocate subnet with prefix length {length}, maximum allowed prefix "
            f"is {pool.max_prefixlen}.",
        )
    for prefix in prefixes:
        if length < prefix.prefixlen:
            continue
        for candidate in prefix.subnets(new_prefix=length):
            if not any(candidate.overlaps(t) for t in taken):
                return str(candidate)
    raise bad(
        "SubnetAllocationError",
        f"Failed to allocate subnet: Insufficient prefix space to allocate subnet size /{length}.",
    )


def create_subnet(db: Database, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a subnet (quota ``subnet``); cidr from the request or from a subnet pool."""

    def work(session: Session) -> dict[str, Any]:
        net = session.get(Network, data["network_id"])
        if net is None:
            raise core.network_not_found(data["network_id"])
        owner = data.get("project_id") or data.get("tenant_id") or project_id
        core.check_quota(session, owner, "subnet")
        version = data["ip_version"]
        cidr = data.get("cidr")
        pool_id = data.get("subnetpool_id")
        if cidr is None and pool_id is None:
            raise bad(
                "neutron:BadRequest", "Bad subnet request: a cidr or a subnetpool_id is required."
            )
        if cidr is not None:
            _check_version(cidr, version, "cidr")
        if pool_id is not None:
            pool = session.get(SubnetPool, pool_id)
            if pool is None:
                raise core.not_found(
                    "SubnetPoolNotFound", f"Subnet pool {pool_id} could not be found."
                )
            if pool.ip_version != version:
                raise invalid_input(
                    f"Cannot allocate IPv{version} subnet from IPv{pool.ip_version} subnet pool"
                )
            cidr = _allocate_from_pool(session, pool, data.get("prefixlen"), cidr)
        assert cidr is not None
        net_cidr = ipaddress.ip_network(cidr)
        for other in session.scalars(select(Subnet).where(Subnet.network_id == net.id)):
            if net_cidr.overlaps(ipaddress.ip_network(other.cidr)):
                raise invalid_input(
                    f"Requested subnet with cidr: {cidr} for network: {net.id} overlaps "
                    "with another subnet"
                )
        ra_mode = data.get("ipv6_ra_mode")
        addr_mode = data.get("ipv6_address_mode")
        enable_dhcp = data.get("enable_dhcp", True)
        if version == 4 and (ra_mode or addr_mode):
            raise invalid_input(
                "ipv6_ra_mode or ipv6_address_mode cannot be set when ip_version is 4"
            )
        if ra_mode and addr_mode and ra_mode != addr_mode:
            raise invalid_input(
                f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{addr_mode}' "
                "is not valid. If both attributes are set, they must be the same value"
            )
        if (ra_mode or addr_mode) and not enable_dhcp:
            raise invalid_input("Cannot disable enable_dhcp with ipv6 attributes set")
        if addr_mode in ipam.AUTO_ADDRESS_MODES and net_cidr.prefixlen != 64:
            raise invalid_input(
                f"Invalid CIDR {cidr} for IPv6 address mode. OpenStack uses the EUI-64 address "
                "format, which requires the prefix to be /64"
            )
        if "gateway_ip" in data:
            gateway = data["gateway_ip"]
        else:
            gateway = str(net_cidr.network_address + 1) if net_cidr.num_addresses > 2 else None
        if gateway is not None:
            _check_gateway(gateway, cidr, version)
        pools = data.get("allocation_pools")
        if pools is None:
            pools = ipam.default_pools(cidr, gateway)
        else:
            pools = ipam.validate_pools(pools, cidr, gateway)
        dns = data.get("dns_nameservers", [])
        routes = data.get("host_routes", [])
        _check_lists(dns, routes, version)
        subnet = Subnet(
            id=core.new_id(),
            project_id=owner,
            network_id=net.id,
            name=data.get("name", ""),
            description=data.get("description", ""),
            ip_version=version,
            cidr=cidr,
            gateway_ip=gateway,
            enable_dhcp=enable_dhcp,
            ipv6_ra_mode=ra_mode,
            ipv6_address_mode=addr_mode,
            subnetpool_id=pool_id,
            allocation_pools=pools,
            dns_nameservers=dns,
            host_routes=routes,
        )
        session.add(subnet)
        session.flush()
        if addr_mode in ipam.AUTO_ADDRESS_MODES:
            _add_auto_addresses(session, subnet)
        if data.get("tags"):
            core.set_tags(session, "subnets", subnet.id, data["tags"])
        core.touch(net)
        return views(session, [subnet])[0]

    return core.retrying(db, work)


def _add_auto_addresses(session: Session, subnet: Subnet) -> None:
    """As Neutron: a new SLAAC subnet gives every existing port its EUI-64 address.

    Router ports are left alone (they take the gateway through an interface).
    """
    existing = session.scalars(
        select(Port).where(
            Port.network_id == subnet.network_id, ~Port.device_owner.startswith("network:router")
        )
    )
    for port in existing:
        count = session.scalar(
            select(func.count()).select_from(IPAllocation).where(IPAllocation.port_id == port.id)
        )
        session.add(
            IPAllocation(
                subnet_id=subnet.id,
                ip_address=ipam.eui64(subnet.cidr, port.mac_address),
                port_id=port.id,
                network_id=subnet.network_id,
                position=int(count or 0),
            )
        )


def _check_gateway(gateway: str, cidr: str, version: int) -> None:
    _check_version(gateway, version, "gateway_ip")
    net = ipaddress.ip_network(cidr)
    address = ipaddress.ip_address(gateway)
    if (
        version == 4
        and net.num_addresses > 2
        and address
        in (
            net.network_address,
            net.broadcast_address,
        )
    ):
        raise invalid_input("Gateway is not valid on subnet")
    if version == 6 and address == net.network_address:
        raise invalid_input("Gateway is not valid on subnet")


def _check_lists(dns: list[str], routes: list[dict[str, str]], version: int) -> None:
    if len(dns) > MAX_DNS_NAMESERVERS:
        raise bad(
            "DNSNameServersExhausted",
            f"Unable to complete operation for the subnet. The number of DNS nameservers "
            f"exceeds the limit {MAX_DNS_NAMESERVERS}.",
        )
    if len(routes) > MAX_HOST_ROUTES:
        raise bad(
            "HostRoutesExhausted",
            f"Unable to complete operation for the subnet. The number of host routes "
            f"exceeds the limit {MAX_HOST_ROUTES}.",
        )
    for route in routes:
        _check_version(route["destination"], version, "destination")
        _check_version(route["nexthop"], version, "nexthop")


def update_subnet(db: Database, subnet_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a subnet's mutable attributes (pools re-validated against the gateway)."""
    with db.writer() as session:
        subnet = load(session, subnet_id)
        gateway = data.get("gateway_ip", subnet.gateway_ip)
        if "gateway_ip" in data and gateway is not None:
            _check_gateway(gateway, subnet.cidr, subnet.ip_version)
            holder = session.scalar(
                select(IPAllocation.port_id).where(
                    IPAllocation.subnet_id == subnet.id, IPAllocation.ip_address == gateway
                )
            )
            if holder and gateway != subnet.gateway_ip:
                raise conflict(
                    "GatewayIpInUse",
                    f"Current gateway ip {gateway} already in use by port {holder}. "
                    "Unable to update.",
                )
        if data.get("allocation_pools") is not None:
            subnet.allocation_pools = ipam.validate_pools(
                data["allocation_pools"], subnet.cidr, gateway
            )
        elif "allocation_pools" in data:
            subnet.allocation_pools = ipam.default_pools(subnet.cidr, gateway)
        elif gateway != subnet.gateway_ip:
            # As Neutron: pools are re-checked against the gateway only when it changes.
            ipam.validate_pools(subnet.allocation_pools, subnet.cidr, gateway)
        dns = data.get("dns_nameservers", subnet.dns_nameservers)
        routes = data.get("host_routes", subnet.host_routes)
        _check_lists(dns, routes, subnet.ip_version)
        subnet.gateway_ip = gateway
        subnet.dns_nameservers = list(dns)
        subnet.host_routes = list(routes)
        for key in ("name", "description", "enable_dhcp"):
            if key in data:
                setattr(subnet, key, data[key])
        if subnet.ip_version == 6 and subnet.ipv6_address_mode and not subnet.enable_dhcp:
            raise invalid_input("Cannot disable enable_dhcp with ipv6 attributes set")
        core.touch(subnet)
        return views(session, [subnet])[0]


def delete_subnet(db: Database, subnet_id: str) -> None:
    """Delete a subnet; ``SubnetInUse`` while ports other than DHCP hold addresses in it."""
    with db.writer() as session:
        subnet = load(session, subnet_id)
        holders = (
            select(IPAllocation.port_id)
            .join(Port, Port.id == IPAllocation.port_id)
            .where(
                IPAllocation.subnet_id == subnet.id,
                Port.device_owner.not_in(AUTO_DELETED_OWNERS),
            )
        )
        if subnet.ipv6_address_mode in ipam.AUTO_ADDRESS_MODES:
            # As Neutron: automatic (EUI-64) addresses go with their subnet; only
            # router interfaces keep it in use.
            holders = holders.where(Port.device_owner.startswith("network:router"))
        busy = session.scalar(holders)
        if busy:
            raise conflict(
                "SubnetInUse",
                f"Unable to complete operation on subnet {subnet.id}: One or more ports have "
                "an IP allocation from this subnet.",
            )
        session.execute(delete(IPAllocation).where(IPAllocation.subnet_id == subnet.id))
        core.drop_tags(session, "subnets", subnet.id)
        net = session.get(Network, subnet.network_id)
        if net is not None:
            core.touch(net)
        session.delete(subnet)
