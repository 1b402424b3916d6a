"""A provider's inventories: how much of each resource class it has, and the rules for using it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, NotFound
from kumo.placement.db.models import Allocation, Inventory
from kumo.placement.service import names, providers
from kumo.placement.service.providers import Provider

MAX_INT = 2147483647
INUSE = "placement.inventory.inuse"


@dataclass
class InventoryData:
    """One class's inventory as the API shows it."""

    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int = MAX_INT
    step_size: int = 1
    allocation_ratio: float = 1.0

    def as_dict(self) -> dict[str, int | float]:
        """The API's fields."""
        return {
            "allocation_ratio": self.allocation_ratio,
            "max_unit": self.max_unit,
            "min_unit": self.min_unit,
            "reserved": self.reserved,
            "step_size": self.step_size,
            "total": self.total,
        }


def validate(rc: str, inv: InventoryData, *, reserved_equal_total: bool) -> None:
    """Placement's cross-field checks on one inventory."""
    if inv.reserved > inv.total or (inv.reserved == inv.total and not reserved_equal_total):
        raise BadRequest(
            f"Unable to update inventory for resource provider: Invalid inventory for '{rc}' "
            "on resource provider. The reserved value is greater than or equal to total."
        )
    if inv.min_unit > inv.max_unit:
        raise BadRequest(
            f"Unable to update inventory: Invalid inventory for '{rc}'. The min_unit value "
            "is greater than max_unit."
        )


def rows_of(session: Session, provider_id: int) -> list[Inventory]:
    return list(
        session.scalars(select(Inventory).where(Inventory.resource_provider_id == provider_id))
    )


def _data(row: Inventory) -> InventoryData:
    return InventoryData(
        total=row.total,
        reserved=row.reserved,
        min_unit=row.min_unit,
        max_unit=row.max_unit,
        step_size=row.step_size,
        allocation_ratio=row.allocation_ratio,
    )


def list_inventories(db: Database, rp_uuid: str) -> tuple[Provider, dict[str, InventoryData]]:
    """The provider and its inventories by class name."""
    with db.reader() as s:
        rp = providers.get(s, rp_uuid)
        classes = names.ClassCache(s)
        rows = rows_of(s, rp.id)
        return rp, {classes.name_of(r.resource_class_id): _data(r) for r in rows}


def show_inventory(db: Database, rp_uuid: str, rc: str) -> tuple[Provider, InventoryData]:
    """One class's inventory of the provider."""
    with db.reader() as s:
        rp = providers.get(s, rp_uuid)
        rc_id = names.ClassCache(s).by_name.get(rc)
        row = None
        if rc_id is not None:
            row = s.scalar(
                select(Inventory).where(
                    Inventory.resource_provider_id == rp.id, Inventory.resource_class_id == rc_id
                )
            )
        if row is None:
            raise NotFound(f"No inventory of class {rc} for {rp_uuid}")
        return rp, _data(row)


def usage_of(session: Session, provider_id: int) -> dict[int, int]:
    rows = session.execute(
        select(Allocation.resource_class_id, func.sum(Allocation.used))
        .where(Allocation.resource_provider_id == provider_id)
        .group_by(Allocation.resource_class_id)
    )
    return {rc: int(used) for rc, used in rows}


def _check_in_use(rc: str, rp_uuid: str, inv: InventoryData | None, used: int) -> None:
    if used == 0:
        return
    if inv is None:
        raise Conflict(f"Inventory for '{rc}' on resource provider '{rp_uuid}' in use.", code=INUSE)
    capacity = int((inv.total - inv.reserved) * inv.allocation_ratio)
    if capacity < used:
        raise Conflict(
            f"Unable to update inventory for resource provider {rp_uuid}: Invalid inventory "
            f"for '{rc}' on resource provider '{rp_uuid}'. The reserved value is greater than "
            f"total or the new capacity {capacity} is below current usage {used}.",
            code=INUSE,
        )


def replace_inventories(
    db: Database,
    rp_uuid: str,
    generation: int,
    wanted: dict[str, InventoryData],
) -> tuple[Provider, dict[str, InventoryData]]:
    """Set every inventory of the provider at once (classes left out are removed)."""
    with db.writer() as s:
        rp = providers.get(s, rp_uuid)
        classes = names.ClassCache(s)
        wanted_ids = {classes.id_of(rc): (rc, inv) for rc, inv in wanted.items()}
        providers.check_generation(rp, generation)
        usage = usage_of(s, rp.id)
        current = {r.resource_class_id: r for r in rows_of(s, rp.id)}
        for rc_id, used in usage.items():
            pair = wanted_ids.get(rc_id)
            _check_in_use(classes.name_of(rc_id), rp_uuid, pair[1] if pair else None, used)
        rp.generation = providers.bump(s, rp.id, rp.generation)
        for rc_id, row in current.items():
            if rc_id not in wanted_ids:
                s.delete(row)
        for rc_id, (_rc, inv) in wanted_ids.items():
            write_row(s, rp.id, rc_id, inv, current.get(rc_id))
        return rp, dict(wanted)


def write_row(
    s: Session, provider_id: int, rc_id: int, inv: InventoryData, row: Inventory | None
) -> None:
    if row is None:
        row = Inventory(resource_provider_id=provider_id, resource_class_id=rc_id)
        s.add(row)
    else:
        row.updated_at = utcnow()
    row.total = inv.total
    row.reserved = inv.reserved
    row.min_unit = inv.min_unit
    row.max_unit = inv.max_unit
    row.step_size = inv.step_size
    row.allocation_ratio = inv.allocation_ratio


def set_inventory(
    db: Database,
    rp_uuid: str,
    rc: str,
    generation: int,
    inv: InventoryData,
    *,
    create_only: bool,
) -> Provider:
    """Create (POST) or update (PUT) one class's inventory of the provider."""
    with db.writer() as s:
        rp = providers.get(s, rp_uuid)
        classes = names.ClassCache(s)
        rc_id = classes.id_of(rc)
        providers.check_generation(rp, generation)
        row = s.scalar(
            select(Inventory).where(
                Inventory.resource_provider_id == rp.id, Inventory.resource_class_id == rc_id
            )
        )
        if create_only and row is not None:
            raise Conflict(
                f"Update conflict: Inventory for '{rc}' on resource provider '{rp_uuid}' "
                "already exists."
            )
        if not create_only and row is None:
            raise BadRequest(
                f"No inventory record with resource class for resource provider {rp_uuid}"
            )
        _check_in_use(rc, rp_uuid, inv, usage_of(s, rp.id).get(rc_id, 0))
        rp.generation = providers.bump(s, rp.id, rp.generation)
        write_row(s, rp.id, rc_id, inv, row)
        return rp


def delete_inventory(db: Database, rp_uuid: str, rc: str) -> None:
    """Remove one class's inventory; 409 while it has allocations."""
    with db.writer() as s:
        rp = providers.get(s, rp_uuid)
        rc_id = names.ClassCache(s).by_name.get(rc)
        row = None
        if rc_id is not None:
            row = s.scalar(
                select(Inventory).where(
                    Inventory.resource_provider_id == rp.id, Inventory.resource_class_id == rc_id
                )
            )
        if row is None or rc_id is None:
            raise NotFound(f"No inventory of class {rc} found for delete")
        _check_in_use(rc, rp_uuid, None, usage_of(s, rp.id).get(rc_id, 0))
        providers.bump(s, rp.id, rp.generation)
        s.delete(row)


def delete_all(db: Database, rp_uuid: str) -> None:
    """Remove every inventory of the provider (1.5); 409 while any has allocations."""
    with db.writer() as s:
        rp = providers.get(s, rp_uuid)
        classes = names.ClassCache(s)
        for rc_id, used in usage_of(s, rp.id).items():
            _check_in_use(classes.name_of(rc_id), rp_uuid, None, used)
        providers.bump(s, rp.id, rp.generation)
        s.execute(delete(Inventory).where(Inventory.resource_provider_id == rp.id))
