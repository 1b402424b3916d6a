"""A live cloud for the fuzzer and the load test: started fresh, with tokens and secrets.

The cloud is started exactly as the tempest runner does it
(``tools/tempest/cloud.py`` ``start_fresh``: `kumo up` in a scratch state directory
on a free loopback port); this module only adds what the harness needs on top:
the API's origin, tokens for admin and demo, the secrets to look for in the logs,
and the RSS of the cloud's processes.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[2]
for extra in (REPO, REPO / "benchmarks"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import procmem  # noqa: E402  (benchmarks/procmem.py)

from tools.tempest.cloud import Cloud, start_fresh  # noqa: E402


@dataclass
class Live:
    """A running cloud started here, and who may call it."""

    cloud: Cloud
    origin: str  # http://127.0.0.1:PORT
    password: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        """The cloud's state directory (logs, secrets, pid files)."""
        assert self.cloud.state_dir is not None
        return self.cloud.state_dir

    def secrets(self) -> dict[str, str]:
        """Every secret that must never appear in a log: passwords and tokens."""
        found = {"admin password": self.password}
        service = self.state_dir / "service-password"
        if service.exists():
            found["service password"] = service.read_text().strip()
        found |= {f"{name} token": token for name, token in self.tokens.items()}
        return found

    def leaked_secrets(self, extra: dict[str, str] | None = None) -> dict[str, list[str]]:
        """Which secrets (by name) appear in which log file of the cloud."""
        wanted = self.secrets() | (extra or {})
        leaks: dict[str, list[str]] = {}
        for log in sorted((self.state_dir / "logs").glob("*.log")):
            text = log.read_text(errors="replace")
            for name, value in wanted.items():
                if value and value in text:
                    leaks.setdefault(log.name, []).append(name)
        return leaks

    def rss_mib(self) -> float:
        """Summed RSS of the cloud's processes, in MiB (from /proc)."""
        procs = procmem.memory_of(procmem.kumo_processes(self.state_dir))
        return float(procmem.total_mib(procs)[0])

    def stop(self) -> None:
        """`kumo down --purge` and remove the scratch directory."""
        self.cloud.stop()


def describe_leaks(leaks: dict[str, list[str]]) -> str:
    """Markdown for a report: which secrets each log file holds, or that none leaked."""
    return "\n".join(f"- `{log}`: {', '.join(names)}" for log, names in leaks.items()) or (
        "None: no password or token used in the run appears in the cloud's log files."
    )


def token(origin: str, user: str, password: str, project: str) -> str:
    """A project-scoped token for ``user`` (password auth, as keystoneauth sends it)."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    resp = httpx.post(f"{origin}/identity/v3/auth/tokens", json=body, timeout=60)
    if resp.status_code != 201:
        raise RuntimeError(f"token for {user} answered {resp.status_code}: {resp.text[:300]}")
    return resp.headers["X-Subject-Token"]


def fresh_tokens(live: Live) -> dict[str, str]:
    """New admin and demo tokens (after a fuzzer revoked the old ones)."""
    return {
        "admin": token(live.origin, "admin", live.password, "admin"),
        "demo": token(live.origin, "demo", live.password, "demo"),
    }


def start() -> Live:
    """A fresh cloud, with admin and demo tokens."""
    password = secrets.token_urlsafe(12)
    cloud = start_fresh(password)
    parts = urlsplit(cloud.access.auth_url)
    live = Live(cloud, f"{parts.scheme}://{parts.netloc}", password)
    try:
        live.tokens |= fresh_tokens(live)
    except BaseException:
        live.stop()
        raise
    return live
