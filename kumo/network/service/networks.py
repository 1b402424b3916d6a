"""Networks: provider segments (flat, vlan, vxlan with automatic VNIs), MTU, sharing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.common.errors import ServiceUnavailable
from kumo.network.db.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    PortForwarding,
    Router,
    Subnet,
)
from kumo.network.service import core
from kumo.network.service.core import conflict, invalid_input, network_not_found
from kumo.network.service.routers import FLOATINGIP_OWNER

#: VXLAN VNIs handed out to project networks (devstack's ``vni_ranges = 1:1000``).
VNI_RANGE = (1, 1000)
#: Physical network of flat and VLAN networks when none is given (devstack's ``public``).
DEFAULT_PHYSNET = "public"
#: MTU of the underlying network; VXLAN loses 50 bytes to encapsulation.
PHYSICAL_MTU = 1500
VXLAN_OVERHEAD = 50
NETWORK_TYPES = ("flat", "vlan", "vxlan")
#: Ports Neutron deletes with their network instead of reporting it in use (a floating
#: IP's port goes with its floating IP, which an external network's deletion releases).
AUTO_DELETED_OWNERS = ("network:dhcp", FLOATINGIP_OWNER)


def max_mtu(network_type: str) -> int:
    """The largest MTU a network of this type can have."""
    return PHYSICAL_MTU - VXLAN_OVERHEAD if network_type == "vxlan" else PHYSICAL_MTU


def view(net: Network, subnet_ids: list[str], tags: list[str]) -> dict[str, Any]:
    """A network as the API shows it."""
    return {
        "id": net.id,
        "name": net.name,
        "status": net.status,
        "admin_state_up": net.admin_state_up,
        "shared": net.shared,
        "router:external": net.router_external,
        "mtu": net.mtu,
        "port_security_enabled": net.port_security_enabled,
        "provider:network_type": net.network_type,
        "provider:physical_network": net.physical_network,
        "provider:segmentation_id": net.segmentation_id,
        "subnets": subnet_ids,
        "availability_zones": ["nova"],
        "availability_zone_hints": list(net.availability_zone_hints or []),
        **core.standard(net, "networks", tags),
    }


def _views(session: Session, nets: list[Network]) -> list[dict[str, Any]]:
    ids = [n.id for n in nets]
    subnets: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for sid, nid in session.execute(
            select(Subnet.id, Subnet.network_id)
            .where(Subnet.network_id.in_(ids))
            .order_by(Subnet.created_at, Subnet.id)
        ):
            subnets[nid].append(sid)
    tags = core.tags_of(session, "networks", ids)
    return [view(n, subnets[n.id], tags[n.id]) for n in nets]


def load(session: Session, net_id: str) -> Network:
    """The network row, or ``NetworkNotFound``."""
    net = session.get(Network, net_id)
    if net is None:
        raise network_not_found(net_id)
    return net


def list_networks(db: Database) -> list[dict[str, Any]]:
    """Every network (the API keeps those the caller may see)."""
    with db.reader() as session:
        nets = list(session.scalars(select(Network)))
        return _views(session, nets)


def get_network(db: Database, net_id: str) -> dict[str, Any]:
    """One network, or ``NetworkNotFound``."""
    with db.reader() as session:
        return _views(session, [load(session, net_id)])[0]


def _segment(session: Session, data: dict[str, Any]) -> tuple[str, str | None, int | None, str]:
    """The (type, physnet, segmentation id, unique key) of a new network's segment."""
    kind = data.get("provider:network_type") or "vxlan"
    physnet = data.get("provider:physical_network")
    seg_id = data.get("provider:segmentation_id")
    if kind not in NETWORK_TYPES:
        raise invalid_input(f"network_type value '{kind}' not supported")
    if kind == "vxlan":
        if physnet:
            raise invalid_input("provider:physical_network specified for vxlan network")
        if seg_id is None:
            used = set(
                session.scalars(
                    select(Network.segmentation_id).where(Network.network_type == "vxlan")
                )
            )
            free = next((v for v in range(VNI_RANGE[0], VNI_RANGE[1] + 1) if v not in used), None)
            if free is None:
                raise ServiceUnavailable(
                    "Unable to create the network. No tenant network is available for allocation.",
                    code="NoNetworkAvailable",
                )
            seg_id = free
        elif not 1 <= seg_id <= 2**24 - 1:
            raise invalid_input(f"{seg_id} is not a valid VXLAN VNI, use 1 to {2**24 - 1}")
        key = f"vxlan:{seg_id}"
        taken = session.scalar(select(Network.id).where(Network.segment_key == key))
        if taken:
            raise conflict(
                "TunnelIdInUse",
                f"Unable to create the network. The tunnel ID {seg_id} is in use.",
            )
        return kind, None, seg_id, key
    physnet = physnet or DEFAULT_PHYSNET
    if kind == "flat":
        if seg_id is not None:
            raise invalid_input("provider:segmentation_id specified for flat network")
        key = f"flat:{physnet}"
        if session.scalar(select(Network.id).where(Network.segment_key == key)):
            raise conflict(
                "FlatNetworkInUse",
                f"Unable to create the flat network. Physical network {physnet} is in use.",
            )
        return kind, physnet, None, key
    if seg_id is None:
        used_vlans = set(
            session.scalars(
                select(Network.segmentation_id).where(
                    Network.network_type == "vlan", Network.physical_network == physnet
                )
            )
        )
        seg_id = next((v for v in range(1, 4095) if v not in used_vlans), None)
        if seg_id is None:
            raise invalid_input(f"no free VLAN on physical network {physnet}")
    if not 1 <= seg_id <= 4094:
        raise invalid_input(f"{seg_id} is not a valid VLAN tag, use 1 to 4094")
    key = f"vlan:{physnet}:{seg_id}"
    if session.scalar(select(Network.id).where(Network.segment_key == key)):
        raise conflict(
            "VlanIdInUse",
            f"Unable to create the network. The VLAN {seg_id} on physical network "
            f"{physnet} is in use.",
        )
    return kind, physnet, seg_id, key


def create_network(db: Database, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a network for ``project_id`` (quota ``network``)."""

    def work(session: Session) -> dict[str, Any]:
        owner = data.get("project_id") or data.get("tenant_id") or project_id
        core.check_quota(session, owner, "network")
        kind, physnet, seg_id, key = _segment(session, data)
        limit = max_mtu(kind)
        mtu = data.get("mtu", limit)
        if mtu > limit:
            raise invalid_input(f"Requested MTU is too big, maximum is {limit}")
        net = Network(
            id=core.new_id(),
            project_id=owner,
            name=data.get("name", ""),
            description=data.get("description", ""),
            admin_state_up=data.get("admin_state_up", True),
            shared=data.get("shared", False),
            router_external=data.get("router:external", False),
            port_security_enabled=data.get("port_security_enabled", True),
            mtu=mtu,
            network_type=kind,
            physical_network=physnet,
            segmentation_id=seg_id,
            segment_key=key,
            availability_zone_hints=data.get("availability_zone_hints", []),
        )
        session.add(net)
        session.flush()
        if data.get("tags"):
            core.set_tags(session, "networks", net.id, data["tags"])
        return _views(session, [net])[0]

    return core.retrying(db, work)


def update_network(db: Database, net_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a network's mutable attributes."""
    with db.writer() as session:
        net = load(session, net_id)
        for attr in (
            "provider:network_type",
            "provider:physical_network",
            "provider:segmentation_id",
        ):
            if attr in data and data[attr] != view(net, [], [])[attr]:
                raise invalid_input("Plugin does not support updating provider attributes")
        if "mtu" in data:
            if data["mtu"] > max_mtu(net.network_type):
                raise invalid_input(
                    f"Requested MTU is too big, maximum is {max_mtu(net.network_type)}"
                )
            net.mtu = data["mtu"]
        if data.get("shared") is False and net.shared:
            others = session.scalar(
                select(Port.id).where(
                    Port.network_id == net.id,
                    Port.project_id != net.project_id,
                    Port.project_id != "",
                    ~Port.device_owner.startswith("network:"),
                )
            )
            if others:
                raise conflict(
                    "InvalidSharedSetting",
                    f"Unable to reconfigure sharing settings for network {net.id}. "
                    "Multiple projects are using it.",
                )
        unexternal = data.get("router:external") is False and net.router_external
        if unexternal and session.scalar(select(Router.id).where(Router.gw_network_id == net.id)):
            raise conflict(
                "ExternalNetworkInUse",
                f"External network {net.id} cannot be updated to be made non-external, "
                "since it has existing gateway ports.",
            )
        simple = {
            "name": "name",
            "description": "description",
            "admin_state_up": "admin_state_up",
            "shared": "shared",
            "router:external": "router_external",
            "port_security_enabled": "port_security_enabled",
        }
        for key, column in simple.items():
            if key in data:
                setattr(net, column, data[key])
        core.touch(net)
        return _views(session, [net])[0]


def delete_network(db: Database, net_id: str) -> None:
    """Delete a network and its subnets; ``NetworkInUse`` while ports use it."""
    with db.writer() as session:
        net = load(session, net_id)
        busy = session.scalar(
            select(Port.id).where(
                Port.network_id == net.id, Port.device_owner.not_in(AUTO_DELETED_OWNERS)
            )
        )
        if busy:
            raise conflict(
                "NetworkInUse",
                f"Unable to complete operation on network {net.id}. "
                "There are one or more ports still in use on the network.",
            )
        # Floating IPs of an external network are released with it (Neutron's L3 plugin
        # deletes them before the network), associated or not.
        fip_ids = list(
            session.scalars(select(FloatingIP.id).where(FloatingIP.floating_network_id == net.id))
        )
        if fip_ids:
            session.execute(delete(PortForwarding).where(PortForwarding.floatingip_id.in_(fip_ids)))
            for fip_id in fip_ids:
                core.drop_tags(session, "floatingips", fip_id)
            session.execute(delete(FloatingIP).where(FloatingIP.id.in_(fip_ids)))
        subnet_ids = list(session.scalars(select(Subnet.id).where(Subnet.network_id == net.id)))
        session.execute(delete(IPAllocation).where(IPAllocation.network_id == net.id))
        session.execute(delete(Port).where(Port.network_id == net.id))
        for sid in subnet_ids:
            core.drop_tags(session, "subnets", sid)
        session.execute(delete(Subnet).where(Subnet.network_id == net.id))
        core.drop_tags(session, "networks", net.id)
        session.delete(net)
