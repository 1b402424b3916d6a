"""Restart this machine's real PostgreSQL or RabbitMQ (``run.py --real-restart``); keep both up.

The default scenarios only cut Kumo's links to the servers through a loopback
proxy: other users of the shared servers (CI, other tests) never notice. With
``--real-restart`` the server itself is restarted, the commands being those the
machine's services were started with (PostgreSQL's cluster restart; RabbitMQ's
``stop_app``/``start_app``, which drops every connection as a restart does).
Whatever happens, :func:`ensure_running` starts a server found down, so the
machine is left with both running.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def _run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def _pg_version() -> str:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if p.is_dir())
    if not versions:
        raise RuntimeError("no PostgreSQL cluster under /etc/postgresql")
    return versions[-1]


def postgres_up() -> bool:
    """``pg_isready -h 127.0.0.1`` answers "accepting connections"."""
    return _run("pg_isready", "-h", "127.0.0.1", timeout=15).returncode == 0


def rabbit_up() -> bool:
    """``rabbitmqctl status`` succeeds and the app listens (``await_startup``)."""
    return _run("rabbitmqctl", "await_startup", "--timeout", "20", timeout=40).returncode == 0


def _wait(probe: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} is not back within {timeout:.0f}s")


def restart_postgres() -> float:
    """Restart the PostgreSQL cluster (fast shutdown: sessions are cut); seconds it took."""
    began = time.monotonic()
    done = _run(
        "pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", "restart", "-m", "fast"
    )
    if done.returncode != 0:
        ensure_running()
        raise RuntimeError(f"pg_ctlcluster restart failed: {done.stdout}{done.stderr}")
    _wait(postgres_up, "PostgreSQL", 60)
    return time.monotonic() - began


def restart_rabbit() -> float:
    """Stop and start the RabbitMQ application (every connection drops); seconds it took."""
    began = time.monotonic()
    stopped = _run("rabbitmqctl", "stop_app")
    started = _run("rabbitmqctl", "start_app")
    if stopped.returncode != 0 or started.returncode != 0:
        ensure_running()
        raise RuntimeError(f"rabbitmqctl stop_app/start_app: {stopped.stderr}{started.stderr}")
    _wait(rabbit_up, "RabbitMQ", 60)
    return time.monotonic() - began


def ensure_running() -> list[str]:
    """Start PostgreSQL or RabbitMQ if found down; what was started."""
    started: list[str] = []
    if not postgres_up():
        _run("pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", "start")
        started.append("postgresql")
    if not rabbit_up():
        if _run("rabbitmqctl", "start_app").returncode != 0:
            _run("rabbitmq-server", "-detached")
        started.append("rabbitmq")
    return started
