"""IP availability: total and used addresses per network and subnet."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import func, select

from kumo.common.db import Database
from kumo.network.db.models import IPAllocation, Network, Subnet


def _pool_size(subnet: Subnet) -> int:
    total = 0
    for pool in subnet.allocation_pools:
        total += (
            int(ipaddress.ip_address(pool["end"])) - int(ipaddress.ip_address(pool["start"])) + 1
        )
    return total


def ip_availability(db: Database) -> list[dict[str, Any]]:
    """Total and used addresses per network and subnet (external ones included)."""
    with db.reader() as session:
        used = dict(
            session.execute(
                select(IPAllocation.subnet_id, func.count()).group_by(IPAllocation.subnet_id)
            ).all()
        )
        subnets: dict[str, list[Subnet]] = {}
        for s in session.scalars(select(Subnet).order_by(Subnet.created_at)):
            subnets.setdefault(s.network_id, []).append(s)
        out = []
        for net in session.scalars(select(Network)):
            per_subnet: list[dict[str, Any]] = [
                {
                    "subnet_id": s.id,
                    "subnet_name": s.name,
                    "cidr": s.cidr,
                    "ip_version": s.ip_version,
                    "total_ips": _pool_size(s),
                    "used_ips": int(used.get(s.id, 0)),
                }
                for s in subnets.get(net.id, [])
            ]
            out.append(
                {
                    "network_id": net.id,
                    "network_name": net.name,
                    "project_id": net.project_id,
                    "tenant_id": net.project_id,
                    "total_ips": sum(int(s["total_ips"]) for s in per_subnet),
                    "used_ips": sum(int(s["used_ips"]) for s in per_subnet),
                    "subnet_ip_availability": per_subnet,
                }
            )
        return out
