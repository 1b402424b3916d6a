"""Resident memory of a set of processes, read from Linux's /proc.

RSS counts every page a process has mapped, so pages shared between a master and its
forked workers are counted once per process; PSS divides each shared page among the
processes sharing it, so a sum of PSS is the memory the group really takes. Both are
reported; the headline uses RSS because that is what ``ps`` and ``top`` show.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessMemory:
    """One process's memory: its pid, command line and resident sizes in KiB."""

    pid: int
    command: str
    rss_kib: int
    pss_kib: int | None


def all_pids() -> list[int]:
    """Every pid on the machine right now."""
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def parent_of(pid: int) -> int | None:
    """The parent pid from ``/proc/<pid>/stat``, or None if the process is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1])


def cmdline(pid: int) -> str:
    """The command line, arguments joined by spaces ('' for kernel threads or gone)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def environ_has(pid: int, entry: str) -> bool:
    """Whether the process started with ``entry`` (``NAME=value``) in its environment."""
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return entry.encode() in raw.split(b"\0")


def descendants(roots: Iterable[int]) -> set[int]:
    """The roots that still run, with all their children, grandchildren, and so on."""
    children: dict[int, list[int]] = {}
    alive = set(all_pids())
    for pid in alive:
        parent = parent_of(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    stack = [pid for pid in roots if pid in alive]
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found.add(pid)
        stack.extend(children.get(pid, []))
    return found


def pids_from_pidfiles(run_dir: Path) -> set[int]:
    """The pids written in ``run_dir/*.pid`` (unreadable or stale files are skipped)."""
    pids: set[int] = set()
    for pidfile in sorted(run_dir.glob("*.pid")):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().split()[0])
            if (PROC / str(pid)).exists():
                pids.add(pid)
    return pids


def kumo_processes(state_dir: Path) -> set[int]:
    """Every process of the Kumo cloud whose state lives in ``state_dir``.

    Three ways in, joined, so that one missing clue does not hide a process: the pid
    files in ``state_dir/run``, any process whose command line names the state
    directory, and any process started with ``KUMO_STATE_DIR=<state_dir>``; then
    every descendant of those. This process itself is left out.
    """
    state = str(state_dir.resolve())
    roots = pids_from_pidfiles(state_dir / "run")
    me = os.getpid()
    for pid in all_pids():
        if pid == me:
            continue
        line = cmdline(pid)
        if not line:
            continue
        spellings = {state, str(state_dir)}
        if any(s in line or environ_has(pid, f"KUMO_STATE_DIR={s}") for s in spellings):
            roots.add(pid)
    return descendants(roots) - {me}


def _status_kib(pid: int, key: str) -> int | None:
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def _pss_kib(pid: int) -> int | None:
    try:
        text = (PROC / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def memory_of(pids: Iterable[int]) -> list[ProcessMemory]:
    """RSS and PSS of each pid still running, largest first."""
    found = []
    for pid in pids:
        rss = _status_kib(pid, "VmRSS")
        if rss is None:  # gone, or a zombie
            continue
        found.append(ProcessMemory(pid, cmdline(pid)[:160], rss, _pss_kib(pid)))
    return sorted(found, key=lambda p: p.rss_kib, reverse=True)


def total_mib(processes: Iterable[ProcessMemory]) -> tuple[float, float | None]:
    """Summed RSS and PSS in MiB (PSS is None if any process hid it)."""
    procs = list(processes)
    rss = sum(p.rss_kib for p in procs) / 1024
    pss_values = [p.pss_kib for p in procs]
    if any(v is None for v in pss_values):
        return rss, None
    return rss, sum(v for v in pss_values if v is not None) / 1024
