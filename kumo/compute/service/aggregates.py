"""Host aggregates: CRUD, hosts, metadata and the availability-zone rules Nova keeps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.db import utcnow
from kumo.common.errors import BadRequest, Conflict, NotFound
from kumo.compute.db.aggregates import Aggregate, AggregateHost, AggregateMetadata
from kumo.compute.db.hosts import Service

AZ_KEY = "availability_zone"


@dataclass
class AggregateInfo:
    """An aggregate with its hosts and metadata."""

    aggregate: Aggregate
    hosts: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def availability_zone(self) -> str | None:
        """The zone this aggregate sets, if any."""
        return self.metadata.get(AZ_KEY)


def not_found(aggregate_id: int | str) -> NotFound:
    """Nova's AggregateNotFound."""
    return NotFound(f"Aggregate {aggregate_id} could not be found.")


def _info(s: Session, agg: Aggregate) -> AggregateInfo:
    hosts = sorted(
        s.scalars(select(AggregateHost.host).where(AggregateHost.aggregate_id == agg.id))
    )
    meta = {
        m.key: m.value
        for m in s.scalars(
            select(AggregateMetadata).where(AggregateMetadata.aggregate_id == agg.id)
        )
    }
    return AggregateInfo(agg, hosts, meta)


def get_aggregate(s: Session, aggregate_id: int) -> AggregateInfo:
    """An aggregate by integer id (404 with Nova's message)."""
    agg = s.get(Aggregate, aggregate_id)
    if agg is None:
        raise not_found(aggregate_id)
    return _info(s, agg)


def list_aggregates(s: Session) -> list[AggregateInfo]:
    """Every aggregate, by id."""
    return [_info(s, a) for a in s.scalars(select(Aggregate).order_by(Aggregate.id))]


def _check_zone_name(zone: str | None) -> None:
    if zone is not None and ":" in zone:
        raise BadRequest("Availability zone name can not contain ':'.")


def create_aggregate(s: Session, name: str, availability_zone: str | None) -> AggregateInfo:
    """Create an aggregate (409 when the name is taken)."""
    _check_zone_name(availability_zone)
    if s.scalar(select(Aggregate.id).where(Aggregate.name == name)) is not None:
        raise Conflict(f"Aggregate {name} already exists.")
    agg = Aggregate(uuid=str(uuid.uuid4()), name=name, created_at=utcnow())
    s.add(agg)
    s.flush()
    if availability_zone:
        s.add(AggregateMetadata(aggregate_id=agg.id, key=AZ_KEY, value=availability_zone))
        s.flush()
    return _info(s, agg)


def _host_zones(s: Session, host: str, exclude: int | None = None) -> set[str]:
    """Zones set by the other aggregates a host is in."""
    stmt = (
        select(AggregateMetadata.value)
        .join(AggregateHost, AggregateHost.aggregate_id == AggregateMetadata.aggregate_id)
        .where(AggregateHost.host == host, AggregateMetadata.key == AZ_KEY)
    )
    if exclude is not None:
        stmt = stmt.where(AggregateMetadata.aggregate_id != exclude)
    return set(s.scalars(stmt))


def _check_zone_change(s: Session, info: AggregateInfo, zone: str | None) -> None:
    """A host may be in one zone only: refuse a zone other aggregates of its hosts contradict."""
    if zone is None:
        return
    for host in info.hosts:
        others = _host_zones(s, host, exclude=info.aggregate.id)
        if others and others != {zone}:
            raise BadRequest(
                f"Cannot update aggregate {info.aggregate.id}. Reason: One or more hosts "
                f"already in availability zone(s) {sorted(others)}."
            )


def update_aggregate(
    s: Session,
    aggregate_id: int,
    *,
    name: str | None = None,
    availability_zone: str | None = None,
    set_zone: bool = False,
) -> AggregateInfo:
    """Rename an aggregate and/or change its zone."""
    info = get_aggregate(s, aggregate_id)
    if name is not None and name != info.aggregate.name:
        if s.scalar(select(Aggregate.id).where(Aggregate.name == name)) is not None:
            raise Conflict(f"Aggregate {name} already exists.")
        info.aggregate.name = name
    if set_zone:
        _check_zone_name(availability_zone)
        _check_zone_change(s, info, availability_zone)
        _set_meta(s, info.aggregate.id, {AZ_KEY: availability_zone})
    info.aggregate.updated_at = utcnow()
    s.flush()
    return _info(s, info.aggregate)


def _set_meta(s: Session, aggregate_id: int, values: dict[str, str | None]) -> None:
    for key, value in values.items():
        row = s.get(AggregateMetadata, (aggregate_id, key))
        if value is None:
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(AggregateMetadata(aggregate_id=aggregate_id, key=key, value=value))
        else:
            row.value = value
    s.flush()


def set_metadata(s: Session, aggregate_id: int, values: dict[str, str | None]) -> AggregateInfo:
    """Add, replace or (with a null value) remove metadata keys."""
    info = get_aggregate(s, aggregate_id)
    if AZ_KEY in values:
        _check_zone_name(values[AZ_KEY])
        _check_zone_change(s, info, values[AZ_KEY])
    _set_meta(s, aggregate_id, values)
    info.aggregate.updated_at = utcnow()
    s.flush()
    return _info(s, info.aggregate)


def delete_aggregate(s: Session, aggregate_id: int) -> None:
    """Delete an empty aggregate (400 while it has hosts, as Nova)."""
    info = get_aggregate(s, aggregate_id)
    if info.hosts:
        raise BadRequest(
            f"Cannot remove host from aggregate {aggregate_id}. "
            "Reason: Host aggregate is not empty."
        )
    s.execute(delete(AggregateMetadata).where(AggregateMetadata.aggregate_id == aggregate_id))
    s.delete(info.aggregate)


def add_host(s: Session, aggregate_id: int, host: str) -> AggregateInfo:
    """Add a compute host (404 unknown host, 409 already there or zone conflict)."""
    info = get_aggregate(s, aggregate_id)
    service = s.scalar(
        select(Service).where(Service.host == host, Service.binary == "nova-compute")
    )
    if service is None:
        raise NotFound(f"Compute host {host} could not be found.")
    if host in info.hosts:
        raise Conflict(f"Aggregate {aggregate_id} already has host {host}.")
    zone = info.availability_zone
    others = _host_zones(s, host, exclude=aggregate_id)
    if zone is not None and others and others != {zone}:
        raise Conflict(
            f"Cannot add host to aggregate {aggregate_id}. Reason: One or more hosts already "
            f"in availability zone(s) {sorted(others)}."
        )
    s.add(AggregateHost(aggregate_id=aggregate_id, host=host))
    s.flush()
    return _info(s, info.aggregate)


def remove_host(s: Session, aggregate_id: int, host: str) -> AggregateInfo:
    """Remove a host (404 when it is not in the aggregate)."""
    info = get_aggregate(s, aggregate_id)
    if host not in info.hosts:
        exists = s.scalar(select(Service.id).where(Service.host == host))
        if exists is None:
            raise NotFound(f"Compute host {host} could not be found.")
        raise NotFound(f"Aggregate {aggregate_id} has no host {host}.")
    s.execute(
        delete(AggregateHost).where(
            AggregateHost.aggregate_id == aggregate_id, AggregateHost.host == host
        )
    )
    s.flush()
    return _info(s, info.aggregate)


def remove_host_everywhere(s: Session, host: str) -> None:
    """Take a host out of every aggregate (when its compute service is deleted)."""
    s.execute(delete(AggregateHost).where(AggregateHost.host == host))
