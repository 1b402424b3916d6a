"""Allocations (what consumers use on providers), consumers and usages.

A write is one transaction: affected providers' generations are bumped
first with a compare-and-swap (so on PostgreSQL/MariaDB a racing writer's
row lock makes the loser fail with 409, and on SQLite ``BEGIN IMMEDIATE``
queues writers), then capacity is checked against usage read *after* those
locks, then rows are written. Usage can therefore never exceed capacity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict
from kumo.placement.db.models import Allocation, Consumer, Inventory, ResourceProvider
from kumo.placement.service import names, providers
from kumo.placement.service.providers import CONCURRENT, Provider

#: Placement's ``incomplete_consumer_project_id`` / ``_user_id`` (for requests before 1.8).
INCOMPLETE_ID = "00000000-0000-0000-0000-000000000000"


@dataclass
class ConsumerAllocations:
    """The allocations one consumer should have after a write."""

    consumer_uuid: str
    allocations: dict[str, dict[str, int]]  # provider uuid → class → amount
    project_id: str = INCOMPLETE_ID
    user_id: str = INCOMPLETE_ID
    consumer_type: str | None = None
    #: Check the consumer's generation (1.28+); ``generation`` None means "new consumer".
    check_generation: bool = False
    generation: int | None = None


@dataclass
class ConsumerView:
    """A consumer's allocations as ``GET /allocations/{consumer}`` shows them."""

    allocations: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict)
    project_id: str | None = None
    user_id: str | None = None
    generation: int | None = None
    consumer_type: str | None = None


def show(db: Database, consumer_uuid: str) -> ConsumerView:
    """The consumer's allocations (empty when it has none)."""
    with db.reader() as s:
        classes = names.ClassCache(s)
        rows = s.execute(
            select(
                ResourceProvider.uuid,
                ResourceProvider.generation,
                Allocation.resource_class_id,
                Allocation.used,
            )
            .join(ResourceProvider, ResourceProvider.id == Allocation.resource_provider_id)
            .where(Allocation.consumer_id == consumer_uuid)
        ).all()
        view = ConsumerView()
        for rp_uuid, gen, rc_id, used in rows:
            view.allocations.setdefault(rp_uuid, (gen, {}))[1][classes.name_of(rc_id)] = used
        consumer = s.scalar(select(Consumer).where(Consumer.uuid == consumer_uuid))
        if consumer is not None:
            view.project_id = consumer.project_id
            view.user_id = consumer.user_id
            view.generation = consumer.generation
            view.consumer_type = consumer.consumer_type
        return view


def for_provider(db: Database, rp_uuid: str) -> tuple[Provider, dict[str, dict[str, int]]]:
    """The provider and, per consumer, what it uses there."""
    with db.reader() as s:
        rp = providers.get(s, rp_uuid)
        classes = names.ClassCache(s)
        out: dict[str, dict[str, int]] = {}
        for consumer, rc_id, used in s.execute(
            select(Allocation.consumer_id, Allocation.resource_class_id, Allocation.used).where(
                Allocation.resource_provider_id == rp.id
            )
        ):
            out.setdefault(consumer, {})[classes.name_of(rc_id)] = used
        return rp, out


def _conflict(message: str) -> Conflict:
    return Conflict(message, code=CONCURRENT)


def write(db: Database, requests: list[ConsumerAllocations]) -> None:
    """Replace the allocations of every consumer in ``requests``, all or nothing."""
    try:
        with db.writer() as s:
            write_in(s, requests)
    except IntegrityError:
        # Two writers created the same consumer at once: the loser retries.
        raise _conflict(
            "consumer generation conflict - another process created the consumer; retry"
        ) from None


def write_in(s: Session, requests: list[ConsumerAllocations]) -> None:
    classes = names.ClassCache(s)
    wanted_uuids = {u for r in requests for u in r.allocations}
    rps: dict[str, tuple[int, int]] = {
        u: (i, g)
        for u, i, g in s.execute(
            select(ResourceProvider.uuid, ResourceProvider.id, ResourceProvider.generation).where(
                ResourceProvider.uuid.in_(wanted_uuids)
            )
        )
    }
    for rp_uuid in sorted(wanted_uuids - rps.keys()):
        raise BadRequest(f"Allocation for resource provider '{rp_uuid}' that does not exist.")
    consumer_ids = [r.consumer_uuid for r in requests]
    consumers = {
        c.uuid: c for c in s.scalars(select(Consumer).where(Consumer.uuid.in_(consumer_ids)))
    }
    for r in requests:
        existing = consumers.get(r.consumer_uuid)
        if not r.check_generation:
            continue
        if existing is None and r.generation is not None:
            raise _conflict(f"consumer generation conflict - expected null but got {r.generation}")
        if existing is not None and existing.generation != r.generation:
            raise _conflict(
                f"consumer generation conflict - expected {r.generation} but got "
                f"{existing.generation}"
            )
    # Providers whose usage changes: the new ones and those the consumers leave.
    old = s.execute(
        select(ResourceProvider.id, ResourceProvider.generation)
        .join(Allocation, Allocation.resource_provider_id == ResourceProvider.id)
        .where(Allocation.consumer_id.in_(consumer_ids))
        .distinct()
    ).all()
    touched = dict(rps.values())
    touched.update({i: g for i, g in old})
    for rp_id in sorted(touched):
        providers.bump(s, rp_id, touched[rp_id])
    s.execute(delete(Allocation).where(Allocation.consumer_id.in_(consumer_ids)))

    # What is asked for, per (provider, class), summed over consumers.
    asked: dict[tuple[int, int], int] = defaultdict(int)
    for r in requests:
        for rp_uuid, resources in r.allocations.items():
            for rc, amount in resources.items():
                asked[(rps[rp_uuid][0], classes.id_of(rc))] += amount
    _check_capacity(s, classes, asked, {i: u for u, (i, _g) in rps.items()}, requests, rps)

    now = utcnow()
    rows = [
        {
            "resource_provider_id": rps[rp_uuid][0],
            "consumer_id": r.consumer_uuid,
            "resource_class_id": classes.id_of(rc),
            "used": amount,
            "created_at": now,
        }
        for r in requests
        for rp_uuid, resources in r.allocations.items()
        for rc, amount in resources.items()
    ]
    if rows:
        # One executemany, not an INSERT … RETURNING per row: this transaction
        # holds the database's write lock (a claim per boot in a boot storm).
        s.execute(insert(Allocation), rows)
    for r in requests:
        _save_consumer(s, r, consumers.get(r.consumer_uuid))


def _check_capacity(
    s: Session,
    classes: names.ClassCache,
    asked: dict[tuple[int, int], int],
    uuid_of: dict[int, str],
    requests: list[ConsumerAllocations],
    rps: dict[str, tuple[int, int]],
) -> None:
    if not asked:
        return
    rp_ids = {rp for rp, _rc in asked}
    inventories = {
        (row.resource_provider_id, row.resource_class_id): row
        for row in s.scalars(select(Inventory).where(Inventory.resource_provider_id.in_(rp_ids)))
    }
    usage = {
        (rp, rc): int(used)
        for rp, rc, used in s.execute(
            select(
                Allocation.resource_provider_id,
                Allocation.resource_class_id,
                func.sum(Allocation.used),
            )
            .where(Allocation.resource_provider_id.in_(rp_ids))
            .group_by(Allocation.resource_provider_id, Allocation.resource_class_id)
        )
    }
    # Per-allocation unit rules (min_unit, max_unit, step_size).
    for r in requests:
        for rp_uuid, resources in r.allocations.items():
            for rc, amount in resources.items():
                inv = inventories.get((rps[rp_uuid][0], classes.id_of(rc)))
                if inv is None:
                    raise Conflict(
                        f"Unable to allocate inventory: Inventory for '{rc}' on resource "
                        f"provider '{rp_uuid}' invalid."
                    )
                if amount < inv.min_unit or amount > inv.max_unit or amount % inv.step_size:
                    raise Conflict(
                        f"Unable to allocate inventory: Unable to create allocation for "
                        f"'{rc}' on resource provider '{rp_uuid}'. The requested amount "
                        f"would violate inventory constraints (min_unit {inv.min_unit}, "
                        f"max_unit {inv.max_unit}, step_size {inv.step_size})."
                    )
    for (rp_id, rc_id), amount in asked.items():
        inv = inventories[(rp_id, rc_id)]
        capacity = (inv.total - inv.reserved) * inv.allocation_ratio
        if usage.get((rp_id, rc_id), 0) + amount > capacity:
            raise Conflict(
                f"Unable to allocate inventory: Unable to create allocation for "
                f"'{classes.name_of(rc_id)}' on resource provider '{uuid_of[rp_id]}'. "
                "The requested amount would exceed the capacity."
            )


def _save_consumer(s: Session, r: ConsumerAllocations, existing: Consumer | None) -> None:
    if not r.allocations:
        if existing is not None:
            s.execute(delete(Consumer).where(Consumer.id == existing.id))
        return
    if existing is None:
        s.add(
            Consumer(
                uuid=r.consumer_uuid,
                project_id=r.project_id,
                user_id=r.user_id,
                consumer_type=r.consumer_type,
                generation=1,
            )
        )
        s.flush()
        return
    values: dict[str, object] = {
        "generation": existing.generation + 1,
        "project_id": r.project_id,
        "user_id": r.user_id,
        "updated_at": utcnow(),
    }
    if r.consumer_type is not None:
        values["consumer_type"] = r.consumer_type
    result = s.execute(
        update(Consumer)
        .where(Consumer.id == existing.id, Consumer.generation == existing.generation)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _conflict("consumer generation conflict - another process changed the consumer")


def delete_consumer(db: Database, consumer_uuid: str) -> bool:
    """Remove every allocation of the consumer; False when it had none."""
    with db.writer() as s:
        old = s.execute(
            select(ResourceProvider.id, ResourceProvider.generation)
            .join(Allocation, Allocation.resource_provider_id == ResourceProvider.id)
            .where(Allocation.consumer_id == consumer_uuid)
            .distinct()
        ).all()
        if not old:
            return False
        for rp_id, gen in sorted(old):
            providers.bump(s, rp_id, gen)
        s.execute(delete(Allocation).where(Allocation.consumer_id == consumer_uuid))
        s.execute(delete(Consumer).where(Consumer.uuid == consumer_uuid))
        return True


# -- usages ------------------------------------------------------------------------


def provider_usages(db: Database, rp_uuid: str) -> tuple[Provider, dict[str, int]]:
    """Per class, what the provider's consumers use (0 for inventory not in use)."""
    with db.reader() as s:
        rp = providers.get(s, rp_uuid)
        classes = names.ClassCache(s)
        out = {
            classes.name_of(rc): 0
            for rc in s.scalars(
                select(Inventory.resource_class_id).where(Inventory.resource_provider_id == rp.id)
            )
        }
        for rc, used in s.execute(
            select(Allocation.resource_class_id, func.sum(Allocation.used))
            .where(Allocation.resource_provider_id == rp.id)
            .group_by(Allocation.resource_class_id)
        ):
            out[classes.name_of(rc)] = int(used)
        return rp, out


def project_usages(db: Database, project_id: str, user_id: str | None) -> dict[str, dict[str, int]]:
    """Usage of a project (and user) per consumer type ("unknown" when unset).

    Each type's entry has its classes' sums and ``consumer_count``.
    """
    with db.reader() as s:
        classes = names.ClassCache(s)
        q = (
            select(Consumer.consumer_type, Allocation.resource_class_id, func.sum(Allocation.used))
            .join(Consumer, Consumer.uuid == Allocation.consumer_id)
            .where(Consumer.project_id == project_id)
            .group_by(Consumer.consumer_type, Allocation.resource_class_id)
        )
        counts_q = (
            select(Consumer.consumer_type, func.count())
            .where(Consumer.project_id == project_id)
            .group_by(Consumer.consumer_type)
        )
        if user_id is not None:
            q = q.where(Consumer.user_id == user_id)
            counts_q = counts_q.where(Consumer.user_id == user_id)
        out: dict[str, dict[str, int]] = {}
        for ctype, rc, used in s.execute(q):
            out.setdefault(ctype or "unknown", {})[classes.name_of(rc)] = int(used)
        for ctype, n in s.execute(counts_q):
            out.setdefault(ctype or "unknown", {})["consumer_count"] = int(n)
    return out


def total_usage(by_type: dict[str, dict[str, int]]) -> dict[str, int]:
    """The sum of every consumer type's usage."""
    total: dict[str, int] = {}
    for usage in by_type.values():
        for key, value in usage.items():
            total[key] = total.get(key, 0) + value
    return total
