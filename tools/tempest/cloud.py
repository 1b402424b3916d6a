"""The cloud tempest runs against: a fresh one started here, or one already running.

A fresh cloud lives in a temporary state directory, on a free port, with HOME and
XDG_CONFIG_HOME pointing into that directory so the developer's own clouds.yaml is
never touched; `kumo down --purge` removes every trace of it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
KUMO = REPO / ".venv" / "bin" / "kumo"
DEFAULT_CLOUD = "devstack-admin"


class CloudError(RuntimeError):
    """The cloud could not be started, found or reached."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without OS_* variables, and with loopback traffic unproxied."""
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith("OS_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@dataclass
class AdminAccess:
    """What tempest needs to know about the cloud, read from a clouds.yaml entry."""

    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain_id: str
    project_domain_id: str
    region: str

    @classmethod
    def from_cloud_entry(cls, entry: dict[str, Any]) -> AdminAccess:
        """Read a clouds.yaml entry such as devstack-admin."""
        auth = entry.get("auth") or {}
        missing = [k for k in ("auth_url", "username", "password", "project_name") if k not in auth]
        if missing:
            raise CloudError(
                f"the cloud entry lacks {', '.join(missing)}: tempest needs a project-scoped "
                "admin with a password (use --os-cloud devstack-admin)"
            )
        return cls(
            auth_url=str(auth["auth_url"]).rstrip("/"),
            username=str(auth["username"]),
            password=str(auth["password"]),
            project_name=str(auth["project_name"]),
            user_domain_id=str(auth.get("user_domain_id", "default")),
            project_domain_id=str(auth.get("project_domain_id", "default")),
            region=str(entry.get("region_name", "RegionOne")),
        )


@dataclass
class Cloud:
    """A cloud reachable through ``access``; ``scratch`` is set when this process started it."""

    access: AdminAccess
    state_dir: Path | None = None
    scratch: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def started_here(self) -> bool:
        """True when `stop` will bring the cloud down."""
        return self.scratch is not None

    def stop(self) -> str:
        """`kumo down --purge` for a cloud started here; returns its output."""
        if self.scratch is None:
            return ""
        output = kumo_down(self.env)
        shutil.rmtree(self.scratch, ignore_errors=True)
        return output


def kumo_down(env: dict[str, str]) -> str:
    """`kumo down --purge` for the state directory named in ``env``."""
    done = subprocess.run(
        [str(KUMO), "down", "--purge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout + done.stderr


#: The virt drivers a fresh cloud can run, and the settings each adds.
VIRT_SETTINGS: dict[str, dict[str, str]] = {
    # tempest checks the API, not guests: the fake virt driver answers at once where
    # QEMU needs minutes per boot on a loaded machine.
    "fake": {"KUMO_VIRT_DRIVER": "fake"},
    # Real guests, for the tests that need one behind the API (a console to connect to).
    # q35 gives every guest a display, as Nova's libvirt guests have: Kumo's default
    # microvm has none, so a VNC console would be refused (400 "no display").
    "qemu": {"KUMO_VIRT_DRIVER": "qemu", "KUMO_QEMU_MACHINE_TYPE": "q35"},
}


def start_fresh(password: str | None = None, virt: str = "fake") -> Cloud:
    """`kumo up` in a new temporary state directory on a free port, on ``virt``'s driver.

    `kumo up` builds the guest image in the state directory (from the host's Debian
    packages, offline) and registers it as ``kumo-guest``: the image ``qemu`` boots.
    """
    if not KUMO.exists():
        raise CloudError(f"{KUMO} is missing: run `make venv` first")
    scratch = Path(tempfile.mkdtemp(prefix="kumo-tempest-cloud-"))
    state, home = scratch / "state", scratch / "home"
    home.mkdir()
    # Nothing of the developer's own Kumo settings (database, config file…) leaks in.
    env = {k: v for k, v in client_env().items() if not k.startswith("KUMO_")}
    env |= {
        "KUMO_STATE_DIR": str(state),
        "KUMO_PORT": str(free_port()),
        "KUMO_ADMIN_PASSWORD": password or secrets.token_urlsafe(12),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        # Keystone's [security_compliance] as tempest expects it (tempest_conf.py).
        "KUMO_LOCKOUT_FAILURE_ATTEMPTS": "2",
        "KUMO_LOCKOUT_DURATION": "5",
        "KUMO_UNIQUE_LAST_PASSWORD_COUNT": "2",
        # Tempest clouds run beside other clouds on this host and test the API: no data plane
        # (QEMU guests still get their NICs' taps, left unplugged).
        "KUMO_NETWORK_AGENT": "false",
        **VIRT_SETTINGS[virt],
    }
    try:
        done = subprocess.run(
            [str(KUMO), "up"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise CloudError(
                f"`kumo up` failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                + _log_tail(state)
            )
        entry = read_clouds(state / "clouds.yaml")[DEFAULT_CLOUD]
    except BaseException:
        kumo_down(env)
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Cloud(AdminAccess.from_cloud_entry(entry), state_dir=state, scratch=scratch, env=env)


def _log_tail(state: Path) -> str:
    logs = sorted((state / "logs").glob("*.log")) if (state / "logs").exists() else []
    return "".join(
        f"\n--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-20:])
        for log in logs
    )


def read_clouds(path: Path) -> dict[str, Any]:
    """The ``clouds`` mapping of a clouds.yaml file."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise CloudError(f"cannot read {path}: {exc}") from exc
    return dict(data.get("clouds") or {})


def clouds_yaml_candidates() -> list[Path]:
    """Where openstackclient looks for clouds.yaml, in its order."""
    found = []
    if os.environ.get("OS_CLIENT_CONFIG_FILE"):
        found.append(Path(os.environ["OS_CLIENT_CONFIG_FILE"]))
    config_home = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    found += [Path("clouds.yaml"), config_home / "openstack" / "clouds.yaml"]
    found.append(Path("/etc/openstack/clouds.yaml"))
    return found


def existing(state_dir: Path | None, cloud_name: str | None) -> Cloud:
    """A running cloud named by its state directory or its clouds.yaml entry."""
    name = cloud_name or DEFAULT_CLOUD
    if state_dir is not None:
        if not (state_dir / "clouds.yaml").exists():
            raise CloudError(
                f"{state_dir} has no clouds.yaml: start the cloud with "
                f"KUMO_STATE_DIR={state_dir} kumo up"
            )
        files = [state_dir / "clouds.yaml"]
    else:
        files = [p for p in clouds_yaml_candidates() if p.exists()][:1]
    for path in files:
        clouds = read_clouds(path)
        if name in clouds:
            access = AdminAccess.from_cloud_entry(clouds[name])
            check_reachable(access.auth_url)
            return Cloud(access=access, state_dir=state_dir)
    where = ", ".join(str(p) for p in files) or "no clouds.yaml found"
    raise CloudError(f"no cloud {name!r} in {where}; start one with `kumo up`")


def check_reachable(auth_url: str) -> None:
    """Fail with a hint when nothing answers version discovery at ``auth_url``."""
    try:
        with urllib.request.urlopen(auth_url, timeout=5) as resp:  # noqa: S310 - loopback
            json.load(resp)
    except urllib.error.HTTPError as exc:
        if exc.code != 300:  # Keystone answers its root with 300 Multiple Choices
            raise CloudError(f"{auth_url} answered {exc.code}; is the cloud healthy?") from exc
    except (OSError, ValueError) as exc:
        raise CloudError(
            f"nothing answers at {auth_url} ({exc}); start the cloud with `kumo up`"
        ) from exc
