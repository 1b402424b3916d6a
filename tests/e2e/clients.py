"""Running the real clients (openstackclient, openstacksdk) against a cloud made by `kumo up`."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
KUMO = REPO / ".venv" / "bin" / "kumo"
CLIENTS = REPO / ".venv-clients" / "bin"
OPENSTACK = CLIENTS / "openstack"
CLIENT_PYTHON = CLIENTS / "python"
ADMIN_PASSWORD = "e2e-admin-secret"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str) -> str:
    """A name no other test (or earlier run) uses."""
    return f"e2e-{prefix}-{uuid.uuid4().hex[:8]}"


def clean_env(home: Path) -> dict[str, str]:
    """The caller's environment without OS_* variables, with a private HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "KUMO_"))}
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.pop("VIRTUAL_ENV", None)
    return env


@dataclass
class Cloud:
    """A running cloud and the environment to run clients against it."""

    state_dir: Path
    port: int
    admin_password: str
    env: dict[str, str]

    @property
    def auth_url(self) -> str:
        """The identity endpoint written into clouds.yaml."""
        return f"http://127.0.0.1:{self.port}/identity"

    def run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command with the clients' environment; never raises on exit status."""
        return subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def openstack_cmd(self, args: tuple[str, ...], cloud: str | None, fmt: bool) -> list[str]:
        """The `openstack` command line for ``args``."""
        argv = [str(OPENSTACK)]
        if cloud:
            argv += ["--os-cloud", cloud]
        argv += list(args)
        if fmt:
            argv += ["-f", "json"]
        return argv

    def openstack(self, *args: str, cloud: str | None = "devstack-admin") -> Any:
        """`openstack … -f json`, parsed; fails the test with stderr when it exits non-zero."""
        argv = self.openstack_cmd(args, cloud, fmt=True)
        done = self.run(argv)
        if done.returncode != 0:
            pytest.fail(_failure(argv, done), pytrace=False)
        try:
            return json.loads(done.stdout) if done.stdout.strip() else None
        except json.JSONDecodeError:
            pytest.fail(f"`{_show(argv)}` printed no JSON:\n{done.stdout}", pytrace=False)

    def openstack_ok(self, *args: str, cloud: str | None = "devstack-admin") -> str:
        """An `openstack` command that prints nothing useful (set, delete, add); its stdout."""
        argv = self.openstack_cmd(args, cloud, fmt=False)
        done = self.run(argv)
        if done.returncode != 0:
            pytest.fail(_failure(argv, done), pytrace=False)
        return done.stdout

    def openstack_fails(self, *args: str, cloud: str | None = "devstack-admin") -> str:
        """An `openstack` command that must fail; its stderr (the user's error message)."""
        argv = self.openstack_cmd(args, cloud, fmt=False)
        done = self.run(argv)
        if done.returncode == 0:
            pytest.fail(f"`{_show(argv)}` succeeded but should have failed:\n{done.stdout}")
        return done.stderr


def _show(argv: list[str]) -> str:
    """The command as a user would type it (the tool's path shortened)."""
    return shlex.join([Path(argv[0]).name, *argv[1:]])


def _failure(argv: list[str], done: subprocess.CompletedProcess[str]) -> str:
    return (
        f"`{_show(argv)}` exited {done.returncode}\n"
        f"--- stderr\n{done.stderr.strip()}\n--- stdout\n{done.stdout.strip()[-2000:]}"
    )
