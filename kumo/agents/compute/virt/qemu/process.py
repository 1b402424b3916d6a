"""QEMU processes seen through ``/proc``: alive, ours, or someone else's Kumo guest.

Guests are daemonized (``-daemonize``: their own session, reparented to init), so
the driver never waits on them as children; it recognises them by pid and
command line instead, which is also how a restarted agent re-adopts them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from kumo.agents.compute.virt.qemu.instance import NAME_PREFIX


def cmdline(pid: int) -> list[str]:
    """The command line of ``pid`` (empty when the process is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not count)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name.
    return status.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def guest_uuid(arguments: list[str]) -> str | None:
    """The instance uuid of a Kumo guest's QEMU command line, else None."""
    if not arguments or "qemu-system" not in Path(arguments[0]).name:
        return None
    for flag, value in itertools.pairwise(arguments):
        if flag == "-name" and value.startswith(f"guest={NAME_PREFIX}"):
            return value.removeprefix(f"guest={NAME_PREFIX}").split(",", 1)[0]
    return None


def is_guest(pid: int, uuid: str, pidfile: Path) -> bool:
    """Whether ``pid`` is the QEMU of guest ``uuid`` started with ``pidfile`` (not a reused pid)."""
    arguments = cmdline(pid)
    return alive(pid) and guest_uuid(arguments) == uuid and str(pidfile) in arguments


@dataclass(frozen=True)
class RunningGuest:
    """A Kumo guest's QEMU process found on the host."""

    pid: int
    uuid: str
    pidfile: str


def running_guests() -> list[RunningGuest]:
    """Every Kumo guest QEMU process on this host (of any state directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        arguments = cmdline(int(entry.name))
        uuid = guest_uuid(arguments)
        if uuid is None or not alive(int(entry.name)):
            continue
        pidfile = ""
        for flag, value in itertools.pairwise(arguments):
            if flag == "-pidfile":
                pidfile = value
        found.append(RunningGuest(int(entry.name), uuid, pidfile))
    return found


def kill(pid: int) -> None:
    """SIGKILL ``pid``; a process already gone is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
