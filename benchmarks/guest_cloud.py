"""A `kumo up` cloud that runs real guests on a real data plane, driven by openstacksdk.

``running_guest_cloud()`` starts Kumo as ``make up`` does (``kumo up`` builds the
guest image into the state dir and seeds devstack's networks) in a temporary
directory, with the QEMU driver and the network agent forced on, HOME inside the
temporary directory (the user's clouds.yaml is left alone), and stops it with
``kumo down --purge`` at the end. ``GuestCloud.sdk()`` runs ``guest_sdk.py`` with the
clients venv's Python against it and returns that script's JSON answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import peers

REPO = Path(__file__).resolve().parent.parent
CLIENT_PYTHON = REPO / ".venv-clients" / "bin" / "python"
SDK_SCRIPT = Path(__file__).resolve().parent / "guest_sdk.py"
#: `kumo up` may build the guest image first (a minute on a busy machine).
UP_TIMEOUT_S = 600.0


class GuestCloudError(RuntimeError):
    """The cloud could not be started or a client step failed; the message says why."""


@dataclass
class GuestCloud:
    """A running cloud: its state dir, port and the environment clients run with."""

    state_dir: Path
    port: int
    client_env: dict[str, str]
    up_seconds: float
    up_output: str

    def sdk(self, *args: str, timeout: float) -> dict[str, Any]:
        """``guest_sdk.py <args>`` under the clients venv; its JSON (progress goes to stderr)."""
        try:
            done = subprocess.run(
                [str(CLIENT_PYTHON), str(SDK_SCRIPT), *args],
                env=self.client_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=None,  # progress straight to the terminal
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GuestCloudError(
                f"guest_sdk.py {' '.join(args)}: no answer in {timeout:g} s"
            ) from exc
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            raise GuestCloudError(
                f"guest_sdk.py {' '.join(args)} exited {done.returncode}: {done.stdout[-2000:]}"
            )
        answer: dict[str, Any] = json.loads(lines[-1])
        return answer


def wait_data_plane(seeded: dict[str, str], deadline: float = 120.0) -> float:
    """Wait until the agent built ``private``'s DHCP and ``router1``'s interfaces; seconds.

    The agents report alive before their first sync finishes; a guest booted before
    dnsmasq runs gets no lease, which would measure start-up, not a boot.
    """
    from kumo.agents.network.linux import ip, names

    started = time.monotonic()
    dhcp = names.dhcp_namespace(seeded["private"])
    router = names.router_namespace(seeded["router1"])
    while True:
        # Besides lo, the router has its interface on private-subnet and its gateway.
        if (
            ip.namespace_exists(dhcp)
            and ip.namespace_exists(router)
            and len([link for link in ip.list_links(router) if link.name != "lo"]) >= 2
        ):
            return time.monotonic() - started
        if time.monotonic() - started > deadline:
            raise GuestCloudError(
                f"the data plane of `private`/`router1` not built in {deadline:g} s"
            )
        time.sleep(0.2)


def other_clouds(state_dir: Path) -> list[str]:
    """Other live Kumo clouds' data-plane namespaces on this host (they share ``kbr-ext``)."""
    from kumo.agents.network.ownership import Ownership

    return sorted(Ownership(state_dir).others().namespaces)


def _leftover_guests(state_dir: Path) -> list[int]:
    from kumo.agents.compute.virt.qemu import process

    instances = str(state_dir.resolve())
    return [g.pid for g in process.running_guests() if g.pidfile.startswith(instances)]


@contextlib.contextmanager
def running_guest_cloud(password: str = peers.KUMO_PASSWORD) -> Iterator[GuestCloud]:
    """A fresh `kumo up` with the QEMU driver and the network agent; purged on exit."""
    for tool, fix in ((CLIENT_PYTHON, "make clients"), (peers.KUMO_BIN, "make venv")):
        if not tool.exists():
            raise GuestCloudError(f"{tool} is missing: run `{fix}` first")
    if shutil.which("qemu-system-x86_64") is None:
        raise GuestCloudError("qemu-system-x86_64 is not installed: run `make debs`")
    root = Path(tempfile.mkdtemp(prefix="kumo-bench-guests-"))
    home, state = root / "home", root / "state"
    home.mkdir()
    port = peers.free_port()
    private_home = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    extra = private_home | {"KUMO_VIRT_DRIVER": "qemu", "KUMO_NETWORK_AGENT": "true"}
    client_env = (
        {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "KUMO_", "VIRTUAL_ENV"))}
        | private_home
        | {
            "OS_CLIENT_CONFIG_FILE": str(state / "clouds.yaml"),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    log = root / "kumo-up.log"
    started = time.monotonic()
    try:
        state.mkdir()
        proc = peers.start_kumo_process(state, port, password, log, extra_env=extra)
        try:
            code: int | None = proc.wait(timeout=UP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        output = log.read_text(errors="replace")
        if code != 0:
            what = "timed out" if code is None else f"exited with code {code}"
            raise GuestCloudError(f"`kumo up` {what}:\n{output[-2500:]}")
        if "real data plane" not in output:
            raise GuestCloudError(f"`kumo up` did not start the network agent:\n{output[-2500:]}")
        yield GuestCloud(state, port, client_env, time.monotonic() - started, output)
    finally:
        peers.stop_kumo(state, port, password, extra_env=extra)
        # The pidfile path is on each QEMU's command line, so this finds them even after
        # the state dir was deleted.
        leftovers = _leftover_guests(state)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if leftovers:
            print(f"warning: killed guests {leftovers} `kumo down` left", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
