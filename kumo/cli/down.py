"""`kumo down [--purge] [--all]`: stop everything Kumo started; optionally delete its state.

The network data plane this cloud made goes too; other clouds' on the same
host stay, unless ``--all`` asks for every Kumo object on the host.
"""

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


def down(settings: Settings, purge: bool, *, everything: bool = False) -> None:
    """Stop the supervisor and every role; with ``purge`` remove the state directory.

    ``everything`` (``--all``) removes every Kumo network object on the host,
    not only those this cloud recorded.
    """
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
    _remove_network_objects(
        settings, keep_guest_taps=bool(guests) and not purge, everything=everything
    )
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


def _remove_network_objects(settings: Settings, *, keep_guest_taps: bool, everything: bool) -> None:
    """Delete the namespaces, bridges, devices and nftables tables the network agent made.

    Only this cloud's (its state dir's ownership record), unless ``everything``.
    """
    if os.geteuid() != 0:
        return  # only root can have made them
    if not everything and not (settings.state_dir / "network").exists():
        return  # this cloud never ran the network agent (it keeps its files there)
    from kumo.agents.network.cleanup import remove_everything, remove_owned
    from kumo.agents.network.linux import names

    remove = remove_everything if everything else remove_owned
    try:
        report = remove(settings.state_dir, keep_guest_taps=keep_guest_taps)
    except Exception as exc:  # never let a half-made data plane block `kumo down`
        console.print(f"[yellow]Could not remove the network data plane: {exc}[/yellow]")
        return
    if report:
        console.print(
            f"Removed the network data plane: {len(report.namespaces)} namespace(s), "
            f"{len(report.devices)} device(s), {len(report.tables)} nftables table(s), "
            f"{len(report.processes)} dnsmasq process(es)."
        )
    # A cloud whose agent predates ownership records made namespaces it did not record.
    unrecorded = [
        d.name
        for d in (settings.state_dir / "network").glob("dhcp/*")
        if Path("/run/netns", names.dhcp_namespace(d.name)).exists()
    ]
    if unrecorded and not everything:
        console.print(
            f"[yellow]{len(unrecorded)} DHCP namespace(s) of this cloud were not in its "
            "ownership record (an older agent made them) and are still there: "
            "`kumo down --all` removes every Kumo network object on this host.[/yellow]"
        )
