"""Host checks of a real-guest cloud after a crash: QEMU processes, instance dirs, cache, taps.

The database checks (:mod:`tools.chaos.consistency`) say what Kumo believes; these
say what is really on the host, and that the two agree:

* a server that is ACTIVE runs exactly one QEMU process (its uuid, its pidfile
  under this cloud's ``instances/<uuid>``); one that is SHUTOFF runs none;
* a server that is deleted, gone or in ERROR has no QEMU process and no
  instance directory (its overlay and config drive are gone with it);
* no QEMU process or instance directory of this cloud belongs to a server the
  database does not keep (a leak);
* the base image cache holds no partial download (``_base/.<id>.part``);
* no tap of a port of a server that is gone or in ERROR is left on the host.

Only this cloud's files and processes are looked at (its state directory); other
tests' guests on the same host are not counted.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlalchemy import select

from kumo.agents.compute.virt.qemu import process
from kumo.agents.network.linux import names
from kumo.common.db import Database
from kumo.compute import states
from kumo.compute.db.instances import Instance


def qemu_pids(state_dir: Path) -> dict[str, list[int]]:
    """uuid → pids of the Kumo guest QEMU processes whose pidfile lies under ``state_dir``."""
    root = str(state_dir.resolve()) + "/"
    found: dict[str, list[int]] = {}
    for guest in process.running_guests():
        if guest.pidfile.startswith(root):
            found.setdefault(guest.uuid, []).append(guest.pid)
    return found


def instance_dirs(state_dir: Path) -> set[str]:
    """The names of the instance directories of ``state_dir``."""
    directory = state_dir / "instances"
    if not directory.is_dir():
        return set()
    return {entry.name for entry in directory.iterdir() if entry.is_dir()}


def partial_cache_files(state_dir: Path) -> list[str]:
    """Partial downloads in the base image cache."""
    directory = state_dir / "_base"
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def host_taps() -> set[str]:
    """The names of Kumo guest taps (``ktp-…``) on this host."""
    try:
        out = subprocess.run(
            ["ip", "-o", "link", "show"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return set()
    taps = set()
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2:
            name = parts[1].strip().split("@", 1)[0]
            if name.startswith(names.TAP):
                taps.add(name)
    return taps


def host_problems(
    db: Database, state_dir: Path, ports_of: Mapping[str, Iterable[str]] | None = None
) -> list[str]:
    """What the host holds that the database says it should not (or lacks), as sentences.

    ``ports_of`` maps a server uuid to the ports it had (recorded by the scenario
    while it existed): their taps must be gone once the server is gone or ERROR.
    """
    with db.reader() as s:
        rows = s.execute(
            select(Instance.uuid, Instance.vm_state, Instance.deleted, Instance.launched_at)
        ).all()
    live = {u: v for u, v, deleted, _ in rows if not deleted}
    pids = qemu_pids(state_dir)
    dirs = instance_dirs(state_dir)
    problems: list[str] = []
    for uuid, vm_state in sorted(live.items()):
        running = pids.get(uuid, [])
        if vm_state == states.ACTIVE and len(running) != 1:
            problems.append(f"server {uuid} is ACTIVE with {len(running)} QEMU process(es)")
        elif vm_state == states.STOPPED and running:
            problems.append(f"server {uuid} is SHUTOFF but QEMU pid {running} runs")
        elif vm_state == states.ERROR:
            if running:
                problems.append(f"server {uuid} is ERROR but QEMU pid {running} runs (leak)")
            if uuid in dirs:
                problems.append(f"server {uuid} is ERROR but its instance directory is left")
        if vm_state in (states.ACTIVE, states.STOPPED) and uuid not in dirs:
            problems.append(f"server {uuid} is {vm_state} but has no instance directory")
    for uuid, running in sorted(pids.items()):
        if uuid not in live:
            problems.append(f"QEMU pid {running} runs guest {uuid}, which is deleted or unknown")
    for uuid in sorted(dirs - set(live)):
        problems.append(f"instance directory {uuid} left for a deleted or unknown server")
    problems += [f"partial download left in the image cache: _base/{p}" for p in
                 partial_cache_files(state_dir)]  # fmt: skip
    if ports_of:
        taps = host_taps()
        for uuid, ports in sorted(ports_of.items()):
            if live.get(uuid) not in (None, states.ERROR):
                continue
            left = sorted(names.tap(p) for p in ports if names.tap(p) in taps)
            if left:
                problems.append(f"tap(s) {left} of server {uuid} left on the host")
    return problems


def settle_host(
    url: str,
    state_dir: Path,
    ports_of: Mapping[str, Iterable[str]] | None = None,
    timeout: float = 60.0,
) -> list[str]:
    """:func:`host_problems`, polled until none remain or ``timeout`` (power syncs lag)."""
    db = Database(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            problems = host_problems(db, state_dir, ports_of)
            if not problems or time.monotonic() > deadline:
                return problems
            time.sleep(1.0)
    finally:
        db.dispose()
