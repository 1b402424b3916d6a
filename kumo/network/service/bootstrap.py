"""devstack's network layout, created once by ``kumo up`` (idempotent).

- ``public``: external flat network (physical network ``public``) of the admin
  project, subnet ``public-subnet`` 198.51.100.0/24, gateway .1, pool .100–.200,
  no DHCP — a documentation range on a Kumo-owned bridge, never the host uplink;
- ``private``: the demo project's VXLAN network, subnet ``private-subnet``
  10.0.0.0/26 with DHCP;
- ``router1``: the demo project's router, gateway on ``public`` and an
  interface on ``private-subnet``;
- ``shared``: a shared network of the admin project, subnet ``shared-subnet``
  192.168.233.0/24 (devstack's optional one).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.identity.db.models import Project
from kumo.network.db.models import IPAllocation, Network, Port, Router, Subnet
from kumo.network.service import networks, routers, subnets

log = logging.getLogger(__name__)

DEFAULT_DOMAIN = "default"


def _project_id(db: Database, name: str) -> str | None:
    with db.reader() as session:
        return session.scalar(
            select(Project.id).where(Project.name == name, Project.domain_id == DEFAULT_DOMAIN)
        )


def _network(db: Database, name: str, project_id: str) -> str | None:
    with db.reader() as session:
        return session.scalar(
            select(Network.id).where(Network.name == name, Network.project_id == project_id)
        )


def _subnet(db: Database, name: str, network_id: str) -> str | None:
    with db.reader() as session:
        return session.scalar(
            select(Subnet.id).where(Subnet.name == name, Subnet.network_id == network_id)
        )


def _ensure_network(db: Database, project: str, name: str, **attrs: Any) -> str:
    existing = _network(db, name, project)
    if existing:
        return existing
    return str(networks.create_network(db, project, {"name": name, **attrs})["id"])


def _ensure_subnet(db: Database, project: str, network_id: str, name: str, **attrs: Any) -> str:
    existing = _subnet(db, name, network_id)
    if existing:
        return existing
    data = {"name": name, "network_id": network_id, "ip_version": 4, **attrs}
    return str(subnets.create_subnet(db, project, data)["id"])


def bootstrap_networks(settings: Settings, db: Database) -> dict[str, str]:
    """Create devstack's networks if missing; returns their ids by name."""
    admin = _project_id(db, "admin")
    demo = _project_id(db, "demo")
    if admin is None or demo is None:
        raise RuntimeError("identity must be bootstrapped first (projects admin and demo)")
    public = _ensure_network(
        db,
        admin,
        "public",
        **{
            "router:external": True,
            "provider:network_type": "flat",
            "provider:physical_network": "public",
        },
    )
    public_subnet = _ensure_subnet(
        db,
        admin,
        public,
        "public-subnet",
        cidr="198.51.100.0/24",
        gateway_ip="198.51.100.1",
        allocation_pools=[{"start": "198.51.100.100", "end": "198.51.100.200"}],
        enable_dhcp=False,
    )
    private = _ensure_network(db, demo, "private")
    private_subnet = _ensure_subnet(
        db, demo, private, "private-subnet", cidr="10.0.0.0/26", enable_dhcp=True
    )
    shared = _ensure_network(db, admin, "shared", shared=True)
    shared_subnet = _ensure_subnet(
        db, admin, shared, "shared-subnet", cidr="192.168.233.0/24", enable_dhcp=True
    )
    with db.reader() as session:
        router_id = session.scalar(
            select(Router.id).where(Router.name == "router1", Router.project_id == demo)
        )
    if router_id is None:
        router_id = str(
            routers.create_router(
                db, demo, {"name": "router1", "external_gateway_info": {"network_id": public}}
            )["id"]
        )
    with db.reader() as session:
        connected = session.scalar(
            select(Port.id)
            .join(IPAllocation, IPAllocation.port_id == Port.id)
            .where(Port.device_id == router_id, IPAllocation.subnet_id == private_subnet)
        )
    if connected is None:
        routers.add_interface(db, router_id, private_subnet, None, settings.compute_host)
    log.info("networks bootstrapped: public %s, private %s, router1 %s", public, private, router_id)
    return {
        "public": public,
        "public-subnet": public_subnet,
        "private": private,
        "private-subnet": private_subnet,
        "shared": shared,
        "shared-subnet": shared_subnet,
        "router1": router_id,
    }
