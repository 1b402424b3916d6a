"""`kumo down [--purge]`: stop everything Kumo started; optionally delete its state."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

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
    guests = _guests_of(state.root)
    # Guests left running keep their taps: the next `kumo up` plugs them in again.
    _remove_network_objects(settings, keep_guest_taps=bool(guests) and not purge)
    if guests and not purge:
        console.print(f"{len(guests)} guest(s) left running (`kumo down --purge` stops them).")
    if purge:
        if state.root.exists() and not state.is_kumo_state():
            raise SystemExit(
                f"{state.root} does not look like a Kumo state directory; not deleting it."
            )
        if guests:
            _kill_guests(guests)
            console.print(f"Killed {len(guests)} guest(s).")
        shutil.rmtree(state.root, ignore_errors=True)
        console.print(f"Deleted the state directory {state.root}.")


def _guests_of(root: Path) -> list[int]:
    """Pids of the QEMU guests whose pidfile lies in this state dir's instances."""
    from kumo.agents.compute.virt.qemu import process

    instances = str(root.resolve() / "instances") + "/"
    return [g.pid for g in process.running_guests() if g.pidfile.startswith(instances)]


def _kill_guests(pids: list[int]) -> None:
    from kumo.agents.compute.virt.qemu import process

    for pid in pids:
        process.kill(pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(process.alive(p) for p in pids):
        time.sleep(0.05)


def _remove_network_objects(settings: Settings, *, keep_guest_taps: bool) -> None:
    """Delete every namespace, bridge, device and nftables table the network agent made."""
    if os.geteuid() != 0:
        return  # only root can have made them
    if not (settings.state_dir / "network").exists():
        # This cloud never ran the network agent (it keeps its files there): leave any
        # other cloud's data plane on this host alone.
        return
    from kumo.agents.network.cleanup import remove_everything

    try:
        report = remove_everything(settings.state_dir, keep_guest_taps=keep_guest_taps)
    except Exception as exc:  # never let a half-made data plane block `kumo down`
        console.print(f"[yellow]Could not remove the network data plane: {exc}[/yellow]")
        return
    if report:
        console.print(
            f"Removed the network data plane: {len(report.namespaces)} namespace(s), "
            f"{len(report.devices)} device(s), {len(report.tables)} nftables table(s), "
            f"{len(report.processes)} dnsmasq process(es)."
        )
