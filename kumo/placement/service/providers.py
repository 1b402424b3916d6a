"""Resource providers, their trees, aggregates and traits.

Every change to a provider's inventory, traits, aggregates or allocations
bumps its ``generation`` with a compare-and-swap (``UPDATE … WHERE
generation = ?``): a writer that raced another gets 409
``placement.concurrent_update`` instead of silently overwriting, on every
database (SQLite's ``BEGIN IMMEDIATE`` already serialises writers there).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, NotFound
from kumo.placement.db.models import (
    Allocation,
    Inventory,
    ProviderAggregate,
    ProviderTrait,
    ResourceProvider,
)
from kumo.placement.service import names
from kumo.placement.service.query import AggregateFilter, TraitFilter

CONCURRENT = "placement.concurrent_update"


@dataclass
class Provider:
    """A provider as the API shows it."""

    id: int
    uuid: str
    name: str
    generation: int
    parent_provider_uuid: str | None
    root_provider_uuid: str
    updated: dt.datetime


@dataclass
class ProviderFilters:
    """``GET /resource_providers`` filters, already parsed."""

    name: str | None = None
    uuid: str | None = None
    in_tree: str | None = None
    member_of: AggregateFilter | None = None
    resources: dict[str, int] | None = None
    required: TraitFilter | None = None


def _select_providers() -> Select[ResourceProvider, str, str]:
    parent = aliased(ResourceProvider)
    root = aliased(ResourceProvider)
    return (
        select(ResourceProvider, parent.uuid, root.uuid)
        .outerjoin(parent, parent.id == ResourceProvider.parent_provider_id)
        .outerjoin(root, root.id == ResourceProvider.root_provider_id)
    )


def _view(rp: ResourceProvider, parent_uuid: str | None, root_uuid: str | None) -> Provider:
    return Provider(
        id=rp.id,
        uuid=rp.uuid,
        name=rp.name,
        generation=rp.generation,
        parent_provider_uuid=parent_uuid,
        root_provider_uuid=root_uuid or rp.uuid,
        updated=rp.updated_at or rp.created_at,
    )


def get(session: Session, rp_uuid: str) -> Provider:
    """Provider ``rp_uuid``; 404 when it does not exist."""
    row = session.execute(_select_providers().where(ResourceProvider.uuid == rp_uuid)).first()
    if row is None:
        raise NotFound(f"No resource provider with uuid {rp_uuid} found")
    return _view(row[0], row[1], row[2])


def show(db: Database, rp_uuid: str) -> Provider:
    """Provider ``rp_uuid``."""
    with db.reader() as s:
        return get(s, rp_uuid)


def bump(session: Session, provider_id: int, generation: int) -> int:
    """Compare-and-swap the provider's generation; 409 when someone else changed it."""
    result = session.execute(
        update(ResourceProvider)
        .where(ResourceProvider.id == provider_id, ResourceProvider.generation == generation)
        .values(generation=generation + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "resource provider generation conflict: another process changed the provider "
            "while this request was in progress; please retry",
            code=CONCURRENT,
        )
    return generation + 1


def check_generation(provider: Provider, generation: int | None) -> None:
    """409 ``placement.concurrent_update`` unless the client saw the current generation."""
    if generation != provider.generation:
        raise Conflict(
            "resource provider generation conflict: the provider's generation is "
            f"{provider.generation}, the request expected {generation}",
            code=CONCURRENT,
        )


def aggregate_clause(column: Any, flt: AggregateFilter) -> list[ColumnElement[bool]]:
    """Conditions restricting provider id ``column`` to ``flt``."""
    out: list[ColumnElement[bool]] = []
    for any_of in flt.any_of:
        out.append(
            exists().where(
                ProviderAggregate.resource_provider_id == column,
                ProviderAggregate.aggregate_uuid.in_(any_of),
            )
        )
    if flt.forbidden:
        out.append(
            ~exists().where(
                ProviderAggregate.resource_provider_id == column,
                ProviderAggregate.aggregate_uuid.in_(flt.forbidden),
            )
        )
    return out


def trait_clause(column: Any, flt: TraitFilter) -> list[ColumnElement[bool]]:
    """Conditions restricting provider id ``column`` to providers passing ``flt``."""
    out: list[ColumnElement[bool]] = []
    for any_of in flt.all_of:
        out.append(
            exists().where(
                ProviderTrait.resource_provider_id == column, ProviderTrait.trait.in_(any_of)
            )
        )
    if flt.forbidden:
        out.append(
            ~exists().where(
                ProviderTrait.resource_provider_id == column,
                ProviderTrait.trait.in_(flt.forbidden),
            )
        )
    return out


@functools.lru_cache(maxsize=1024)
def capacity_query(
    rc_id: int, amount: int, *, units: bool
) -> Select[int, int | None, int, float, Any, int]:
    """Providers with room for ``amount`` of class ``rc_id``, in one set-based query.

    Rows: (provider id, root id, total - reserved, allocation ratio, used, inventory id).
    With ``units``, also honour min_unit / max_unit / step_size (allocation candidates).
    Statements are immutable, so each is built once: building one cost more than
    running it (every boot's scheduling asks for the same few amounts).
    """
    usage = (
        select(Allocation.resource_provider_id.label("rp"), func.sum(Allocation.used).label("used"))
        .where(Allocation.resource_class_id == rc_id)
        .group_by(Allocation.resource_provider_id)
        .subquery()
    )
    used = func.coalesce(usage.c.used, 0)
    q = (
        select(
            Inventory.resource_provider_id,
            ResourceProvider.root_provider_id,
            Inventory.total - Inventory.reserved,
            Inventory.allocation_ratio,
            used,
            Inventory.id,
        )
        .join(ResourceProvider, ResourceProvider.id == Inventory.resource_provider_id)
        .outerjoin(usage, usage.c.rp == Inventory.resource_provider_id)
        .where(
            Inventory.resource_class_id == rc_id,
            (Inventory.total - Inventory.reserved) * Inventory.allocation_ratio >= used + amount,
        )
    )
    if units:
        q = q.where(
            Inventory.min_unit <= amount,
            Inventory.max_unit >= amount,
            (amount % Inventory.step_size) == 0,
        )
    return q


def list_providers(db: Database, flt: ProviderFilters) -> list[Provider]:
    """Providers matching every filter, oldest first."""
    with db.reader() as s:
        q = _select_providers()
        if flt.name is not None:
            q = q.where(ResourceProvider.name == flt.name)
        if flt.uuid is not None:
            q = q.where(ResourceProvider.uuid == flt.uuid)
        if flt.in_tree is not None:
            root_id = s.scalar(
                select(ResourceProvider.root_provider_id).where(
                    ResourceProvider.uuid == flt.in_tree
                )
            )
            if root_id is None:
                return []
            q = q.where(ResourceProvider.root_provider_id == root_id)
        if flt.member_of:
            q = q.where(*aggregate_clause(ResourceProvider.id, flt.member_of))
        if flt.required:
            names.require_traits(s, flt.required.names())
            q = q.where(*trait_clause(ResourceProvider.id, flt.required))
        if flt.resources:
            classes = names.ClassCache(s)
            for rc_name, amount in flt.resources.items():
                ids = capacity_query(classes.id_of(rc_name), amount, units=False).with_only_columns(
                    Inventory.resource_provider_id
                )
                q = q.where(ResourceProvider.id.in_(ids))
        rows = s.execute(q.order_by(ResourceProvider.id)).all()
        return [_view(r[0], r[1], r[2]) for r in rows]


def _name_taken(name: str) -> Conflict:
    return Conflict(
        f"Conflicting resource provider name: {name} already exists.",
        code="placement.duplicate_name",
    )


def create(db: Database, name: str, rp_uuid: str | None, parent_uuid: str | None) -> Provider:
    """Create a provider (a root, or a child of ``parent_uuid``)."""
    rp_uuid = rp_uuid or str(uuidlib.uuid4())
    try:
        with db.writer() as s:
            if s.scalar(select(ResourceProvider.id).where(ResourceProvider.name == name)):
                raise _name_taken(name)
            if s.scalar(select(ResourceProvider.id).where(ResourceProvider.uuid == rp_uuid)):
                raise Conflict(
                    f"Conflicting resource provider uuid: {rp_uuid} already exists.",
                    code="placement.duplicate_name",
                )
            parent = _parent(s, parent_uuid) if parent_uuid else None
            rp = ResourceProvider(
                uuid=rp_uuid,
                name=name,
                generation=0,
                parent_provider_id=parent.id if parent else None,
                root_provider_id=parent.root_provider_id if parent else None,
            )
            s.add(rp)
            s.flush()
            if parent is None:
                rp.root_provider_id = rp.id
            s.flush()
            return get(s, rp_uuid)
    except IntegrityError:
        raise _name_taken(name) from None


def _parent(session: Session, parent_uuid: str) -> ResourceProvider:
    parent = session.scalar(select(ResourceProvider).where(ResourceProvider.uuid == parent_uuid))
    if parent is None:
        raise BadRequest(f"parent provider UUID does not exist: {parent_uuid}")
    return parent


def update_provider(
    db: Database,
    rp_uuid: str,
    name: str,
    parent_uuid: str | None,
    *,
    parent_given: bool,
    reparent: bool,
) -> Provider:
    """Rename a provider and (from 1.14) set its parent; re-parent only from 1.37."""
    try:
        with db.writer() as s:
            rp = s.scalar(select(ResourceProvider).where(ResourceProvider.uuid == rp_uuid))
            if rp is None:
                raise NotFound(f"No resource provider with uuid {rp_uuid} found")
            if rp.name != name and s.scalar(
                select(ResourceProvider.id).where(ResourceProvider.name == name)
            ):
                raise _name_taken(name)
            rp.name = name
            if parent_given:
                _set_parent(s, rp, parent_uuid, reparent)
            rp.generation += 1
            rp.updated_at = utcnow()
            s.flush()
            return get(s, rp_uuid)
    except IntegrityError:
        raise _name_taken(name) from None


def _set_parent(s: Session, rp: ResourceProvider, parent_uuid: str | None, reparent: bool) -> None:
    current = rp.parent_provider_id
    if parent_uuid is None:
        if current is None:
            return
        if not reparent:
            raise BadRequest("Un-parenting a provider is not currently allowed.")
        _move_tree(s, rp, None)
        return
    parent = _parent(s, parent_uuid)
    if parent.id == current:
        return
    if current is not None and not reparent:
        raise BadRequest("re-parenting a provider is not currently allowed.")
    # Refuse loops: the new parent must not be the provider or one of its descendants.
    node: int | None = parent.id
    while node is not None:
        if node == rp.id:
            raise BadRequest("creating loop in the provider tree is not allowed.")
        node = s.scalar(
            select(ResourceProvider.parent_provider_id).where(ResourceProvider.id == node)
        )
    _move_tree(s, rp, parent)


def _move_tree(s: Session, rp: ResourceProvider, parent: ResourceProvider | None) -> None:
    """Attach ``rp`` under ``parent`` (or make it a root) and re-root its subtree."""
    new_root = parent.root_provider_id if parent else rp.id
    rp.parent_provider_id = parent.id if parent else None
    subtree = [rp.id]
    frontier = [rp.id]
    while frontier:
        frontier = list(
            s.scalars(
                select(ResourceProvider.id).where(ResourceProvider.parent_provider_id.in_(frontier))
            )
        )
        subtree += frontier
    s.flush()
    s.execute(
        update(ResourceProvider)
        .where(ResourceProvider.id.in_(subtree))
        .values(root_provider_id=new_root)
        .execution_options(synchronize_session=False)
    )
    rp.root_provider_id = new_root


def delete_provider(db: Database, rp_uuid: str) -> None:
    """Delete a provider with no allocations and no children."""
    with db.writer() as s:
        rp = s.scalar(select(ResourceProvider).where(ResourceProvider.uuid == rp_uuid))
        if rp is None:
            raise NotFound(f"No resource provider with uuid {rp_uuid} found for delete")
        if s.scalar(select(exists().where(Allocation.resource_provider_id == rp.id))):
            raise Conflict(
                f"Unable to delete resource provider {rp_uuid}: Resource provider has allocations.",
                code="placement.resource_provider.inuse",
            )
        if s.scalar(select(exists().where(ResourceProvider.parent_provider_id == rp.id))):
            raise Conflict(
                f"Unable to delete parent resource provider {rp_uuid}: It has child "
                "resource providers.",
                code="placement.resource_provider.cannot_delete_parent",
            )
        s.execute(delete(Inventory).where(Inventory.resource_provider_id == rp.id))
        s.execute(delete(ProviderTrait).where(ProviderTrait.resource_provider_id == rp.id))
        s.execute(delete(ProviderAggregate).where(ProviderAggregate.resource_provider_id == rp.id))
        s.delete(rp)


# -- aggregates --------------------------------------------------------------------


def aggregates(db: Database, rp_uuid: str) -> tuple[Provider, list[str]]:
    """The provider and its aggregates."""
    with db.reader() as s:
        rp = get(s, rp_uuid)
        aggs = s.scalars(
            select(ProviderAggregate.aggregate_uuid)
            .where(ProviderAggregate.resource_provider_id == rp.id)
            .order_by(ProviderAggregate.aggregate_uuid)
        )
        return rp, list(aggs)


def set_aggregates(
    db: Database, rp_uuid: str, aggs: list[str], generation: int | None, *, check: bool
) -> tuple[Provider, list[str]]:
    """Replace the provider's aggregates (checking its generation when ``check``)."""
    with db.writer() as s:
        rp = get(s, rp_uuid)
        if check:
            check_generation(rp, generation)
        rp.generation = bump(s, rp.id, rp.generation) if check else rp.generation
        s.execute(delete(ProviderAggregate).where(ProviderAggregate.resource_provider_id == rp.id))
        for agg in sorted(set(aggs)):
            s.add(ProviderAggregate(resource_provider_id=rp.id, aggregate_uuid=agg))
        return rp, sorted(set(aggs))


# -- provider traits ---------------------------------------------------------------


def traits(db: Database, rp_uuid: str) -> tuple[Provider, list[str]]:
    """The provider and its traits."""
    with db.reader() as s:
        rp = get(s, rp_uuid)
        found = s.scalars(
            select(ProviderTrait.trait)
            .where(ProviderTrait.resource_provider_id == rp.id)
            .order_by(ProviderTrait.trait)
        )
        return rp, list(found)


def set_traits(
    db: Database, rp_uuid: str, wanted: list[str], generation: int
) -> tuple[Provider, list[str]]:
    """Replace the provider's traits; every trait must exist."""
    with db.writer() as s:
        rp = get(s, rp_uuid)
        names.require_traits(s, wanted)
        check_generation(rp, generation)
        rp.generation = bump(s, rp.id, rp.generation)
        s.execute(delete(ProviderTrait).where(ProviderTrait.resource_provider_id == rp.id))
        for trait in sorted(set(wanted)):
            s.add(ProviderTrait(resource_provider_id=rp.id, trait=trait))
        return rp, sorted(set(wanted))


def clear_traits(db: Database, rp_uuid: str) -> None:
    """Remove every trait of the provider."""
    with db.writer() as s:
        rp = get(s, rp_uuid)
        bump(s, rp.id, rp.generation)
        s.execute(delete(ProviderTrait).where(and_(ProviderTrait.resource_provider_id == rp.id)))
