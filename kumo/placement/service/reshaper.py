"""``POST /reshaper``: move inventory and allocations between providers atomically.

Inventories are replaced first without the in-use check (the allocations that
use them are about to move), then the allocations are written, and only then
is every reshaped provider checked: no class may end up used beyond its
capacity or used without inventory.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from kumo.common.db import Database
from kumo.common.errors import Conflict
from kumo.placement.service import allocations, inventories, names, providers
from kumo.placement.service.allocations import ConsumerAllocations
from kumo.placement.service.inventories import INUSE, InventoryData


def reshape(
    db: Database,
    wanted: dict[str, tuple[int, dict[str, InventoryData]]],
    writes: list[ConsumerAllocations],
) -> None:
    """Replace the inventories in ``wanted`` and the allocations in ``writes``, all or nothing."""
    try:
        with db.writer() as s:
            classes = names.ClassCache(s)
            reshaped = []
            for rp_uuid, (generation, invs) in sorted(wanted.items()):
                rp = providers.get(s, rp_uuid)
                providers.check_generation(rp, generation)
                providers.bump(s, rp.id, rp.generation)
                wanted_ids = {classes.id_of(rc): inv for rc, inv in invs.items()}
                current = {r.resource_class_id: r for r in inventories.rows_of(s, rp.id)}
                for rc_id, row in current.items():
                    if rc_id not in wanted_ids:
                        s.delete(row)
                for rc_id, new in wanted_ids.items():
                    inventories.write_row(s, rp.id, rc_id, new, current.get(rc_id))
                s.flush()
                reshaped.append((rp_uuid, rp.id, invs))
            allocations.write_in(s, writes)
            s.flush()
            for rp_uuid, rp_id, invs in reshaped:
                for rc_id, used in inventories.usage_of(s, rp_id).items():
                    rc = classes.name_of(rc_id)
                    found = invs.get(rc)
                    capacity = (
                        (found.total - found.reserved) * found.allocation_ratio if found else 0
                    )
                    if used > capacity:
                        raise Conflict(
                            f"Resource class {rc} on resource provider {rp_uuid} would be "
                            f"used ({used}) beyond its inventory after the reshape.",
                            code=INUSE,
                        )
    except IntegrityError:
        raise Conflict(
            "consumer generation conflict - another process created the consumer; retry",
            code=providers.CONCURRENT,
        ) from None
