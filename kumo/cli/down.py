"""`kumo down [--purge]`: stop everything Kumo started; optionally delete its state."""

from __future__ import annotations

import shutil

from rich.console import Console

from kumo.cli.processes import read_pid, stop
from kumo.cli.serve import ROLES
from kumo.cli.state import StateDir
from kumo.common.config import Settings

console = Console(highlight=False)


def down(settings: Settings, purge: bool) -> None:
    """Stop the supervisor and every role; with ``purge`` remove the state directory."""
    state = StateDir(settings)
    stopped = []
    pid = read_pid(state.pidfile("supervisor"))
    if pid is not None:
        stop(pid, timeout=15)
        stopped.append(f"supervisor ({pid})")
    # Roles left behind by a supervisor that was killed outright.
    for role in ROLES:
        role_pid = read_pid(state.pidfile(role))
        if role_pid is not None:
            stop(role_pid)
            stopped.append(f"{role} ({role_pid})")
        state.pidfile(role).unlink(missing_ok=True)
    state.pidfile("supervisor").unlink(missing_ok=True)
    console.print("Stopped: " + ", ".join(stopped) if stopped else "Kumo was not running.")
    if purge:
        if state.root.exists() and not state.is_kumo_state():
            raise SystemExit(
                f"{state.root} does not look like a Kumo state directory; not deleting it."
            )
        shutil.rmtree(state.root, ignore_errors=True)
        console.print(f"Deleted the state directory {state.root}.")
