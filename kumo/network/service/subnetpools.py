"""Subnet pools: prefixes that subnets may be carved from."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.network.db.models import Subnet, SubnetPool
from kumo.network.service import core
from kumo.network.service.core import bad, conflict
from kumo.network.service.subnets import within


def pool_view(pool: SubnetPool, tags: list[str]) -> dict[str, Any]:
    """A subnet pool as the API shows it."""
    return {
        "id": pool.id,
        "name": pool.name,
        "ip_version": pool.ip_version,
        "prefixes": list(pool.prefixes),
        "default_prefixlen": pool.default_prefixlen,
        "min_prefixlen": pool.min_prefixlen,
        "max_prefixlen": pool.max_prefixlen,
        "shared": pool.shared,
        "is_default": pool.is_default,
        "default_quota": pool.default_quota,
        "address_scope_id": pool.address_scope_id,
        **core.standard(pool, "subnetpools", tags),
    }


def _pool_views(session: Session, pools: list[SubnetPool]) -> list[dict[str, Any]]:
    tags = core.tags_of(session, "subnetpools", [p.id for p in pools])
    return [pool_view(p, tags[p.id]) for p in pools]


def load_pool(session: Session, pool_id: str) -> SubnetPool:
    """The pool row, or ``SubnetPoolNotFound``."""
    pool = session.get(SubnetPool, pool_id)
    if pool is None:
        raise core.not_found("SubnetPoolNotFound", f"Subnet pool {pool_id} could not be found.")
    return pool


def list_pools(db: Database) -> list[dict[str, Any]]:
    """Every subnet pool."""
    with db.reader() as session:
        return _pool_views(session, list(session.scalars(select(SubnetPool))))


def get_pool(db: Database, pool_id: str) -> dict[str, Any]:
    """One subnet pool."""
    with db.reader() as session:
        return _pool_views(session, [load_pool(session, pool_id)])[0]


def _normalise_prefixes(prefixes: list[str]) -> tuple[list[str], int]:
    if not prefixes:
        raise bad("EmptySubnetPoolPrefixList", "Empty subnet pool prefix list.")
    nets = [ipaddress.ip_network(p) for p in prefixes]
    versions = {n.version for n in nets}
    if len(versions) != 1:
        raise bad("PrefixVersionMismatch", "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
    merged = [str(n) for n in ipaddress.collapse_addresses(nets)]  # type: ignore[type-var]
    return merged, versions.pop()


def _prefix_bounds(
    version: int, prefixes: list[str], data: dict[str, Any], pool: SubnetPool | None
) -> tuple[int, int, int]:
    widest = min(ipaddress.ip_network(p).prefixlen for p in prefixes)
    top = 32 if version == 4 else 128
    min_len = data.get("min_prefixlen", pool.min_prefixlen if pool else widest)
    max_len = data.get("max_prefixlen", pool.max_prefixlen if pool else top)
    default = data.get("default_prefixlen", pool.default_prefixlen if pool else min_len)
    if max_len > top:
        raise bad(
            "IllegalSubnetPoolPrefixBounds",
            f"Illegal prefix bounds: max_prefixlen={max_len}, base_prefixlen={top}.",
        )
    if min_len < widest:
        raise bad(
            "IllegalSubnetPoolPrefixBounds",
            f"Illegal prefix bounds: min_prefixlen={min_len}, base_prefixlen={widest}.",
        )
    if not min_len <= default <= max_len:
        raise bad(
            "IllegalSubnetPoolPrefixBounds",
            f"Illegal prefix bounds: default_prefixlen={default}, min_prefixlen={min_len}.",
        )
    return min_len, max_len, default


def create_pool(db: Database, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a subnet pool."""
    with db.writer() as session:
        owner = data.get("project_id") or data.get("tenant_id") or project_id
        core.check_quota(session, owner, "subnetpool")
        prefixes, version = _normalise_prefixes(data["prefixes"])
        min_len, max_len, default = _prefix_bounds(version, prefixes, data, None)
        pool = SubnetPool(
            id=core.new_id(),
            project_id=owner,
            name=data.get("name", ""),
            description=data.get("description", ""),
            ip_version=version,
            prefixes=prefixes,
            min_prefixlen=min_len,
            max_prefixlen=max_len,
            default_prefixlen=default,
            shared=data.get("shared", False),
            is_default=data.get("is_default", False),
            default_quota=data.get("default_quota"),
            address_scope_id=None,
        )
        session.add(pool)
        session.flush()
        if data.get("tags"):
            core.set_tags(session, "subnetpools", pool.id, data["tags"])
        return _pool_views(session, [pool])[0]


def update_pool(db: Database, pool_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change a pool; prefixes may only grow."""
    with db.writer() as session:
        pool = load_pool(session, pool_id)
        prefixes = list(pool.prefixes)
        if "prefixes" in data:
            new, version = _normalise_prefixes(data["prefixes"])
            if version != pool.ip_version:
                raise bad(
                    "PrefixVersionMismatch", "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."
                )
            for old in pool.prefixes:
                old_net = ipaddress.ip_network(old)
                if not any(within(old_net, ipaddress.ip_network(n)) for n in new):
                    raise bad(
                        "IllegalSubnetPoolPrefixUpdate",
                        f"Illegal update to prefixes: Existing prefix {old} is not in the new "
                        "prefixes.",
                    )
            prefixes = new
        pool.min_prefixlen, pool.max_prefixlen, pool.default_prefixlen = _prefix_bounds(
            pool.ip_version, prefixes, data, pool
        )
        pool.prefixes = prefixes
        for key in ("name", "description", "is_default", "default_quota"):
            if key in data:
                setattr(pool, key, data[key])
        core.touch(pool)
        return _pool_views(session, [pool])[0]


def delete_pool(db: Database, pool_id: str) -> None:
    """Delete a pool no subnet uses."""
    with db.writer() as session:
        pool = load_pool(session, pool_id)
        if session.scalar(select(Subnet.id).where(Subnet.subnetpool_id == pool.id)):
            raise conflict(
                "SubnetPoolInUse",
                f"Unable to complete operation on subnet pool {pool.id}. "
                "Subnets are still allocated from it.",
            )
        core.drop_tags(session, "subnetpools", pool.id)
        session.delete(pool)
