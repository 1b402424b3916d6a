"""The supervisor: starts each role as `kumo serve --role …` and restarts it if it dies.

It runs detached from the terminal (started by `kumo up` as
``python -m kumo.cli.supervisor``); SIGTERM stops it and its children (that is
what `kumo down` sends). It imports only the standard library, so it stays
small while it waits.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from kumo.cli.processes import stop, write_pid

log = logging.getLogger("kumo.supervisor")

MAX_BACKOFF = 30.0


@dataclass
class Child:
    """One supervised role process."""

    role: str
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)


def serve_command(role: str) -> list[str]:
    """The command line that runs one role."""
    return [sys.executable, "-m", "kumo.cli.main", "serve", "--role", role]


class Supervisor:
    """Keeps every configured role running."""

    def __init__(self, state_dir: Path, roles: list[str]) -> None:
        self.state_dir = state_dir
        self.children = [Child(role) for role in roles]
        self.stopping = False

    def pidfile(self, name: str) -> Path:
        return self.state_dir / "run" / f"{name}.pid"

    def _start(self, child: Child) -> None:
        logfile = open(self.state_dir / "logs" / f"{child.role}.log", "ab")  # noqa: SIM115
        env = dict(os.environ, KUMO_STATE_DIR=str(self.state_dir))
        # Few malloc arenas: threads then reuse freed memory instead of each
        # keeping its own (argon2's 19 MiB blocks would otherwise pile up).
        env.setdefault("MALLOC_ARENA_MAX", "2")
        child.proc = subprocess.Popen(
            serve_command(child.role),
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            env=env,
            close_fds=True,
        )
        logfile.close()
        child.started_at = time.monotonic()
        log.info("started role %s (pid %s)", child.role, child.proc.pid)

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        """Start every role, then restart any that exits, until SIGTERM."""
        write_pid(self.pidfile("supervisor"))
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        for child in self.children:
            self._start(child)
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                if child.proc is not None and child.proc.poll() is not None:
                    code = child.proc.returncode
                    child.proc = None
                    # A role that ran for a while gets a fresh backoff.
                    if now - child.started_at > 60:
                        child.restarts = 0
                    delay = min(MAX_BACKOFF, 0.5 * 2**child.restarts)
                    child.restarts += 1
                    child.next_start = now + delay
                    log.warning(
                        "role %s exited with %s; restarting in %.1fs", child.role, code, delay
                    )
                if child.proc is None and now >= child.next_start:
                    self._start(child)
            time.sleep(0.2)
        self.shutdown()

    def shutdown(self) -> None:
        """Stop every child, then remove the pid files."""
        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                stop(child.proc.pid)
                child.proc.wait(timeout=5)
            self.pidfile(child.role).unlink(missing_ok=True)
        self.pidfile("supervisor").unlink(missing_ok=True)
        log.info("supervisor stopped")


def main(argv: list[str] | None = None) -> None:
    """``python -m kumo.cli.supervisor --state-dir D --role R [--role R2 …]``."""
    import argparse

    from kumo.common.log import setup_logging

    parser = argparse.ArgumentParser(prog="kumo-supervisor")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--role", action="append", required=True)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    Supervisor(args.state_dir, args.role).run()


if __name__ == "__main__":
    main()
