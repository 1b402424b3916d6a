"""`kumo up`: a working cloud in seconds, resumable, and safe to run again."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console

from kumo.cli import clouds
from kumo.cli.processes import read_pid
from kumo.cli.state import StateDir
from kumo.common.config import Settings

if TYPE_CHECKING:
    from kumo.common.db import Database

console = Console(highlight=False)


def healthy(settings: Settings, timeout: float = 1.0) -> bool:
    """True when the API server answers /healthz."""
    try:
        with urllib.request.urlopen(settings.public_url + "/healthz", timeout=timeout) as r:  # noqa: S310
            return bool(json.load(r).get("status") == "ok")
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _start_supervisor(settings: Settings, state: StateDir) -> int:
    logfile = open(state.logfile("supervisor"), "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kumo.cli.supervisor",
            "--state-dir",
            str(settings.state_dir),
            "--log-level",
            settings.log_level,
            *(arg for role in settings.roles for arg in ("--role", role)),
        ],
        stdin=subprocess.DEVNULL,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        close_fds=True,
        env=_child_env(settings),
    )
    logfile.close()
    return proc.pid


def _child_env(settings: Settings) -> dict[str, str]:
    import os

    return dict(os.environ, KUMO_STATE_DIR=str(settings.state_dir))


def _wait_healthy(settings: Settings, state: StateDir, deadline: float) -> None:
    while time.monotonic() < deadline:
        if healthy(settings, timeout=0.5):
            return
        if read_pid(state.pidfile("supervisor")) is None and time.monotonic() > deadline - 25:
            break
        time.sleep(0.05)
    tail = state.logfile(settings.roles[0]).read_text(errors="replace").splitlines()[-15:]
    console.print("[red]The API did not come up.[/] Last lines of its log:")
    for line in tail:
        console.print("  " + line, markup=False)
    console.print(f"Check the port ({settings.port}) is free, then run `kumo up` again.")
    raise SystemExit(1)


def up(settings: Settings) -> None:
    """Bring the cloud up (or confirm it is up) and print how to reach it."""
    started = time.monotonic()
    state = StateDir(settings)
    state.ensure()
    password = state.admin_password()
    if read_pid(state.pidfile("supervisor")) and healthy(settings):
        write_clouds(settings, state, password)
        summary(settings, state, started, already=True)
        return
    with console.status("Starting Kumo…") as status:
        status.update("Database: applying migrations")
        from kumo.common.db import Database

        db = Database(settings.effective_database_url)
        db.upgrade()
        # Before the services start: virt_driver "auto" runs real guests only when it is built.
        status.update("Guest image: building (idempotent)")
        from kumo.guest.register import ensure_guest_image

        guest, guest_note = ensure_guest_image(settings)
        if guest is None:
            console.print(f"[yellow]{guest_note}[/]: servers will not run real guests")
        status.update("Services: starting the supervisor")
        if read_pid(state.pidfile("supervisor")) is None:
            _start_supervisor(settings, state)
        # The API process imports while identity bootstraps in this one.
        from kumo.identity.api.app import make_identity
        from kumo.identity.service.bootstrap import FULL_CATALOG, Bootstrap

        ident = make_identity(settings, db)
        Bootstrap(
            ident,
            password,
            settings.public_url,
            catalog=FULL_CATALOG,
            service_password=settings.service_password_value(),
        ).run(lambda step: status.update(f"Identity: bootstrap ({step})"))
        if guest is not None:
            from kumo.guest.register import register_guest_image

            status.update("Image: the Kumo guest image (kumo-guest)")
            register_guest_image(settings, db, guest)
        seed_cloud(settings, db, status.update)
        db.dispose()
        status.update("Services: waiting for the API")
        _wait_healthy(settings, state, time.monotonic() + 30)
        status.update("Writing clouds.yaml")
        write_clouds(settings, state, password)
    summary(settings, state, started, already=False)


def seed_cloud(settings: Settings, db: Database, progress: Callable[[str], None]) -> None:
    """devstack's starting content: flavors, a guest image, the public and private networks.

    Every step is idempotent, so `kumo up` on an existing cloud leaves it as it is.
    """
    from kumo.compute.service.flavors import bootstrap_flavors
    from kumo.image.service.bootstrap import register_default_image
    from kumo.network.service.bootstrap import bootstrap_networks

    progress("Compute: flavors")
    bootstrap_flavors(db)
    progress("Image: the guest image")
    register_default_image(settings, db)
    progress("Networking: public and private networks, router1")
    bootstrap_networks(settings, db)


def write_clouds(settings: Settings, state: StateDir, password: str) -> None:
    """Write clouds.yaml into the state dir and merge it into the user's."""
    entries = clouds.cloud_entries(settings, password)
    clouds.write_private_yaml(state.clouds_yaml, {"clouds": entries})
    clouds.merge_into(clouds.user_clouds_yaml(), entries)


def summary(settings: Settings, state: StateDir, started: float, *, already: bool) -> None:
    """devstack's closing lines, Kumo's way."""
    password = state.admin_password()
    console.print("Kumo is already up." if already else "[green]Kumo is up.[/]")
    console.print(f"Identity URL:  {settings.public_url}/identity/v3")
    console.print("Dashboard:     not part of this cloud yet")
    console.print(f"Users:         admin, demo and alt_demo; password: {password}", markup=False)
    console.print(
        f"clouds.yaml:   {state.clouds_yaml} (clouds devstack, devstack-admin, "
        "devstack-alt, kumo, kumo-admin; merged into "
        f"{clouds.user_clouds_yaml()})"
    )
    from kumo.agents.network.capability import read_status

    network = read_status(state.root)
    if network is not None:
        shown = "real data plane" if network.get("run") else "API only"
        console.print(f"Networking:    {shown} ({network.get('reason')})", markup=False)
    console.print("Try:           openstack --os-cloud devstack-admin token issue")
    console.print(f"kumo up completed in {time.monotonic() - started:.1f} seconds")
