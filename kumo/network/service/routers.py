"""Routers: external gateways, interfaces, static routes."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.network.db.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    Router,
    Subnet,
)
from kumo.network.service import core, ports
from kumo.network.service.core import bad, conflict, router_not_found

INTERFACE_OWNER = "network:router_interface"
GATEWAY_OWNER = "network:router_gateway"
FLOATINGIP_OWNER = "network:floatingip"
MAX_ROUTES = 30


def fixed_ips_of(session: Session, port_id: str) -> list[dict[str, str]]:
    """A port's addresses, in order."""
    return [
        {"subnet_id": a.subnet_id, "ip_address": a.ip_address}
        for a in session.scalars(
            select(IPAllocation)
            .where(IPAllocation.port_id == port_id)
            .order_by(IPAllocation.position)
        )
    ]


def view(session: Session, router: Router, tags: list[str]) -> dict[str, Any]:
    """A router as the API shows it."""
    gateway = None
    if router.gw_network_id:
        gateway = {
            "network_id": router.gw_network_id,
            "enable_snat": router.enable_snat,
            "external_fixed_ips": fixed_ips_of(session, router.gw_port_id)
            if router.gw_port_id
            else [],
        }
    return {
        "id": router.id,
        "name": router.name,
        "status": router.status,
        "admin_state_up": router.admin_state_up,
        "external_gateway_info": gateway,
        "routes": list(router.routes),
        "distributed": router.distributed,
        "ha": router.ha,
        "availability_zones": ["nova"],
        "availability_zone_hints": [],
        **core.standard(router, "routers", tags),
    }


def _views(session: Session, routers: list[Router]) -> list[dict[str, Any]]:
    tags = core.tags_of(session, "routers", [r.id for r in routers])
    return [view(session, r, tags[r.id]) for r in routers]


def load(session: Session, router_id: str) -> Router:
    """The router row, or ``RouterNotFound``."""
    router = session.get(Router, router_id)
    if router is None:
        raise router_not_found(router_id)
    return router


def list_routers(db: Database) -> list[dict[str, Any]]:
    """Every router (the API keeps those the caller may see)."""
    with db.reader() as session:
        return _views(session, list(session.scalars(select(Router))))


def get_router(db: Database, router_id: str) -> dict[str, Any]:
    """One router."""
    with db.reader() as session:
        return _views(session, [load(session, router_id)])[0]


def _set_gateway(session: Session, router: Router, info: dict[str, Any] | None) -> None:
    """Attach, change or clear the router's external gateway."""
    if info is not None and not info.get("network_id"):
        info = None
    if info is not None and router.gw_network_id == info["network_id"]:
        if "enable_snat" in info:
            router.enable_snat = info["enable_snat"]
        if "external_fixed_ips" not in info:
            return
    if router.gw_network_id and (info is None or info["network_id"] != router.gw_network_id):
        used = session.scalar(
            select(FloatingIP.id).where(
                FloatingIP.router_id == router.id,
                FloatingIP.floating_network_id == router.gw_network_id,
            )
        )
        if used:
            raise conflict(
                "RouterExternalGatewayInUseByFloatingIp",
                f"Gateway cannot be updated for router {router.id}, since a gateway to external "
                f"network {router.gw_network_id} is required by one or more floating IPs.",
            )
    if router.gw_port_id:
        old = session.get(Port, router.gw_port_id)
        router.gw_port_id = None
        router.gw_network_id = None
        if old is not None:
            session.delete(old)
        session.flush()
    if info is None:
        router.enable_snat = True
        return
    net = session.get(Network, info["network_id"])
    if net is None:
        raise core.network_not_found(info["network_id"])
    if not net.router_external:
        raise bad(
            "neutron:BadRequest",
            f"Bad router request: Network {net.id} is not an external network.",
        )
    fixed = info.get("external_fixed_ips")
    port = ports.create_in_session(
        session,
        "",
        {
            "network_id": net.id,
            "device_owner": GATEWAY_OWNER,
            "device_id": router.id,
            "fixed_ips": fixed or None,
            "project_id": "",
        },
        is_admin=True,
    )
    if not fixed_ips_of(session, port.id):
        raise bad(
            "ExternalIpAddressExhausted",
            f"Unable to find any IP address on external network {net.id}.",
        )
    router.gw_port_id = port.id
    router.gw_network_id = net.id
    router.enable_snat = info.get("enable_snat", True)


def _interface_subnets(session: Session, router_id: str) -> list[Subnet]:
    subnet_ids = session.scalars(
        select(IPAllocation.subnet_id)
        .join(Port, Port.id == IPAllocation.port_id)
        .where(Port.device_id == router_id, Port.device_owner == INTERFACE_OWNER)
    )
    return [s for sid in subnet_ids if (s := session.get(Subnet, sid)) is not None]


def _check_routes(session: Session, router: Router, routes: list[dict[str, str]]) -> None:
    if len(routes) > MAX_ROUTES:
        raise bad(
            "RoutesExhausted",
            f"Unable to complete operation for {router.id}. The number of routes exceeds the "
            f"maximum {MAX_ROUTES}.",
        )
    connected = [ipaddress.ip_network(s.cidr) for s in _interface_subnets(session, router.id)]
    if router.gw_port_id:
        for ip in fixed_ips_of(session, router.gw_port_id):
            sub = session.get(Subnet, ip["subnet_id"])
            if sub is not None:
                connected.append(ipaddress.ip_network(sub.cidr))
    for route in routes:
        hop = ipaddress.ip_address(route["nexthop"])
        if not any(hop in net for net in connected):
            raise bad(
                "InvalidRoutes",
                f"Invalid format for routes: {routes}, the nexthop is not connected with router",
            )
        for iface in _interface_subnets(session, router.id):
            if iface.gateway_ip and hop == ipaddress.ip_address(iface.gateway_ip):
                raise bad(
                    "InvalidRoutes",
                    f"Invalid format for routes: {routes}, the nexthop is used by router",
                )


def create_router(db: Database, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a router (quota ``router``), with its gateway when asked."""

    def work(session: Session) -> dict[str, Any]:
        owner = data.get("project_id") or data.get("tenant_id") or project_id
        core.check_quota(session, owner, "router")
        router = Router(
            id=core.new_id(),
            project_id=owner,
            name=data.get("name", ""),
            description=data.get("description", ""),
            admin_state_up=data.get("admin_state_up", True),
            distributed=data.get("distributed", False),
            ha=data.get("ha", False),
            routes=[],
        )
        session.add(router)
        session.flush()
        if data.get("external_gateway_info"):
            _set_gateway(session, router, data["external_gateway_info"])
        if data.get("tags"):
            core.set_tags(session, "routers", router.id, data["tags"])
        session.flush()
        return _views(session, [router])[0]

    return core.retrying(db, work)


def update_router(db: Database, router_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a router: gateway, static routes, flags."""

    def work(session: Session) -> dict[str, Any]:
        router = load(session, router_id)
        if "external_gateway_info" in data:
            _set_gateway(session, router, data["external_gateway_info"])
        if "routes" in data:
            _check_routes(session, router, data["routes"])
            router.routes = data["routes"]
        for key in ("name", "description", "admin_state_up", "distributed", "ha"):
            if key in data:
                setattr(router, key, data[key])
        core.touch(router)
        session.flush()
        return _views(session, [router])[0]

    return core.retrying(db, work)


def delete_router(db: Database, router_id: str) -> None:
    """Delete a router without interfaces (its gateway port goes with it)."""
    with db.writer() as session:
        router = load(session, router_id)
        if session.scalar(
            select(Port.id).where(Port.device_id == router.id, Port.device_owner == INTERFACE_OWNER)
        ):
            raise conflict("RouterInUse", f"Router {router.id} still has ports")
        if session.scalar(select(FloatingIP.id).where(FloatingIP.router_id == router.id)):
            raise conflict("RouterInUse", f"Router {router.id} still has floating IPs")
        _set_gateway(session, router, None)
        core.drop_tags(session, "routers", router.id)
        session.delete(router)


def _interface_info(session: Session, router: Router, port: Port) -> dict[str, Any]:
    subnet_ids = [ip["subnet_id"] for ip in fixed_ips_of(session, port.id)]
    return {
        "id": router.id,
        "port_id": port.id,
        "subnet_id": subnet_ids[0] if subnet_ids else None,
        "subnet_ids": subnet_ids,
        "network_id": port.network_id,
        "project_id": router.project_id,
        "tenant_id": router.project_id,
    }


def subnet_facts(db: Database, subnet_id: str) -> dict[str, Any]:
    """A subnet with its network's owner and sharing (for the API's visibility check)."""
    with db.reader() as session:
        subnet = session.get(Subnet, subnet_id)
        if subnet is None:
            raise core.subnet_not_found(subnet_id)
        net = session.get(Network, subnet.network_id)
        assert net is not None
        return {
            "project_id": subnet.project_id,
            "network:project_id": net.project_id,
            "shared": net.shared,
            "router:external": net.router_external,
        }


def _bind_to_host(port: Port, host: str) -> None:
    """Bind a router port to the host that serves the router: it is then ACTIVE.

    Neutron's L3 agent binds a legacy router's ports to its own host; Kumo's routers
    are served by the one network node (this host), so the binding is known at once.
    """
    port.binding_host_id = host
    port.binding_vif_type = ports.VIF_TYPE
    port.binding_vif_details = {"port_filter": True}
    port.status = "ACTIVE"


def add_interface(
    db: Database, router_id: str, subnet_id: str | None, port_id: str | None, host: str
) -> dict[str, Any]:
    """Connect a subnet (a new port on its gateway address) or an existing port.

    The interface port is bound to ``host``, the host that serves routers.
    """

    def work(session: Session) -> dict[str, Any]:
        router = load(session, router_id)
        existing = _interface_subnets(session, router.id)
        if port_id is not None:
            port = ports.load(session, port_id)
            if port.device_id or port.device_owner:
                raise conflict(
                    "PortInUse",
                    f"Unable to complete operation on port {port.id} for network "
                    f"{port.network_id}. Port already has an attached device {port.device_id}.",
                )
            ips = fixed_ips_of(session, port.id)
            if not ips:
                raise bad(
                    "neutron:BadRequest",
                    f"Bad router request: Router port {port.id} must have at least one fixed IP.",
                )
            new_subnets = [session.get(Subnet, ip["subnet_id"]) for ip in ips]
            _check_overlap(router, existing, [s for s in new_subnets if s is not None])
            port.device_id = router.id
            port.device_owner = INTERFACE_OWNER
            _bind_to_host(port, host)
            core.touch(port)
        else:
            assert subnet_id is not None
            subnet = session.get(Subnet, subnet_id)
            if subnet is None:
                raise core.subnet_not_found(subnet_id)
            if not subnet.gateway_ip:
                raise bad(
                    "neutron:BadRequest",
                    "Bad router request: Subnet for router interface must have a gateway IP.",
                )
            if any(s.id == subnet.id for s in existing):
                raise bad(
                    "neutron:BadRequest",
                    f"Bad router request: Router already has a port on subnet {subnet.id}.",
                )
            _check_overlap(router, existing, [subnet])
            port = ports.create_in_session(
                session,
                router.project_id,
                {
                    "network_id": subnet.network_id,
                    "device_owner": INTERFACE_OWNER,
                    "device_id": router.id,
                    "fixed_ips": [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}],
                    "project_id": router.project_id,
                    "binding:host_id": host,
                },
                is_admin=True,
            )
        core.touch(router)
        session.flush()
        return _interface_info(session, router, port)

    return core.retrying(db, work)


def _check_overlap(router: Router, existing: list[Subnet], new: list[Subnet]) -> None:
    for n in new:
        for e in existing:
            if e.id != n.id and ipaddress.ip_network(n.cidr).overlaps(ipaddress.ip_network(e.cidr)):
                raise bad(
                    "neutron:BadRequest",
                    f"Bad router request: Cidr {n.cidr} of subnet {n.id} overlaps with cidr "
                    f"{e.cidr} of subnet {e.id}.",
                )


def remove_interface(
    db: Database, router_id: str, subnet_id: str | None, port_id: str | None
) -> dict[str, Any]:
    """Disconnect a subnet or a port; refused while floating IPs or routes need it."""
    with db.writer() as session:
        router = load(session, router_id)
        if port_id is not None:
            port = session.get(Port, port_id)
            if port is None or port.device_id != router.id or port.device_owner != INTERFACE_OWNER:
                raise core.not_found(
                    "RouterInterfaceNotFound",
                    f"Router {router.id} does not have an interface with id {port_id}",
                )
            if subnet_id is not None and subnet_id not in [
                ip["subnet_id"] for ip in fixed_ips_of(session, port.id)
            ]:
                raise bad(
                    "SubnetMismatchForPort",
                    f"Subnet on port {port.id} does not match the requested subnet {subnet_id}.",
                )
        else:
            assert subnet_id is not None
            if session.get(Subnet, subnet_id) is None:
                raise core.subnet_not_found(subnet_id)
            port = session.scalar(
                select(Port)
                .join(IPAllocation, IPAllocation.port_id == Port.id)
                .where(
                    Port.device_id == router.id,
                    Port.device_owner == INTERFACE_OWNER,
                    IPAllocation.subnet_id == subnet_id,
                )
            )
            if port is None:
                raise core.not_found(
                    "RouterInterfaceNotFoundForSubnet",
                    f"Router {router.id} has no interface on subnet {subnet_id}",
                )
        info = _interface_info(session, router, port)
        for sid in info["subnet_ids"]:
            subnet = session.get(Subnet, sid)
            assert subnet is not None
            cidr = ipaddress.ip_network(subnet.cidr)
            if any(ipaddress.ip_address(r["nexthop"]) in cidr for r in router.routes):
                raise conflict(
                    "RouterInterfaceInUseByRoute",
                    f"Router interface for subnet {sid} on router {router.id} cannot be "
                    "deleted, as it is required by one or more routes.",
                )
            for fip in session.scalars(select(FloatingIP).where(FloatingIP.router_id == router.id)):
                if fip.fixed_ip_address and ipaddress.ip_address(fip.fixed_ip_address) in cidr:
                    raise conflict(
                        "RouterInterfaceInUseByFloatingIP",
                        f"Router interface for subnet {sid} on router {router.id} cannot be "
                        "deleted, as it is required by one or more floating IPs.",
                    )
        core.touch(router)
        session.delete(port)
        return info
