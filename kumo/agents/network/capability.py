"""Whether this host can run the network agent, and the decision `kumo up` takes.

``network_agent = "auto"`` (the default) runs the agent in role ``all`` when
the process is root and ``ip``, ``nft`` and ``dnsmasq`` are installed and a
network namespace can really be made (containers often forbid it). The
decision and its reason go to the log and to ``<state_dir>/network-agent.json``,
which ``kumo status`` shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from kumo.common.config import Settings

#: Host tools the data plane runs, with the Debian package that has each.
TOOLS = {"ip": "iproute2", "nft": "nftables", "dnsmasq": "dnsmasq-base"}
STATUS_FILE = "network-agent.json"


@dataclass(frozen=True)
class Decision:
    """Whether the network agent runs in this process, and why (not)."""

    run: bool
    reason: str


def unavailable_reason() -> str | None:
    """Why this host cannot run the data plane, or None when it can."""
    if os.geteuid() != 0:
        return "not running as root (namespaces, bridges and nftables need root)"
    missing = [
        f"{tool} (apt install {pkg})" for tool, pkg in TOOLS.items() if not shutil.which(tool)
    ]
    if missing:
        return "missing " + ", ".join(missing)
    probe = "kumo-probe-" + os.urandom(4).hex()
    try:
        made = subprocess.run(
            ["ip", "netns", "add", probe], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run `ip netns add`: {exc}"
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip() or made.returncode}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True, timeout=20, check=False)
    return None


def decide(settings: Settings, *, role_all: bool) -> Decision:
    """Whether this API process runs the network agent (only role ``all`` ever does)."""
    if not role_all:
        return Decision(False, "role api: the network agent runs with role all")
    if settings.network_agent is False:
        return Decision(False, "disabled (KUMO_NETWORK_AGENT=false)")
    reason = unavailable_reason()
    if reason is None and settings.api_workers > 1:
        # Every worker process would run an agent of its own over the same host.
        reason = f"api_workers is {settings.api_workers}: one network agent per host needs 1"
    if settings.network_agent is True:
        if reason:
            return Decision(True, f"KUMO_NETWORK_AGENT=true, although {reason}")
        return Decision(True, "KUMO_NETWORK_AGENT=true")
    if reason:
        return Decision(False, f"not started: {reason}")
    return Decision(True, "root, ip, nft and dnsmasq available")


def write_status(state_dir: Path, decision: Decision) -> None:
    """Record the decision for ``kumo status``."""
    record = {**asdict(decision), "pid": os.getpid(), "time": time.time()}
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / STATUS_FILE).write_text(json.dumps(record))
    except OSError:
        pass  # a read-only state dir must not stop the API


def read_status(state_dir: Path) -> dict[str, object] | None:
    """What the API process recorded at its start, if anything."""
    try:
        data = json.loads((state_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
