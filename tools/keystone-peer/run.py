#!/usr/bin/env python3
"""Run the real OpenStack Keystone on 127.0.0.1 as the benchmark peer of Kumo's identity.

Install it first with ``tools/keystone-peer/setup.sh`` (a separate virtualenv,
``.venv-keystone``). This script needs only the standard library, so any Python 3.11+
can run it; it calls the peer's own ``keystone-manage`` and ``uwsgi``.

    python tools/keystone-peer/run.py --port 35357            # serve until Ctrl-C
    python tools/keystone-peer/run.py --check                 # start, issue a token, stop

What it does, from a fresh temporary directory each time:

1. writes ``keystone.conf`` (below) with the SQLite database, the fernet key
   repository and the log inside that directory;
2. ``keystone-manage db_sync``, ``keystone-manage fernet_setup``,
   ``keystone-manage bootstrap`` (user ``admin``, project ``admin``, role ``admin``,
   domain ``Default``, region ``RegionOne``, all three endpoints at
   ``http://127.0.0.1:<port>/v3``);
3. serves ``keystone.wsgi.api:application`` with uWSGI on ``127.0.0.1:<port>`` and
   waits until ``GET /v3`` answers 200;
4. prints one JSON line on stdout (``"event": "ready"``, with the URL, the admin
   credentials, the uWSGI master's pid and the time each step took);
5. on SIGTERM / SIGINT (or right away with ``--check``) stops uWSGI gracefully,
   waits for every worker to exit, and deletes the directory (``--keep`` keeps it).

The configuration is ``KEYSTONE_CONF`` below, exactly (``{dir}`` is the temporary
directory): SQLite, Fernet tokens and receipts, credential keys, and an in-process
``oslo_cache.dict`` cache (one per worker).

Everything else is Keystone's default, notably ``[identity] password_hash_algorithm =
bcrypt`` with 12 rounds, which is what makes issuing a token cost what it costs in a
default deployment. SQLite stands in for devstack's MySQL and the per-process dict for
its memcached: both are the lightest choices Keystone offers, so they favour the peer.

uWSGI runs with devstack's own settings for Keystone (``write_uwsgi_config`` in
devstack's ``lib/apache``, called from ``lib/keystone``), with ``processes`` set the way
devstack sets ``API_WORKERS`` — ``max(2, nproc / 4)``, i.e. 2 on this 2-core machine —
and devstack's single thread per process::

    uwsgi --module keystone.wsgi.api:application --http-socket 127.0.0.1:<port>
          --processes 2 --threads 1 --master --die-on-term
          --enable-threads --thunder-lock --buffer-size 65535
          --add-header "Connection: close" --lazy-apps --worker-reload-mercy 90
          --hook-master-start "unix_signal:15 gracefully_kill_them_all"
          --need-app --logto {dir}/uwsgi.log
    # environment: OS_KEYSTONE_CONFIG_DIR={dir}

The one departure: devstack puts Apache in front and talks uwsgi protocol over a unix
socket; here uWSGI's own ``--http-socket`` takes HTTP directly, which removes a proxy
hop and so again favours the peer. ``--processes`` and ``--threads`` can be changed on
the command line to try other shapes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VENV = Path(os.environ.get("KEYSTONE_VENV", REPO / ".venv-keystone"))
DEFAULT_PASSWORD = "keystone-peer-admin"  # noqa: S105 - a throwaway local benchmark cloud
DEFAULT_PROCESSES = max(2, (os.cpu_count() or 1) // 4)  # devstack's API_WORKERS formula
READY_TIMEOUT_S = 120.0

KEYSTONE_CONF = """\
[DEFAULT]
log_file = {dir}/keystone.log

[database]
connection = sqlite:///{dir}/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = {dir}/fernet-keys

[fernet_receipts]
key_repository = {dir}/fernet-keys

[credential]
key_repository = {dir}/credential-keys

[cache]
enabled = true
backend = oslo_cache.dict
"""


class PeerError(RuntimeError):
    """The peer could not be installed, configured or started."""


@dataclass
class Peer:
    """A running Keystone: where it answers, how to log in, and what it took to start."""

    workdir: Path
    port: int
    password: str
    uwsgi: subprocess.Popen[bytes]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The identity v3 endpoint."""
        return f"http://127.0.0.1:{self.port}/v3"

    def describe(self) -> dict[str, object]:
        """The JSON-ready description printed once the peer answers."""
        return {
            "event": "ready",
            "url": self.url,
            "username": "admin",
            "password": self.password,
            "project": "admin",
            "domain": "Default",
            "pid": self.uwsgi.pid,
            "workdir": str(self.workdir),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _venv_tool(venv: Path, name: str) -> Path:
    tool = venv / "bin" / name
    if not tool.exists():
        raise PeerError(f"{tool} is missing: run tools/keystone-peer/setup.sh first")
    return tool


def _run_step(argv: list[str], workdir: Path, step: str, timings: dict[str, float]) -> None:
    started = time.monotonic()
    log = workdir / f"{step}.log"
    with log.open("wb") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False)
    timings[step] = time.monotonic() - started
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise PeerError(f"{step} failed with exit code {done.returncode}:\n{tail}")


def uwsgi_argv(venv: Path, port: int, workdir: Path, processes: int, threads: int) -> list[str]:
    """The uWSGI command line: devstack's Keystone settings on a direct HTTP socket."""
    return [
        str(_venv_tool(venv, "uwsgi")),
        "--module", "keystone.wsgi.api:application",
        "--http-socket", f"127.0.0.1:{port}",
        "--processes", str(processes),
        "--threads", str(threads),
        "--master",
        "--die-on-term",
        "--enable-threads",
        "--thunder-lock",
        "--buffer-size", "65535",
        "--add-header", "Connection: close",
        "--lazy-apps",
        "--worker-reload-mercy", "90",
        "--hook-master-start", "unix_signal:15 gracefully_kill_them_all",
        "--need-app",
        "--procname-prefix", "keystone-peer-",
        "--logto", str(workdir / "uwsgi.log"),
    ]  # fmt: skip


def wait_until_answering(url: str, deadline: float, proc: subprocess.Popen[bytes]) -> None:
    """Poll ``GET url`` until it answers 200; fail if ``proc`` exits or time runs out."""
    while True:
        if proc.poll() is not None:
            raise PeerError(f"uwsgi exited with code {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise PeerError(f"{url} did not answer within {READY_TIMEOUT_S:.0f} s")
        time.sleep(0.05)


def wait_for_workers(log: Path, processes: int, deadline: float) -> None:
    """Wait until uWSGI's log says every worker has loaded the application."""
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        if text.count("WSGI app 0 (mountpoint='') ready") >= processes:
            return
        if time.monotonic() > deadline:
            raise PeerError(f"not all {processes} uWSGI workers loaded Keystone; see {log}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop uWSGI: SIGTERM (graceful), then SIGKILL to its whole process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    # The group is the one start() created for this uWSGI alone (start_new_session).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@contextlib.contextmanager
def running_keystone(
    port: int | None = None,
    password: str = DEFAULT_PASSWORD,
    venv: Path = DEFAULT_VENV,
    processes: int = DEFAULT_PROCESSES,
    threads: int = 1,
    keep: bool = False,
) -> Iterator[Peer]:
    """Configure, bootstrap and serve a fresh Keystone; stop it and clean up on exit."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="keystone-peer-"))
    timings: dict[str, float] = {}
    started = time.monotonic()
    proc: subprocess.Popen[bytes] | None = None
    try:
        conf = workdir / "keystone.conf"
        conf.write_text(KEYSTONE_CONF.format(dir=workdir))
        (workdir / "fernet-keys").mkdir()
        (workdir / "credential-keys").mkdir()
        manage = [str(_venv_tool(venv, "keystone-manage")), "--config-file", str(conf)]
        user = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
        _run_step([*manage, "db_sync"], workdir, "db_sync", timings)
        _run_step([*manage, "fernet_setup", *user], workdir, "fernet_setup", timings)
        _run_step([*manage, "credential_setup", *user], workdir, "credential_setup", timings)
        url = f"http://127.0.0.1:{port}/v3"
        bootstrap = [
            *manage, "bootstrap",
            "--bootstrap-password", password,
            "--bootstrap-username", "admin",
            "--bootstrap-project-name", "admin",
            "--bootstrap-role-name", "admin",
            "--bootstrap-service-name", "keystone",
            "--bootstrap-region-id", "RegionOne",
            "--bootstrap-admin-url", url,
            "--bootstrap-public-url", url,
            "--bootstrap-internal-url", url,
        ]  # fmt: skip
        _run_step(bootstrap, workdir, "bootstrap", timings)
        serve_started = time.monotonic()
        env = {**os.environ, "OS_KEYSTONE_CONFIG_DIR": str(workdir)}
        # uWSGI writes to --logto once it has parsed its options; what it says before
        # (a bad option, say) goes to this file.
        uwsgi_out = (workdir / "uwsgi-console.log").open("wb")
        proc = subprocess.Popen(
            uwsgi_argv(venv, port, workdir, processes, threads),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=uwsgi_out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        uwsgi_out.close()
        try:
            wait_until_answering(url, time.monotonic() + READY_TIMEOUT_S, proc)
        except PeerError as exc:
            logs = "".join(
                f"\n--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}"
                for log in (workdir / "uwsgi-console.log", workdir / "uwsgi.log")
                if log.exists()
            )
            raise PeerError(f"{exc}{logs}") from exc
        timings["serve"] = time.monotonic() - serve_started
        # --lazy-apps loads Keystone in each worker after the fork, so the first answer
        # can come while the other workers are still importing: wait for all of them,
        # or a throughput run would start on half the workers (and a SIGTERM in that
        # window leaves uWSGI waiting for a worker that cannot yet stop).
        wait_for_workers(workdir / "uwsgi.log", processes, time.monotonic() + READY_TIMEOUT_S)
        timings["all_workers"] = time.monotonic() - serve_started
        timings["total"] = time.monotonic() - started
        timings["total"] = time.monotonic() - started
        yield Peer(workdir=workdir, port=port, password=password, uwsgi=proc, timings=timings)
    finally:
        if proc is not None:
            stop(proc)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def issue_token(url: str, password: str) -> int:
    """POST a project-scoped password authentication; return the HTTP status."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "admin", "domain": {"name": "Default"}, "password": password}
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
        }
    }
    req = urllib.request.Request(  # noqa: S310 - loopback
        f"{url}/auth/tokens",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
        return int(resp.status)


def main(argv: list[str] | None = None) -> int:
    """Command line: serve the peer until interrupted, or ``--check`` it once."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="admin password")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="peer virtualenv")
    parser.add_argument("--processes", type=int, default=DEFAULT_PROCESSES)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--check", action="store_true", help="start, issue one token, print timings, stop"
    )
    args = parser.parse_args(argv)

    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with running_keystone(
            port=args.port or None,
            password=args.password,
            venv=args.venv,
            processes=args.processes,
            threads=args.threads,
            keep=args.keep,
        ) as peer:
            print(json.dumps(peer.describe()), flush=True)
            if args.check:
                status = issue_token(peer.url, peer.password)
                print(json.dumps({"event": "token", "status": status}), flush=True)
                return 0 if status == 201 else 1
            while not stopping:
                time.sleep(0.2)
    except PeerError as exc:
        print(f"keystone peer: {exc}", file=sys.stderr)
        return 1
    finally:
        print(json.dumps({"event": "stopped"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
