"""Floating IPs and their port forwardings."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.common.errors import NotFound
from kumo.network.db.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    PortForwarding,
    Router,
)
from kumo.network.service import core, ports
from kumo.network.service.core import bad, conflict
from kumo.network.service.routers import FLOATINGIP_OWNER, INTERFACE_OWNER, fixed_ips_of


def fip_not_found(fip_id: str) -> NotFound:
    """``FloatingIPNotFound``."""
    return core.not_found("FloatingIPNotFound", f"Floating IP {fip_id} could not be found")


def fip_view(fip: FloatingIP, tags: list[str]) -> dict[str, Any]:
    """A floating IP as the API shows it."""
    return {
        "id": fip.id,
        "floating_ip_address": fip.floating_ip_address,
        "floating_network_id": fip.floating_network_id,
        "router_id": fip.router_id,
        "port_id": fip.port_id,
        "fixed_ip_address": fip.fixed_ip_address,
        "status": fip.status,
        **core.standard(fip, "floatingips", tags),
    }


def _fip_views(session: Session, fips: list[FloatingIP]) -> list[dict[str, Any]]:
    tags = core.tags_of(session, "floatingips", [f.id for f in fips])
    return [fip_view(f, tags[f.id]) for f in fips]


def load_fip(session: Session, fip_id: str) -> FloatingIP:
    """The floating IP row, or ``FloatingIPNotFound``."""
    fip = session.get(FloatingIP, fip_id)
    if fip is None:
        raise fip_not_found(fip_id)
    return fip


def list_fips(db: Database) -> list[dict[str, Any]]:
    """Every floating IP."""
    with db.reader() as session:
        return _fip_views(session, list(session.scalars(select(FloatingIP))))


def get_fip(db: Database, fip_id: str) -> dict[str, Any]:
    """One floating IP."""
    with db.reader() as session:
        return _fip_views(session, [load_fip(session, fip_id)])[0]


def _associate(
    session: Session,
    fip: FloatingIP,
    port_id: str | None,
    fixed_ip: str | None,
    is_admin: bool,
) -> None:
    if port_id is None:
        fip.port_id = fip.fixed_ip_address = fip.router_id = None
        fip.status = "DOWN"
        return
    if session.scalar(select(PortForwarding.id).where(PortForwarding.floatingip_id == fip.id)):
        raise conflict(
            "FipInUseByPortForwarding", f"Floating IP {fip.id} in use by Port Forwarding resources."
        )
    port = session.get(Port, port_id)
    if port is None or (port.project_id != fip.project_id and not is_admin):
        raise core.port_not_found(port_id)
    if port.device_owner.startswith("network:"):
        raise bad(
            "neutron:BadRequest",
            f"Bad floatingip request: Port {port.id} has owner {port.device_owner} and therefore "
            "cannot be assigned a floating IP.",
        )
    ips = fixed_ips_of(session, port.id)
    v4 = [ip for ip in ips if ipaddress.ip_address(ip["ip_address"]).version == 4]
    if fixed_ip is not None:
        chosen = next((ip for ip in ips if ip["ip_address"] == fixed_ip), None)
        if chosen is None:
            raise bad(
                "neutron:BadRequest",
                f"Bad floatingip request: Port {port.id} does not have fixed ip {fixed_ip}.",
            )
        if ipaddress.ip_address(fixed_ip).version != 4:
            raise bad(
                "neutron:BadRequest",
                f"Bad floatingip request: Cannot process floating IP association with "
                f"{fixed_ip}, since that is not an IPv4 address.",
            )
    else:
        if not v4:
            raise bad(
                "neutron:BadRequest",
                f"Bad floatingip request: Port {port.id} does not have any IPv4 address.",
            )
        if len(v4) > 1:
            raise bad(
                "neutron:BadRequest",
                f"Bad floatingip request: Port {port.id} has multiple fixed IPv4 addresses. "
                "Must provide a specific IPv4 address when assigning a floating IP.",
            )
        chosen = v4[0]
    router_id = router_for(session, fip.floating_network_id, chosen["subnet_id"])
    if router_id is None:
        raise core.not_found(
            "ExternalGatewayForFloatingIPNotFound",
            f"External network {fip.floating_network_id} is not reachable from subnet "
            f"{chosen['subnet_id']}.  Therefore, cannot associate Port {port.id} with a "
            "Floating IP.",
        )
    other = session.scalar(
        select(FloatingIP).where(
            FloatingIP.port_id == port.id,
            FloatingIP.fixed_ip_address == chosen["ip_address"],
            FloatingIP.floating_network_id == fip.floating_network_id,
            FloatingIP.id != fip.id,
        )
    )
    if other is not None:
        raise conflict(
            "FloatingIPPortAlreadyAssociated",
            f"Cannot associate floating IP {fip.floating_ip_address} ({fip.id}) with port "
            f"{port.id} using fixed IP {chosen['ip_address']}, as that fixed IP already has a "
            f"floating IP on external network {fip.floating_network_id}.",
        )
    fip.port_id = port.id
    fip.fixed_ip_address = chosen["ip_address"]
    fip.router_id = router_id
    fip.status = "ACTIVE"


def router_for(session: Session, external_net_id: str, subnet_id: str) -> str | None:
    """A router with a gateway on the external network and an interface on the subnet."""
    return session.scalar(
        select(Router.id)
        .join(Port, Port.device_id == Router.id)
        .join(IPAllocation, IPAllocation.port_id == Port.id)
        .where(
            Router.gw_network_id == external_net_id,
            Port.device_owner == INTERFACE_OWNER,
            IPAllocation.subnet_id == subnet_id,
        )
        .order_by(Router.created_at)
    )


def create_fip(
    db: Database, project_id: str, data: dict[str, Any], *, is_admin: bool
) -> dict[str, Any]:
    """Allocate a floating IP on an external network (quota ``floatingip``)."""

    def work(session: Session) -> dict[str, Any]:
        net = session.get(Network, data["floating_network_id"])
        if net is None:
            raise core.network_not_found(data["floating_network_id"])
        if not net.router_external:
            raise bad(
                "neutron:BadRequest",
                f"Bad floatingip request: Network {net.id} is not a valid external network.",
            )
        owner = data.get("project_id") or data.get("tenant_id") or project_id
        core.check_quota(session, owner, "floatingip")
        fip_id = core.new_id()
        fixed: list[dict[str, Any]] | None = None
        if data.get("floating_ip_address") or data.get("subnet_id"):
            item: dict[str, Any] = {}
            if data.get("subnet_id"):
                item["subnet_id"] = data["subnet_id"]
            if data.get("floating_ip_address"):
                item["ip_address"] = data["floating_ip_address"]
            fixed = [item]
        port = ports.create_in_session(
            session,
            "",
            {
                "network_id": net.id,
                "device_owner": FLOATINGIP_OWNER,
                "device_id": fip_id,
                "fixed_ips": fixed,
                "project_id": "",
            },
            is_admin=True,
        )
        v4 = [
            ip
            for ip in fixed_ips_of(session, port.id)
            if ipaddress.ip_address(ip["ip_address"]).version == 4
        ]
        if not v4:
            raise bad(
                "ExternalIpAddressExhausted",
                f"Unable to find any IP address on external network {net.id}.",
            )
        fip = FloatingIP(
            id=fip_id,
            project_id=owner,
            floating_network_id=net.id,
            floating_port_id=port.id,
            floating_ip_address=v4[0]["ip_address"],
            description=data.get("description", ""),
            status="DOWN",
        )
        session.add(fip)
        session.flush()
        if data.get("port_id"):
            _associate(session, fip, data["port_id"], data.get("fixed_ip_address"), is_admin)
        if data.get("tags"):
            core.set_tags(session, "floatingips", fip.id, data["tags"])
        session.flush()
        return _fip_views(session, [fip])[0]

    return core.retrying(db, work)


def update_fip(
    db: Database, fip_id: str, data: dict[str, Any], *, is_admin: bool
) -> dict[str, Any]:
    """Associate, re-associate or disassociate a floating IP."""
    with db.writer() as session:
        fip = load_fip(session, fip_id)
        if "port_id" in data:
            _associate(session, fip, data["port_id"], data.get("fixed_ip_address"), is_admin)
        elif "fixed_ip_address" in data and fip.port_id:
            _associate(session, fip, fip.port_id, data["fixed_ip_address"], is_admin)
        if "description" in data:
            fip.description = data["description"]
        core.touch(fip)
        session.flush()
        return _fip_views(session, [fip])[0]


def delete_fip(db: Database, fip_id: str) -> None:
    """Release a floating IP and its port."""
    with db.writer() as session:
        fip = load_fip(session, fip_id)
        port = session.get(Port, fip.floating_port_id)
        core.drop_tags(session, "floatingips", fip.id)
        session.delete(fip)
        session.flush()
        if port is not None:
            session.delete(port)


# --- port forwardings ------------------------------------------------------------------


def pf_not_found(pf_id: str) -> NotFound:
    """``PortForwardingNotFound``."""
    return core.not_found("PortForwardingNotFound", f"Port Forwarding {pf_id} could not be found.")


def pf_view(pf: PortForwarding, fip_project: str) -> dict[str, Any]:
    """A port forwarding as the API shows it (``_target``: its floating IP's owner)."""
    return {
        "id": pf.id,
        "protocol": pf.protocol,
        "internal_ip_address": pf.internal_ip_address,
        "internal_port": pf.internal_port,
        "internal_port_id": pf.internal_port_id,
        "external_port": pf.external_port,
        "description": pf.description,
        "_target": {"ext_parent:project_id": fip_project},
    }


def list_pfs(db: Database, fip_id: str) -> list[dict[str, Any]]:
    """The port forwardings of a floating IP."""
    with db.reader() as session:
        fip = load_fip(session, fip_id)
        rows = session.scalars(select(PortForwarding).where(PortForwarding.floatingip_id == fip.id))
        return [pf_view(pf, fip.project_id) for pf in rows]


def _load_pf(session: Session, fip: FloatingIP, pf_id: str) -> PortForwarding:
    pf = session.get(PortForwarding, pf_id)
    if pf is None or pf.floatingip_id != fip.id:
        raise pf_not_found(pf_id)
    return pf


def get_pf(db: Database, fip_id: str, pf_id: str) -> dict[str, Any]:
    """One port forwarding."""
    with db.reader() as session:
        fip = load_fip(session, fip_id)
        return pf_view(_load_pf(session, fip, pf_id), fip.project_id)


def _pf_bad(message: str) -> Exception:
    return bad("neutron:BadRequest", f"Bad port_forwarding request: {message}.")


def _place_pf(session: Session, fip: FloatingIP, pf: PortForwarding, ip: str | None) -> None:
    """Check the internal port and address, and bind the floating IP to a router."""
    port = session.get(Port, pf.internal_port_id)
    if port is None:
        raise core.port_not_found(pf.internal_port_id)
    v4 = [
        a
        for a in fixed_ips_of(session, port.id)
        if ipaddress.ip_address(a["ip_address"]).version == 4
    ]
    if not v4:
        raise _pf_bad(f"Requested internal port {port.id} must allocate an IPv4 address at least")
    chosen = v4[0] if ip is None else next((a for a in v4 if a["ip_address"] == ip), None)
    if chosen is None:
        raise _pf_bad(
            f"Requested internal IP address {ip} is not suitable for internal neutron port "
            f"{port.id}, as its fixed_ips are {v4}"
        )
    pf.internal_ip_address = chosen["ip_address"]
    router_id = router_for(session, fip.floating_network_id, chosen["subnet_id"])
    if router_id is None:
        raise _pf_bad(
            f"External network {fip.floating_network_id} is not reachable from subnet "
            f"{chosen['subnet_id']}. Cannot set Port forwarding for port {port.id} with "
            f"Floating IP {fip.id}"
        )
    if fip.router_id and fip.router_id != router_id:
        raise _pf_bad(
            f"The Floating IP {fip.id} is bound to router {fip.router_id}, which does not "
            f"reach port {port.id}"
        )
    fip.router_id = router_id
    session.flush()
    clash = session.scalar(
        select(PortForwarding.id).where(
            PortForwarding.id != pf.id,
            PortForwarding.protocol == pf.protocol,
            (
                (PortForwarding.floatingip_id == fip.id)
                & (PortForwarding.external_port == pf.external_port)
            )
            | (
                (PortForwarding.internal_port_id == pf.internal_port_id)
                & (PortForwarding.internal_ip_address == pf.internal_ip_address)
                & (PortForwarding.internal_port == pf.internal_port)
            ),
        )
    )
    if clash:
        raise _pf_bad(
            "A duplicate port forwarding entry with same attributes already exists, "
            f"conflicting values are {pf.protocol} {pf.external_port} -> "
            f"{pf.internal_ip_address}:{pf.internal_port}"
        )


def create_pf(db: Database, fip_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Forward an external port of a floating IP to an internal address and port."""

    def work(session: Session) -> dict[str, Any]:
        fip = load_fip(session, fip_id)
        if fip.port_id:
            raise conflict(
                "FloatingIPPortAlreadyAssociated",
                f"Cannot associate floating IP {fip.floating_ip_address} ({fip.id}) with port "
                f"{data['internal_port_id']} using fixed IP {data.get('internal_ip_address')}, "
                f"as that fixed IP already has a floating IP on external network "
                f"{fip.floating_network_id}.",
            )
        bound = session.scalar(
            select(FloatingIP).where(FloatingIP.port_id == data["internal_port_id"])
        )
        if bound is not None:
            raise conflict(
                "PortHasBindingFloatingIP",
                f"Cannot create port forwarding to floating IP {bound.floating_ip_address} "
                f"({bound.id}) with port {data['internal_port_id']} using fixed IP "
                f"{bound.fixed_ip_address}, as that port already has a binding floating IP.",
            )
        pf = PortForwarding(
            id=core.new_id(),
            floatingip_id=fip.id,
            internal_port_id=data["internal_port_id"],
            internal_port=data["internal_port"],
            external_port=data["external_port"],
            protocol=data["protocol"],
            description=data.get("description", ""),
        )
        _place_pf(session, fip, pf, data.get("internal_ip_address"))
        session.add(pf)
        core.touch(fip)
        session.flush()
        return pf_view(pf, fip.project_id)

    return core.retrying(db, work)


def update_pf(db: Database, fip_id: str, pf_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a port forwarding (re-checked like a new one)."""
    with db.writer() as session:
        fip = load_fip(session, fip_id)
        pf = _load_pf(session, fip, pf_id)
        for key in (
            "internal_port_id",
            "internal_port",
            "external_port",
            "protocol",
            "description",
        ):
            if key in data:
                setattr(pf, key, data[key])
        address = data.get("internal_ip_address")
        if address is None and "internal_port_id" not in data:
            address = pf.internal_ip_address
        _place_pf(session, fip, pf, address)
        core.touch(fip)
        session.flush()
        return pf_view(pf, fip.project_id)


def delete_pf(db: Database, fip_id: str, pf_id: str) -> None:
    """Remove a port forwarding; the last one unbinds the floating IP from its router."""
    with db.writer() as session:
        fip = load_fip(session, fip_id)
        pf = _load_pf(session, fip, pf_id)
        session.delete(pf)
        session.flush()
        left = session.scalar(
            select(PortForwarding.id).where(PortForwarding.floatingip_id == fip.id)
        )
        if left is None and fip.port_id is None:
            fip.router_id = None
        core.touch(fip)
