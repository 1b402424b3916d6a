"""The two clouds a benchmark compares: Kumo, and the real OpenStack Keystone beside it.

Each is started fresh from an empty directory and stopped at the end, or, given a URL,
taken as already running and left alone.

- Kumo: ``KUMO_STATE_DIR=<dir> KUMO_PORT=<port> KUMO_ADMIN_PASSWORD=<pw> kumo up``
  returns once the cloud is ready; identity answers at
  ``http://127.0.0.1:<port>/identity/v3``; ``kumo down --purge`` stops and deletes it.
- Keystone: ``tools/keystone-peer/run.py`` (install once with
  ``tools/keystone-peer/setup.sh``) prints a JSON line when it answers and stops
  uWSGI cleanly on SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import procmem

REPO = Path(__file__).resolve().parent.parent
KUMO_BIN = REPO / ".venv" / "bin" / "kumo"
KEYSTONE_RUN = REPO / "tools" / "keystone-peer" / "run.py"
KEYSTONE_SETUP = REPO / "tools" / "keystone-peer" / "setup.sh"
KUMO_PASSWORD = os.environ.get("KUMO_ADMIN_PASSWORD", "kumo-bench-admin")
KEYSTONE_PASSWORD = "keystone-peer-admin"
START_TIMEOUT_S = 300.0

# Published boot figures of named peers. They are quoted, never measured here (devstack
# cannot run on this machine); each report says so next to the ratio.
#: devstack with libvirt/KVM and a CirrOS guest: seconds from ``server create`` to
#: ACTIVE, the figure the compute issue (issue 5) quotes as "~12 s".
DEVSTACK_LIBVIRT_BOOT_S = 12.0
#: libvirt booting the same kind of guest on this kind of machine, measured by hand
#: (/work/shared/GUESTS_AND_NETWORKS.md: "boots were slower (~7.5 s)" than direct QEMU).
LIBVIRT_HAND_BOOT_S = 7.5


class PeerStartError(RuntimeError):
    """A cloud under test could not be started; the message says what to do next."""


@dataclass(frozen=True)
class Target:
    """Where an identity v3 API answers and the admin credentials to use on it."""

    name: str
    url: str
    password: str
    username: str = "admin"
    project: str = "admin"
    domain: str = "Default"

    @property
    def tokens_url(self) -> str:
        """``<identity>/auth/tokens``."""
        return f"{self.url.rstrip('/')}/auth/tokens"

    @property
    def projects_url(self) -> str:
        """``<identity>/projects``."""
        return f"{self.url.rstrip('/')}/projects"

    def password_auth_body(self) -> bytes:
        """A project-scoped password authentication request, JSON-encoded."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.username,
                            "domain": {"name": self.domain},
                            "password": self.password,
                        }
                    },
                },
                "scope": {"project": {"name": self.project, "domain": {"name": self.domain}}},
            }
        }
        return json.dumps(body).encode()


@dataclass
class Started:
    """A cloud this benchmark started: its target, its processes and start-up facts."""

    target: Target
    root_pids: set[int] = field(default_factory=set)
    state_dir: Path | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def processes(self) -> set[int]:
        """The pids that make up the cloud right now."""
        if self.state_dir is not None:
            return procmem.kumo_processes(self.state_dir)
        return procmem.descendants(self.root_pids)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kumo_url(port: int) -> str:
    """Kumo's identity v3 endpoint on a local port."""
    return f"http://127.0.0.1:{port}/identity/v3"


def kumo_env(
    state_dir: Path, port: int, password: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment ``kumo up`` and ``kumo down`` are run with (plus ``extra``)."""
    return {
        **os.environ,
        "KUMO_STATE_DIR": str(state_dir),
        "KUMO_PORT": str(port),
        "KUMO_ADMIN_PASSWORD": password,
        **(extra or {}),
    }


def _tail(path: Path, chars: int = 2500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def start_kumo_process(
    state_dir: Path,
    port: int,
    password: str,
    log: Path,
    kumo_bin: Path = KUMO_BIN,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Launch ``kumo up``; the caller waits for it (it returns once the cloud is ready).

    Output goes to ``log``, never to a pipe: daemons that ``kumo up`` leaves behind
    inherit its descriptors and would hold a pipe open forever.
    """
    if not kumo_bin.exists():
        raise PeerStartError(f"{kumo_bin} is missing: install Kumo with `pip install -e .`")
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(kumo_bin), "up"],
            env=kumo_env(state_dir, port, password, extra_env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=state_dir,
        )


def stop_kumo(
    state_dir: Path,
    port: int,
    password: str,
    kumo_bin: Path = KUMO_BIN,
    extra_env: dict[str, str] | None = None,
) -> None:
    """``kumo down --purge``; if that fails or leaves processes, end them by pid."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            [str(kumo_bin), "down", "--purge"],
            env=kumo_env(state_dir, port, password, extra_env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
            cwd=tempfile.gettempdir(),
        )
    leftovers = procmem.kumo_processes(state_dir) if state_dir.exists() else set()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while leftovers and time.monotonic() < deadline:
            leftovers = {p for p in leftovers if procmem.parent_of(p) is not None}
            time.sleep(0.1)
        if not leftovers:
            break
    if leftovers:
        print(f"warning: Kumo processes {sorted(leftovers)} did not stop", file=sys.stderr)
    shutil.rmtree(state_dir, ignore_errors=True)


@contextlib.contextmanager
def running_kumo(password: str = KUMO_PASSWORD, kumo_bin: Path = KUMO_BIN) -> Iterator[Started]:
    """A fresh Kumo from an empty state directory; ``kumo down --purge`` on exit."""
    state_dir = Path(tempfile.mkdtemp(prefix="kumo-bench-"))
    log = Path(tempfile.mkstemp(prefix="kumo-bench-up-", suffix=".log")[1])
    port = free_port()
    started = time.monotonic()
    try:
        proc = start_kumo_process(state_dir, port, password, log, kumo_bin)
        try:
            code = proc.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        if code != 0:
            what = "timed out" if code is None else f"exited with code {code}"
            raise PeerStartError(
                f"`kumo up` {what}; its output:\n{_tail(log)}\n"
                "Fix `kumo up`, or benchmark Keystone alone with --only keystone."
            )
        target = Target("kumo", kumo_url(port), password)
        yield Started(
            target,
            state_dir=state_dir,
            details={"kumo up seconds": round(time.monotonic() - started, 3)},
        )
    finally:
        stop_kumo(state_dir, port, password, kumo_bin)
        log.unlink(missing_ok=True)


class KeystonePeer:
    """``tools/keystone-peer/run.py`` as a child process: start, read its ready line, stop."""

    def __init__(
        self, port: int, password: str = KEYSTONE_PASSWORD, extra: list[str] | None = None
    ):
        if not (REPO / ".venv-keystone" / "bin" / "uwsgi").exists() and not os.environ.get(
            "KEYSTONE_VENV"
        ):
            raise PeerStartError(
                f"the Keystone peer is not installed: run {KEYSTONE_SETUP.relative_to(REPO)}"
            )
        self.port = port
        self.password = password
        self.proc = subprocess.Popen(
            [
                sys.executable, str(KEYSTONE_RUN),
                "--port", str(port),
                "--password", password,
                *(extra or []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )  # fmt: skip
        self.ready: dict[str, Any] | None = None

    @property
    def target(self) -> Target:
        """The peer's identity endpoint and admin credentials."""
        return Target("keystone", f"http://127.0.0.1:{self.port}/v3", self.password)

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
        """Block until run.py says ``ready`` (every uWSGI worker loaded); return its line."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while self.ready is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PeerStartError(f"the Keystone peer was not ready in {timeout:.0f} s")
            readable, _, _ = select.select([self.proc.stdout], [], [], min(remaining, 1.0))
            if not readable:
                continue
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait()
                raise PeerStartError(
                    f"the Keystone peer exited with code {self.proc.returncode} before it "
                    "was ready (its error is printed above); try "
                    f"`python {KEYSTONE_RUN.relative_to(REPO)} --check`"
                )
            event = json.loads(line)
            if event.get("event") == "ready":
                self.ready = event
        return self.ready

    def uwsgi_pid(self) -> int:
        """The uWSGI master's pid (waits for readiness)."""
        return int(self.wait_ready()["pid"])

    def stop(self) -> None:
        """SIGTERM run.py, which stops uWSGI gracefully and deletes its directory."""
        uwsgi = self.ready["pid"] if self.ready else None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if uwsgi is not None:
            # run.py started uWSGI in a session of its own; that group is ours to end.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(uwsgi), signal.SIGKILL)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def running_keystone(extra: list[str] | None = None) -> Iterator[Started]:
    """A fresh Keystone peer on a free port, stopped on exit."""
    peer = KeystonePeer(free_port(), extra=extra)
    try:
        ready = peer.wait_ready()
        yield Started(peer.target, root_pids={int(ready["pid"])}, details=ready["timings"])
    finally:
        peer.stop()


@contextlib.contextmanager
def given(target: Target) -> Iterator[Started]:
    """An already running cloud: nothing to start, nothing to stop."""
    yield Started(target)
