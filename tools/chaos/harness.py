"""A fresh cloud for a crash scenario, and a small HTTP client to drive it.

The cloud is `kumo up` in a temporary state directory (as
``tools/tempest/cloud.py``'s ``start_fresh``, whose helpers it reuses) with
extra ``KUMO_*`` settings: the fake virt driver (or, with ``virt="qemu"``, real
QEMU guests) and, for a crash scenario, the test-only ``KUMO_FAULT_INJECTION``
naming the point where the process kills itself (once; the supervisor then
restarts it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tools.tempest.cloud import KUMO, CloudError, client_env, free_port, kumo_down

#: Server statuses that are still on their way somewhere.
TRANSIENT = frozenset({"BUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "REBUILD", "MIGRATING"})


@dataclass
class ChaosCloud:
    """A cloud started for one scenario (state dir under ``scratch``)."""

    scratch: Path
    state_dir: Path
    env: dict[str, str]
    base: str
    password: str
    virt: str = "fake"

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.state_dir / "kumo.db"

    def database_url(self) -> str:
        """The database every service of this cloud shares."""
        return self.env.get("KUMO_DATABASE_URL") or f"sqlite:///{self.db_path}"

    def fired(self, point: str) -> bool:
        """True once the fault point ``point`` has killed the process."""
        return (self.state_dir / "faults" / f"{point}.fired").exists()

    def supervisor_pid(self) -> int | None:
        """The supervisor's pid (its process group holds every role)."""
        try:
            return int((self.state_dir / "run" / "supervisor.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def role_pid(self, role: str = "all") -> int | None:
        """The pid of the process serving ``role`` (it writes ``run/<role>.pid``)."""
        try:
            return int((self.state_dir / "run" / f"{role}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill_role(self, role: str = "all") -> int:
        """SIGKILL the role's process (the supervisor restarts it); the pid killed."""
        pid = self.role_pid(role)
        if pid is None:
            raise CloudError(f"no pid file of role {role}")
        os.kill(pid, signal.SIGKILL)
        return pid

    def power_loss(self) -> None:
        """SIGKILL the whole process group: the supervisor and every role at once."""
        pid = self.supervisor_pid()
        if pid is None:
            raise CloudError("no supervisor pid file")
        os.killpg(os.getpgid(pid), signal.SIGKILL)

    def up_again(self) -> None:
        """`kumo up` on the same state directory (after a power loss)."""
        done = subprocess.run(
            [str(KUMO), "up"], env=self.env, capture_output=True, text=True, timeout=180
        )
        if done.returncode != 0:
            raise CloudError(f"`kumo up` again failed:\n{done.stdout}{done.stderr}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the role's log."""
        path = self.state_dir / "logs" / "all.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """`kumo down --purge` and remove every trace (guests included)."""
        kumo_down(self.env)
        if self.virt == "qemu":
            # `kumo down --purge` stops the guests; this is the safety net when it failed.
            from kumo.agents.compute.virt.qemu import process

            for guest in process.running_guests():
                if guest.pidfile.startswith(str(self.state_dir.resolve()) + "/"):
                    process.kill(guest.pid)
        shutil.rmtree(self.scratch, ignore_errors=True)


def start(
    extra_env: dict[str, str] | None = None, *, timeout: float = 180, virt: str = "fake"
) -> ChaosCloud:
    """`kumo up` in a new temporary state directory with ``extra_env`` settings.

    ``virt="qemu"`` runs real guests: `kumo up` builds the guest image and
    registers ``kumo-guest``; guests get 10 s to obey the ACPI power button.
    """
    if not KUMO.exists():
        raise CloudError(f"{KUMO} is missing: run `make venv` first")
    scratch = Path(tempfile.mkdtemp(prefix="kumo-chaos-"))
    state, home = scratch / "state", scratch / "home"
    home.mkdir()
    port = free_port()
    password = secrets.token_urlsafe(12)
    env = {k: v for k, v in client_env().items() if not k.startswith("KUMO_")}
    env |= {
        "KUMO_STATE_DIR": str(state),
        "KUMO_PORT": str(port),
        "KUMO_ADMIN_PASSWORD": password,
        "KUMO_VIRT_DRIVER": virt,
        "KUMO_COMPUTE_HOST": "chaos",
        # Chaos clouds run beside other test clouds: no Linux data plane (default "auto").
        "KUMO_NETWORK_AGENT": "false",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    if virt == "qemu":
        env["KUMO_QEMU_SHUTDOWN_TIMEOUT"] = "10"
    env |= extra_env or {}
    cloud = ChaosCloud(scratch, state, env, f"http://127.0.0.1:{port}", password, virt)
    try:
        done = subprocess.run(
            [str(KUMO), "up"], env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise CloudError(f"`kumo up` failed:\n{done.stdout}{done.stderr}\n{cloud.log_tail()}")
    except BaseException:
        cloud.stop()
        raise
    return cloud


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Call ``probe`` until it returns something truthy; TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise TimeoutError(f"{what} within {timeout:.0f}s (last: {last!r})")


class Api:
    """Admin calls to one cloud over HTTP (re-authenticates after a restart)."""

    def __init__(self, cloud: ChaosCloud) -> None:
        self.cloud = cloud
        self.http = httpx.Client(base_url=cloud.base, timeout=60.0)
        self.token = ""

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def healthy(self) -> bool:
        """True when the API answers /healthz."""
        try:
            return self.http.get("/healthz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 90) -> None:
        """Wait for the API (e.g. after the supervisor restarted it)."""
        wait_for("the API to answer", self.healthy, timeout)

    def login(self) -> None:
        """A project-scoped admin token."""
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "admin",
                            "domain": {"id": "default"},
                            "password": self.cloud.password,
                        }
                    },
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        r = self.http.post("/identity/v3/auth/tokens", json=body)
        r.raise_for_status()
        self.token = r.headers["X-Subject-Token"]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call with the admin token (logs in first when needed)."""
        if not self.token:
            self.login()
        headers = dict(kwargs.pop("headers", None) or {})
        headers["X-Auth-Token"] = self.token
        headers.setdefault("OpenStack-API-Version", "compute 2.79")
        return self.http.request(method, path, headers=headers, **kwargs)

    # ----- compute ---------------------------------------------------------------------

    def network_id(self, name: str = "private") -> str:
        """The id of the network ``name``."""
        r = self.request("GET", "/networking/v2.0/networks", params={"name": name})
        r.raise_for_status()
        return str(r.json()["networks"][0]["id"])

    def image_id(self, name: str | None = None) -> str:
        """An active image (the one called ``name`` when given)."""
        params = {"status": "active"} | ({"name": name} if name else {})
        r = self.request("GET", "/image/v2/images", params=params)
        r.raise_for_status()
        return str(r.json()["images"][0]["id"])

    def create_server(
        self, name: str, flavor: str = "42", image: str | None = None
    ) -> httpx.Response:
        """POST /servers (image ``image`` by name, else any); the response, even a 5xx."""
        if image is None and self.cloud.virt == "qemu":
            image = "kumo-guest"  # the image a real guest boots
        body = {
            "server": {
                "name": name,
                "flavorRef": flavor,
                "imageRef": self.image_id(image),
                "networks": [{"uuid": self.network_id()}],
            }
        }
        return self.request("POST", "/compute/v2.1/servers", json=body)

    def find_server(self, name: str) -> dict[str, Any] | None:
        """The server named ``name`` (any project), or None."""
        r = self.request(
            "GET", "/compute/v2.1/servers/detail", params={"name": f"^{name}$", "all_tenants": "1"}
        )
        r.raise_for_status()
        found = r.json()["servers"]
        return found[0] if found else None

    def port_ids(self, server_id: str) -> list[str]:
        """The ids of the ports bound to ``server_id``."""
        r = self.request("GET", "/networking/v2.0/ports", params={"device_id": server_id})
        r.raise_for_status()
        return [str(p["id"]) for p in r.json()["ports"]]

    def server(self, server_id: str) -> dict[str, Any] | None:
        """GET /servers/{id}; None once it is gone (404)."""
        r = self.request("GET", f"/compute/v2.1/servers/{server_id}")
        if r.status_code == 404:
            return None
        r.raise_for_status()
        server: dict[str, Any] = r.json()["server"]
        return server

    def settled(self, server_id: str, timeout: float = 90) -> dict[str, Any] | None:
        """Wait until the server has no task and a final status; None when it is gone."""

        def probe() -> Any:
            server = self.server(server_id)
            if server is None:
                return {"gone": True}
            if server["status"] in TRANSIENT or server.get("OS-EXT-STS:task_state"):
                return None
            return server

        result: dict[str, Any] = wait_for(f"server {server_id} to settle", probe, timeout)
        return None if result.get("gone") else result

    def action(self, server_id: str, body: dict[str, Any]) -> httpx.Response:
        """POST /servers/{id}/action."""
        return self.request("POST", f"/compute/v2.1/servers/{server_id}/action", json=body)

    def delete_server(self, server_id: str) -> httpx.Response:
        """DELETE /servers/{id}."""
        return self.request("DELETE", f"/compute/v2.1/servers/{server_id}")
