"""`kumo status`: each service, its process and its health."""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from kumo.cli.processes import read_pid, rss_kib
from kumo.cli.serve import ROLES
from kumo.cli.state import StateDir
from kumo.cli.up import healthy
from kumo.common.config import Settings

console = Console(highlight=False)

#: service -> (path prefix, role that serves it)
SERVICES = {"identity": ("/identity/v3", "api")}


def _probe(settings: Settings, path: str) -> str:
    import urllib.request

    started = time.monotonic()
    try:
        with urllib.request.urlopen(settings.public_url + path, timeout=2) as resp:  # noqa: S310
            code = resp.status
    except OSError as exc:
        code = getattr(exc, "code", None) or 0
        if not code:
            return "[red]unreachable[/]"
    ms = (time.monotonic() - started) * 1000
    return f"[green]ok[/] ({code}, {ms:.0f} ms)" if code < 500 else f"[red]{code}[/]"


def status(settings: Settings) -> int:
    """Print the status table; return 0 when everything is healthy."""
    state = StateDir(settings)
    table = Table(title=f"Kumo at {settings.public_url} (state {state.root})")
    for col in ("process", "pid", "memory", "state"):
        table.add_column(col)
    sup = read_pid(state.pidfile("supervisor"))
    table.add_row(
        "supervisor",
        str(sup or "-"),
        f"{rss_kib(sup) // 1024} MB" if sup else "-",
        "[green]running[/]" if sup else "[red]stopped[/]",
    )
    for role in ROLES:
        pid = read_pid(state.pidfile(role))
        if pid or role in settings.roles:
            table.add_row(
                f"role {role}",
                str(pid or "-"),
                f"{rss_kib(pid) // 1024} MB" if pid else "-",
                "[green]running[/]" if pid else "[red]stopped[/]",
            )
    up = healthy(settings)
    for name, (path, _role) in SERVICES.items():
        table.add_row(f"service {name}", "", "", _probe(settings, path) if up else "[red]down[/]")
    for host, info in _compute_hosts(state).items():
        kind = f"{info.get('hypervisor_type')} ({info.get('accelerator') or 'no guests'})"
        table.add_row(f"compute {host}", "", "", kind)
    table.add_row("network agent", "", "", _network_agent(state))
    console.print(table)
    return 0 if sup and up else 1


def _network_agent(state: StateDir) -> str:
    """Whether the API process runs the data plane, and why not when it does not."""
    from kumo.agents.network.capability import read_status

    record = read_status(state.root)
    if record is None:
        return "[yellow]unknown (role all has not started)[/]"
    if record.get("run"):
        return f"[green]running ({record.get('reason', '')})[/]"
    return f"[yellow]{record.get('reason', '')}[/]"


def _compute_hosts(state: StateDir) -> dict[str, dict[str, str]]:
    """What the compute agent wrote at start: each host's driver and accelerator."""
    import json

    try:
        hosts = json.loads((state.root / "compute-hosts.json").read_text())
    except (OSError, ValueError):
        return {}
    return hosts if isinstance(hosts, dict) else {}
