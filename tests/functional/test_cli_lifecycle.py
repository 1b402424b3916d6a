"""`kumo up` / `status` / `logs` / `down` as a user runs them, on a temporary state dir."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

KUMO = [sys.executable, "-m", "kumo.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cloud:
    def __init__(self, tmp: Path) -> None:
        self.state = tmp / "state"
        self.port = _free_port()
        self.env = dict(
            os.environ,
            KUMO_STATE_DIR=str(self.state),
            KUMO_PORT=str(self.port),
            HOME=str(tmp / "home"),
            XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
            KUMO_ADMIN_PASSWORD="lifecycle-pw",
        )
        self.env.pop("KUMO_CONFIG", None)

    def kumo(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*KUMO, *args], env=self.env, capture_output=True, text=True, timeout=90, check=check
        )

    def pid(self, name: str) -> int:
        return int((self.state / "run" / f"{name}.pid").read_text())

    def token(self) -> int:
        body = json.dumps(
            {
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {
                            "user": {
                                "name": "admin",
                                "domain": {"id": "default"},
                                "password": "lifecycle-pw",
                            }
                        },
                    }
                }
            }
        ).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/identity/v3/auth/tokens",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
            return int(resp.status)


def _wait(predicate, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    c = Cloud(tmp_path)
    try:
        yield c
    finally:
        c.kumo("down", "--purge", check=False)


def test_up_is_idempotent_supervised_and_down_leaves_nothing(cloud: Cloud) -> None:
    first = cloud.kumo("up")
    assert "Identity URL:" in first.stdout and "kumo up completed in" in first.stdout
    assert cloud.token() == 201
    clouds = (cloud.state / "clouds.yaml").read_text()
    assert "devstack-admin" in clouds and "lifecycle-pw" in clouds
    assert (cloud.state / "clouds.yaml").stat().st_mode & 0o077 == 0
    user_clouds = Path(cloud.env["XDG_CONFIG_HOME"]) / "openstack" / "clouds.yaml"
    assert "devstack-alt" in user_clouds.read_text()

    role_pid = cloud.pid("all")
    again = cloud.kumo("up")
    assert "already up" in again.stdout
    assert cloud.pid("all") == role_pid  # an up cloud is left as it is

    status = cloud.kumo("status")
    assert "running" in status.stdout and "service identity" in status.stdout

    # The supervisor brings a killed role back.
    os.kill(role_pid, signal.SIGKILL)
    assert _wait(lambda: cloud.pid("all") != role_pid and cloud.token() == 201)

    logs = cloud.kumo("logs", "identity", "-n", "20")
    assert "POST /identity/v3/auth/tokens 201" in logs.stdout
    assert "lifecycle-pw" not in logs.stdout

    supervisor = cloud.pid("supervisor")
    new_role = cloud.pid("all")
    cloud.kumo("down")
    for pid in (supervisor, new_role):
        assert _wait(lambda pid=pid: not Path(f"/proc/{pid}").exists(), 10)
    assert cloud.kumo("status", check=False).returncode != 0
    cloud.kumo("down", "--purge")
    assert not cloud.state.exists()


def test_config_show_masks_secrets(cloud: Cloud) -> None:
    shown = cloud.kumo("config", "show").stdout
    assert json.loads(shown)["port"] == cloud.port
    assert "lifecycle-pw" not in shown
    assert '"admin_password": "********"' in shown
