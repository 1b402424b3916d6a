"""Ports: fixed IPs (IPAM), MACs, security groups, port security, bindings, DHCP options."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.common.errors import ServiceUnavailable
from kumo.network.db.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    PortSecurityGroup,
    SecurityGroup,
)
from kumo.network.service import core, ipam, security_groups
from kumo.network.service.core import bad, conflict, port_not_found

#: Router-owned ports that only the router API may delete.
ROUTER_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip")
#: The VIF type Kumo's Linux-bridge data plane binds ports with.
VIF_TYPE = "bridge"


def view(
    port: Port,
    network: Network,
    fixed_ips: list[dict[str, str]],
    groups: list[str],
    tags: list[str],
) -> dict[str, Any]:
    """A port as the API shows it (``_target``: its network's owner and sharing)."""
    return {
        "id": port.id,
        "name": port.name,
        "network_id": port.network_id,
        "mac_address": port.mac_address,
        "admin_state_up": port.admin_state_up,
        "status": port.status,
        "device_id": port.device_id,
        "device_owner": port.device_owner,
        "fixed_ips": fixed_ips,
        "security_groups": groups,
        "port_security_enabled": port.port_security_enabled,
        "allowed_address_pairs": [
            {"ip_address": p["ip_address"], "mac_address": p.get("mac_address") or port.mac_address}
            for p in port.allowed_address_pairs
        ],
        "extra_dhcp_opts": list(port.extra_dhcp_opts),
        "binding:host_id": port.binding_host_id,
        "binding:vif_type": port.binding_vif_type,
        "binding:vif_details": dict(port.binding_vif_details),
        "binding:vnic_type": port.binding_vnic_type,
        "binding:profile": dict(port.binding_profile),
        "dns_name": port.dns_name,
        **core.standard(port, "ports", tags),
        "_target": {"network:project_id": network.project_id, "shared": network.shared},
    }


def views(session: Session, ports: list[Port]) -> list[dict[str, Any]]:
    """Views of many ports with a fixed number of queries."""
    ids = [p.id for p in ports]
    ips: dict[str, list[dict[str, str]]] = {i: [] for i in ids}
    groups: dict[str, list[str]] = {i: [] for i in ids}
    nets: dict[str, Network] = {}
    if ids:
        for a in session.scalars(
            select(IPAllocation)
            .where(IPAllocation.port_id.in_(ids))
            .order_by(IPAllocation.position)
        ):
            ips[a.port_id].append({"subnet_id": a.subnet_id, "ip_address": a.ip_address})
        for pid, sgid in session.execute(
            select(PortSecurityGroup.port_id, PortSecurityGroup.security_group_id).where(
                PortSecurityGroup.port_id.in_(ids)
            )
        ):
            groups[pid].append(sgid)
        net_ids = {p.network_id for p in ports}
        nets = {n.id: n for n in session.scalars(select(Network).where(Network.id.in_(net_ids)))}
    tags = core.tags_of(session, "ports", ids)
    return [view(p, nets[p.network_id], ips[p.id], sorted(groups[p.id]), tags[p.id]) for p in ports]


def load(session: Session, port_id: str) -> Port:
    """The port row, or ``PortNotFound``."""
    port = session.get(Port, port_id)
    if port is None:
        raise port_not_found(port_id)
    return port


def list_ports(db: Database) -> list[dict[str, Any]]:
    """Every port (the API keeps those the caller may see)."""
    with db.reader() as session:
        return views(session, list(session.scalars(select(Port))))


def get_port(db: Database, port_id: str) -> dict[str, Any]:
    """One port, or ``PortNotFound``."""
    with db.reader() as session:
        return views(session, [load(session, port_id)])[0]


def network_facts(db: Database, net_id: str) -> dict[str, Any]:
    """What policies need to know about a network before a port is made on it."""
    with db.reader() as session:
        net = session.get(Network, net_id)
        if net is None:
            raise core.network_not_found(net_id)
        return {
            "project_id": net.project_id,
            "shared": net.shared,
            "router:external": net.router_external,
            "port_security_enabled": net.port_security_enabled,
        }


def _new_mac(session: Session, network_id: str) -> str:
    for _ in range(16):
        mac = "fa:16:3e:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(3))
        if not _mac_taken(session, network_id, mac):
            return mac
    raise ServiceUnavailable(
        f"Unable to generate unique mac on network {network_id}.",
        code="NetworkMacAddressGenerationFailure",
    )


def _mac_taken(session: Session, network_id: str, mac: str) -> bool:
    return bool(
        session.scalar(
            select(Port.id).where(Port.network_id == network_id, Port.mac_address == mac)
        )
    )


def _check_groups(session: Session, owner: str, groups: list[str], is_admin: bool) -> None:
    for sg_id in groups:
        sg = session.get(SecurityGroup, sg_id)
        if sg is None or (sg.project_id != owner and not is_admin):
            raise security_groups.not_found(sg_id)


def _set_groups(session: Session, port_id: str, groups: list[str]) -> None:
    session.execute(delete(PortSecurityGroup).where(PortSecurityGroup.port_id == port_id))
    for sg_id in dict.fromkeys(groups):
        session.add(PortSecurityGroup(port_id=port_id, security_group_id=sg_id))


def _security_checks(
    port_security: bool, groups: list[str] | None, pairs: list[dict[str, str]]
) -> None:
    if not port_security and groups:
        raise bad(
            "PortSecurityAndIPRequiredForSecurityGroups",
            "Port security must be enabled and port must have an IP address in order to use "
            "security groups.",
        )
    if not port_security and pairs:
        raise conflict(
            "AddressPairAndPortSecurityRequired",
            "Port Security must be enabled in order to have allowed address pairs on a port.",
        )


def create_in_session(
    session: Session, project_id: str, data: dict[str, Any], *, is_admin: bool
) -> Port:
    """Create a port inside an open transaction (routers and floating IPs use this too)."""
    return _create(session, project_id, data, is_admin=is_admin)[0]


def _create(
    session: Session, project_id: str, data: dict[str, Any], *, is_admin: bool
) -> tuple[Port, dict[str, Any]]:
    """The new port and its view (built from what was just written, without re-reading)."""
    net = session.get(Network, data["network_id"])
    if net is None:
        raise core.network_not_found(data["network_id"])
    owner = data.get("project_id", data.get("tenant_id", project_id))
    if owner is None:
        owner = project_id
    core.check_quota(session, owner, "port")
    mac = data.get("mac_address")
    if mac is None:
        mac = _new_mac(session, net.id)
    elif _mac_taken(session, net.id, mac):
        raise conflict(
            "MacAddressInUse",
            f"Unable to complete operation for network {net.id}. The mac address {mac} is in use.",
        )
    device_owner = data.get("device_owner", "")
    port_security = data.get("port_security_enabled", net.port_security_enabled)
    pairs = data.get("allowed_address_pairs", [])
    groups = data.get("security_groups")
    _security_checks(port_security, groups, pairs)
    if groups is None:
        groups = []
        if port_security and owner and not device_owner.startswith("network:"):
            groups = [security_groups.ensure_default(session, owner)]
    else:
        _check_groups(session, owner, groups, is_admin)
    pairs_to_ips = ipam.plan_fixed_ips(session, net.id, data.get("fixed_ips"), mac, device_owner)
    host = data.get("binding:host_id", "")
    port = Port(
        id=data.get("id") or core.new_id(),
        project_id=owner,
        network_id=net.id,
        name=data.get("name", ""),
        description=data.get("description", ""),
        mac_address=mac,
        admin_state_up=data.get("admin_state_up", True),
        status="ACTIVE" if host else "DOWN",
        device_id=data.get("device_id", ""),
        device_owner=device_owner,
        port_security_enabled=port_security,
        binding_host_id=host,
        binding_vnic_type=data.get("binding:vnic_type", "normal"),
        binding_vif_type=VIF_TYPE if host else "unbound",
        binding_vif_details={"port_filter": True} if host else {},
        binding_profile=data.get("binding:profile") or {},
        allowed_address_pairs=pairs,
        extra_dhcp_opts=data.get("extra_dhcp_opts", []),
        dns_name=data.get("dns_name", ""),
    )
    session.add(port)
    session.flush()
    ipam.assign(session, port.id, net.id, pairs_to_ips)
    _set_groups(session, port.id, groups)
    tags = sorted(set(data.get("tags") or []))
    if tags:
        core.set_tags(session, "ports", port.id, tags)
    session.flush()
    fixed_ips = [{"subnet_id": sid, "ip_address": ip} for sid, ip in pairs_to_ips]
    return port, view(port, net, fixed_ips, sorted(set(groups)), tags)


def create_port(
    db: Database, project_id: str, data: dict[str, Any], *, is_admin: bool
) -> dict[str, Any]:
    """Create a port (quota ``port``)."""

    def work(session: Session) -> dict[str, Any]:
        return _create(session, project_id, data, is_admin=is_admin)[1]

    return core.retrying(db, work)


def update_port(
    db: Database, port_id: str, data: dict[str, Any], *, is_admin: bool
) -> dict[str, Any]:
    """Change a port: addresses re-planned, groups and port security re-checked."""

    def work(session: Session) -> dict[str, Any]:
        port = load(session, port_id)
        if "mac_address" in data and data["mac_address"] != port.mac_address:
            if port.binding_host_id:
                raise conflict(
                    "PortBound",
                    f"Unable to complete operation on port {port.id}, port is already bound, "
                    f"port type: {port.binding_vif_type}, old_mac {port.mac_address}, "
                    f"new_mac {data['mac_address']}.",
                )
            if _mac_taken(session, port.network_id, data["mac_address"]):
                raise conflict(
                    "MacAddressInUse",
                    f"Unable to complete operation for network {port.network_id}. "
                    f"The mac address {data['mac_address']} is in use.",
                )
            port.mac_address = data["mac_address"]
        if "fixed_ips" in data:
            current = {
                (a.subnet_id, a.ip_address)
                for a in session.scalars(
                    select(IPAllocation).where(IPAllocation.port_id == port.id)
                )
            }
            session.execute(delete(IPAllocation).where(IPAllocation.port_id == port.id))
            session.flush()
            pairs = ipam.plan_fixed_ips(
                session,
                port.network_id,
                data["fixed_ips"],
                port.mac_address,
                port.device_owner,
                keep=current,
            )
            ipam.assign(session, port.id, port.network_id, pairs)
            kept_ips = {ip for _, ip in pairs}
            session.execute(
                update(FloatingIP)
                .where(FloatingIP.port_id == port.id, FloatingIP.fixed_ip_address.not_in(kept_ips))
                .values(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
            )
        port_security = data.get("port_security_enabled", port.port_security_enabled)
        groups = data.get("security_groups")
        current_groups = list(
            session.scalars(
                select(PortSecurityGroup.security_group_id).where(
                    PortSecurityGroup.port_id == port.id
                )
            )
        )
        pairs_after = data.get("allowed_address_pairs", port.allowed_address_pairs)
        if not port_security and groups is None and current_groups:
            raise conflict(
                "PortSecurityPortHasSecurityGroup",
                "Port has security group associated. Cannot disable port security or ip "
                "address until security group is removed",
            )
        _security_checks(port_security, groups, pairs_after)
        if groups is not None:
            _check_groups(session, port.project_id, groups, is_admin)
            _set_groups(session, port.id, groups)
        port.port_security_enabled = port_security
        simple = {
            "name": "name",
            "description": "description",
            "admin_state_up": "admin_state_up",
            "device_id": "device_id",
            "device_owner": "device_owner",
            "allowed_address_pairs": "allowed_address_pairs",
            "extra_dhcp_opts": "extra_dhcp_opts",
            "binding:vnic_type": "binding_vnic_type",
            "binding:profile": "binding_profile",
            "dns_name": "dns_name",
        }
        for key, column in simple.items():
            if key in data:
                value = data[key]
                setattr(port, column, value if value is not None else {})
        if "binding:host_id" in data:
            host = data["binding:host_id"] or ""
            port.binding_host_id = host
            port.binding_vif_type = VIF_TYPE if host else "unbound"
            port.binding_vif_details = {"port_filter": True} if host else {}
            port.status = "ACTIVE" if host else "DOWN"
        core.touch(port)
        session.flush()
        return views(session, [port])[0]

    return core.retrying(db, work)


def delete_port(db: Database, port_id: str) -> dict[str, Any]:
    """Delete a port; router-owned ports only through the router (or floating IP) API."""
    with db.writer() as session:
        port = load(session, port_id)
        if port.device_owner in ROUTER_OWNERS:
            raise conflict(
                "ServicePortInUse",
                f"Port {port.id} cannot be deleted directly via the port API: has device owner "
                f"{port.device_owner}.",
            )
        before = views(session, [port])[0]
        session.execute(
            update(FloatingIP)
            .where(FloatingIP.port_id == port.id)
            .values(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        )
        core.drop_tags(session, "ports", port.id)
        session.delete(port)
        return before
