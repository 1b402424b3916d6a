"""Concurrent writers: generation conflicts are 409s, never 500s, and capacity holds."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.api.placement.conftest import Placement, code_of

WRITERS = 8
ATTEMPTS = 8
CAPACITY = 20


def test_eight_writers_on_one_provider(placement: Placement) -> None:
    rp = placement.provider(VCPU=CAPACITY)

    def writer(_: int) -> list[tuple[int, str | None]]:
        out = []
        for _ in range(ATTEMPTS):
            resp = placement.allocate(str(uuid.uuid4()), rp, VCPU=1)
            out.append((resp.status_code, code_of(resp) if resp.status_code == 409 else None))
        return out

    with ThreadPoolExecutor(WRITERS) as pool:
        results = [r for batch in pool.map(writer, range(WRITERS)) for r in batch]
    statuses = {status for status, _code in results}
    assert statuses <= {204, 409}, results
    ok = sum(1 for status, _code in results if status == 204)
    usage = placement("GET", f"/resource_providers/{rp}/usages").json()["usages"]["VCPU"]
    assert usage == ok
    assert usage <= CAPACITY
    # 64 attempts for 20 units: the provider fills up, and the rest are refused.
    assert ok >= 1
    assert any(status == 409 for status, _code in results)


def test_racing_inventory_updates_conflict_cleanly(placement: Placement) -> None:
    rp = placement.provider(VCPU=4)

    def writer(total: int) -> int:
        resp = placement(
            "PUT",
            f"/resource_providers/{rp}/inventories",
            {
                "resource_provider_generation": 1,
                "inventories": {"VCPU": {"total": total}},
            },
        )
        return resp.status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(writer, range(5, 5 + WRITERS)))
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == WRITERS - 1
