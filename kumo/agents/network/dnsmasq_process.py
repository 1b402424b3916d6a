"""Pid-file handling for the daemons the network agent starts (dnsmasq for DHCP and RA).

One place for "which process is ours" and "stop it", shared by :mod:`dhcp`,
:mod:`router_advert` and :mod:`cleanup`, so they agree on what counts as ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

#: How long a daemon gets to exit on SIGTERM before it is sent SIGKILL.
STOP_GRACE_SECONDS = 5.0


def running_pid(pidfile: Path) -> int | None:
    """The pid in ``pidfile`` if that process is running and names this pid file, else None.

    The daemon is started with ``--pid-file=<pidfile>``, so a process whose command
    line does not name the file is someone else's (pids get reused).
    """
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if str(pidfile).encode() in cmdline else None


def terminate(pid: int, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM ``pid``, wait up to ``grace`` seconds for it to exit, then SIGKILL it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop(pidfile: Path) -> int | None:
    """Stop the daemon ``pidfile`` names, if it is running; the pid stopped, or None."""
    pid = running_pid(pidfile)
    if pid is not None:
        terminate(pid)
    return pid
