"""Database consistency checks of a cloud after a crash (used by `make chaos` and tests/chaos).

Each check returns human-readable problems (an empty list: consistent). They read
the one database every Kumo service shares; nothing is written.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

import kumo.db.models  # noqa: F401  (every service's tables on Base.metadata)
from kumo.common.clients.placement import provider_uuid
from kumo.common.db import Base, Database
from kumo.compute import states
from kumo.compute.db.instances import Instance, InstanceFault
from kumo.image.db.models import Image, ImageProperty
from kumo.image.service import store
from kumo.network.db.models import Port
from kumo.placement.db.models import Allocation, ResourceProvider

#: vm_states of servers that must hold an allocation on their host.
HOLDING = frozenset(
    {
        states.ACTIVE,
        states.STOPPED,
        states.PAUSED,
        states.SUSPENDED,
        states.RESCUED,
        states.RESIZED,
        states.SHELVED,
    }
)


def stuck_servers(s: Session) -> list[str]:
    """Servers still building or with a task_state (call once the cloud has settled)."""
    rows = s.execute(
        select(Instance.uuid, Instance.vm_state, Instance.task_state).where(
            Instance.deleted.is_(False),
            (Instance.vm_state == states.BUILDING) | Instance.task_state.is_not(None),
        )
    ).all()
    return [f"server {u} stuck: vm_state={v} task_state={t}" for u, v, t in rows]


def errors_without_fault(s: Session) -> list[str]:
    """Servers in ERROR with no fault recorded."""
    rows = s.scalars(
        select(Instance.uuid).where(
            Instance.deleted.is_(False),
            Instance.vm_state == states.ERROR,
            ~select(InstanceFault.id).where(InstanceFault.instance_uuid == Instance.uuid).exists(),
        )
    ).all()
    return [f"server {u} is in ERROR without a fault" for u in rows]


def allocation_problems(s: Session) -> list[str]:
    """Placement allocations must match the servers that exist, no more and no fewer."""
    problems: list[str] = []
    servers = {i.uuid: i for i in s.scalars(select(Instance).where(Instance.deleted.is_(False)))}
    rp_uuid = {i: u for i, u in s.execute(select(ResourceProvider.id, ResourceProvider.uuid))}
    held: dict[str, set[str]] = {}
    for consumer, rp_id in s.execute(
        select(Allocation.consumer_id, Allocation.resource_provider_id).distinct()
    ):
        held.setdefault(consumer, set()).add(rp_uuid.get(rp_id, f"missing provider {rp_id}"))
    for consumer, providers in sorted(held.items()):
        server = servers.get(consumer)
        if server is None:
            problems.append(f"allocation of {consumer} on {sorted(providers)}: no such server")
        elif server.vm_state == states.SHELVED_OFFLOADED:
            problems.append(f"allocation of shelved-offloaded server {consumer}")
        elif server.vm_state == states.ERROR and server.launched_at is None:
            problems.append(f"allocation of never-built server {consumer} (ERROR)")
    for uuid, server in servers.items():
        if server.vm_state in HOLDING and server.host:
            wanted = provider_uuid(server.host)
            if wanted not in held.get(uuid, set()):
                problems.append(
                    f"server {uuid} ({server.vm_state} on {server.host}) holds no allocation there"
                )
    return problems


def port_problems(s: Session) -> list[str]:
    """Compute-owned ports whose server is gone or never built (leaked ports)."""
    live = select(Instance.uuid).where(
        Instance.deleted.is_(False),
        ~and_(Instance.vm_state == states.ERROR, Instance.launched_at.is_(None)),
    )
    rows = s.execute(
        select(Port.id, Port.device_id).where(
            Port.device_owner.like("compute:%"), Port.device_id.not_in(live)
        )
    ).all()
    return [f"port {p} leaked (device {d} is not a built server)" for p, d in rows]


def snapshot_leftovers(s: Session) -> list[str]:
    """Snapshot images never finished while their server makes no image any more."""
    busy = select(Instance.uuid).where(
        Instance.deleted.is_(False), Instance.task_state.like("%image%")
    )
    rows = s.execute(
        select(Image.id, Image.status, ImageProperty.value)
        .join(ImageProperty, ImageProperty.image_id == Image.id)
        .where(
            Image.status.in_(("queued", "saving", "uploading", "importing")),
            ImageProperty.name == "instance_uuid",
            ImageProperty.value.not_in(busy),
        )
    ).all()
    return [f"snapshot image {i} of server {u} left {st}" for i, st, u in rows]


def dangling_references(s: Session) -> list[str]:
    """Rows whose foreign key names a row that does not exist (SQLite does not enforce them)."""
    problems: list[str] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == table.name:
                continue
            col, target = fk.parent, fk.column
            missing = s.scalar(
                select(func.count())
                .select_from(table)
                .where(col.is_not(None), ~select(target).where(target == col).exists())
            )
            if missing:
                problems.append(
                    f"{missing} row(s) of {table.name}.{col.name} name a missing "
                    f"{target.table.name}.{target.name}"
                )
    return problems


def check(db: Database, *, settled: bool = True) -> list[str]:
    """Every problem found; ``settled`` also reports servers stuck mid-work."""
    with db.reader() as s:
        problems = errors_without_fault(s) + allocation_problems(s) + port_problems(s)
        problems += dangling_references(s)
        if settled:
            problems += stuck_servers(s) + snapshot_leftovers(s)
    return problems


def sqlite_integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of a SQLite file ("ok" when intact)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(r[0]) for r in rows)


def image_store_problems(db: Database, state_dir: Path) -> list[str]:
    """Active images whose data file is missing or does not match its recorded checksums."""
    problems: list[str] = []
    with db.reader() as s:
        images = s.execute(
            select(Image.id, Image.size, Image.checksum, Image.os_hash_value, Image.location).where(
                Image.status == "active"
            )
        ).all()
    for image_id, size, md5sum, sha, location in images:
        path = store.store_dir(state_dir) / location if location else None
        if path is None or not path.exists():
            path = store.data_path(state_dir, image_id)
        if not path.exists():
            problems.append(f"active image {image_id}: data file missing")
            continue
        md5, sha512, length = hashlib.md5(usedforsecurity=False), hashlib.sha512(), 0
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                md5.update(chunk)
                sha512.update(chunk)
                length += len(chunk)
        if size is not None and length != size:
            problems.append(f"active image {image_id}: {length} bytes on disk, {size} recorded")
        if md5sum and md5.hexdigest() != md5sum:
            problems.append(f"active image {image_id}: md5 mismatch")
        if sha and sha512.hexdigest() != sha:
            problems.append(f"active image {image_id}: sha512 mismatch")
    return problems
