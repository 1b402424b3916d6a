"""Cold start and idle memory: Kumo against devstack's published figures and a real Keystone.

    .venv/bin/python benchmarks/up.py                  # Kumo and the Keystone peer
    .venv/bin/python benchmarks/up.py --only keystone  # the Keystone peer alone
    .venv/bin/python benchmarks/up.py --runs 3         # median of three cold starts

Kumo: ``kumo up`` from a fresh, empty ``KUMO_STATE_DIR``; the clock starts when the
process is launched and stops at the first ``201`` from ``POST /v3/auth/tokens``
(polled as soon as ``kumo up`` returns). After ``--idle-seconds`` of quiet, the resident
memory of the control plane is the summed RSS of every process of that state
directory: the pids in ``<state_dir>/run/*.pid``, every process whose command line
names the state directory or that was started with ``KUMO_STATE_DIR=<state_dir>``, and
all their descendants.

Peers:

- devstack as the OpenStack booklet shows it (quoted in the project's MISSION.md):
  "stack.sh completed in 1159 seconds" and "needs 4-8 GB of RAM" (taken as 4096 MiB,
  the figure kindest to devstack); these are a whole cloud's figures, as Kumo's are.
  They are published figures, not measured here: devstack cannot run on this machine.
- the real OpenStack Keystone alone (``tools/keystone-peer/run.py``): from launch
  through ``keystone-manage db_sync``, ``fernet_setup``, ``credential_setup``,
  ``bootstrap`` and the uWSGI start to the first ``201`` on a token request (polled
  from the moment of launch); memory is the RSS of the uWSGI master and its workers.
  Kumo does far more than identity, so this ratio flatters the peer.

Writes ``reports/bench-up.md``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import peers
import procmem
import reporting
from rich.console import Console
from rich.table import Table

DEVSTACK = "devstack, as the booklet shows it (stack.sh 1159 s; 4-8 GB RAM)"
DEVSTACK_SECONDS = 1159.0
DEVSTACK_MIB = 4096.0
KEYSTONE = "OpenStack Keystone alone (uWSGI 2x1, fernet, SQLite)"

console = Console(stderr=True)


@dataclass
class ColdStart:
    """One cold start: how long to the first token, and memory once idle."""

    first_token_s: float
    returned_s: float | None
    rss_mib: float
    pss_mib: float | None
    processes: list[procmem.ProcessMemory] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class Series:
    """Several cold starts of one cloud, or why there are none."""

    runs: list[ColdStart] = field(default_factory=list)
    failure: str | None = None

    def median(self, pick: Callable[[ColdStart], float | None]) -> float | None:
        """The median of one figure over the runs that have it."""
        values = [v for v in (pick(r) for r in self.runs) if v is not None]
        return statistics.median(values) if values else None


def poll_first_token(
    target: peers.Target, started: float, deadline: float, alive: Callable[[], bool]
) -> float:
    """POST the password authentication until it is 201; seconds since ``started``."""
    body = target.password_auth_body()
    headers = {"Content-Type": "application/json"}
    last = "no answer"
    with httpx.Client(timeout=30.0) as client:
        while time.perf_counter() < deadline:
            try:
                response = client.post(target.tokens_url, content=body, headers=headers)
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 201:
                    return time.perf_counter() - started
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            if not alive():
                raise peers.PeerStartError(f"{target.name} exited before a token ({last})")
            time.sleep(0.02)
    raise peers.PeerStartError(f"{target.name}: no token before the deadline ({last})")


def idle_memory(pids: Callable[[], set[int]], idle_seconds: float) -> list[procmem.ProcessMemory]:
    """Wait ``idle_seconds`` with no traffic, then read the memory of ``pids()``."""
    time.sleep(idle_seconds)
    return procmem.memory_of(pids())


def kumo_cold_start(args: argparse.Namespace) -> ColdStart:
    """``kumo up`` from an empty state directory to the first token, then idle RSS."""
    state_dir = Path(tempfile.mkdtemp(prefix="kumo-bench-"))
    log = Path(tempfile.mkstemp(prefix="kumo-bench-up-", suffix=".log")[1])
    port = peers.free_port()
    target = peers.Target("kumo", peers.kumo_url(port), args.kumo_password)
    try:
        started = time.perf_counter()
        proc = peers.start_kumo_process(state_dir, port, args.kumo_password, log, args.kumo_bin)
        try:
            code = proc.wait(timeout=peers.START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise peers.PeerStartError(
                f"`kumo up` did not return in {peers.START_TIMEOUT_S:.0f} s"
            ) from None
        returned = time.perf_counter() - started
        if code != 0:
            output = log.read_text(errors="replace")[-2500:]
            raise peers.PeerStartError(f"`kumo up` exited with code {code}:\n{output}")
        first = poll_first_token(
            target, started, started + peers.START_TIMEOUT_S, alive=lambda: True
        )
        procs = idle_memory(lambda: procmem.kumo_processes(state_dir), args.idle_seconds)
        if not procs:
            raise peers.PeerStartError(
                f"no Kumo process found for {state_dir}: does `kumo up` write "
                "run/*.pid or pass KUMO_STATE_DIR to its processes?"
            )
        rss, pss = procmem.total_mib(procs)
        return ColdStart(first, returned, rss, pss, procs)
    finally:
        peers.stop_kumo(state_dir, port, args.kumo_password, args.kumo_bin)
        log.unlink(missing_ok=True)


def keystone_cold_start(args: argparse.Namespace) -> ColdStart:
    """The Keystone peer from nothing to the first token, then its idle uWSGI RSS."""
    port = peers.free_port()
    started = time.perf_counter()
    peer = peers.KeystonePeer(port)
    try:
        first = poll_first_token(
            peer.target,
            started,
            started + peers.START_TIMEOUT_S,
            alive=lambda: peer.proc.poll() is None,
        )
        ready = peer.wait_ready()
        procs = idle_memory(lambda: procmem.descendants({peer.uwsgi_pid()}), args.idle_seconds)
        rss, pss = procmem.total_mib(procs)
        return ColdStart(first, None, rss, pss, procs, details=dict(ready["timings"]))
    finally:
        peer.stop()


def run_series(name: str, start: Callable[[], ColdStart], runs: int) -> Series:
    """``runs`` cold starts of one cloud; a failure ends the series with its reason."""
    console.rule(name)
    series = Series()
    for i in range(runs):
        try:
            with console.status(f"{name}: cold start {i + 1} of {runs}"):
                run = start()
        except peers.PeerStartError as exc:
            console.print(f"[red]{name}: {exc}[/red]")
            series.failure = str(exc)
            break
        console.print(
            f"  {name} run {i + 1}: first token after [bold]{run.first_token_s:.2f} s[/bold], "
            f"idle RSS {run.rss_mib:.0f} MiB over {len(run.processes)} processes"
        )
        series.runs.append(run)
    return series


HEADERS = ["metric", "kumo", "peer", "peer value", "ratio (kumo/peer)"]


def summary_rows(kumo: Series, keystone: Series) -> list[list[str]]:
    """Kumo's medians against devstack's published figures and the Keystone peer."""
    k_start = kumo.median(lambda r: r.first_token_s)
    k_rss = kumo.median(lambda r: r.rss_mib)
    p_start = keystone.median(lambda r: r.first_token_s)
    p_rss = keystone.median(lambda r: r.rss_mib)
    f, r = reporting.fmt, reporting.ratio
    return [
        ["cold start to first token, s", f(k_start, 2), DEVSTACK, f(DEVSTACK_SECONDS, 0),
         reporting.fmt_ratio(r(k_start, DEVSTACK_SECONDS))],
        ["idle control-plane RSS, MiB", f(k_rss, 0), DEVSTACK, f(DEVSTACK_MIB, 0),
         reporting.fmt_ratio(r(k_rss, DEVSTACK_MIB))],
        ["cold start to first token, s", f(k_start, 2), KEYSTONE, f(p_start, 2),
         reporting.fmt_ratio(r(k_start, p_start))],
        ["idle RSS, MiB", f(k_rss, 0), KEYSTONE, f(p_rss, 0),
         reporting.fmt_ratio(r(k_rss, p_rss))],
    ]  # fmt: skip


def run_rows(name: str, series: Series) -> list[list[str]]:
    """One row per cold start with every figure taken."""
    rows = []
    for i, run in enumerate(series.runs, 1):
        rows.append(
            [
                name,
                str(i),
                f"{run.first_token_s:.2f}",
                reporting.fmt(run.returned_s, 2),
                f"{run.rss_mib:.0f}",
                reporting.fmt(run.pss_mib, 0),
                str(len(run.processes)),
                ", ".join(f"{k} {v}" for k, v in run.details.items()) or "—",
            ]
        )
    return rows


def process_rows(name: str, series: Series) -> list[list[str]]:
    """The processes counted in the last run of one cloud."""
    if not series.runs:
        return []
    return [
        [name, str(p.pid), f"{p.rss_kib / 1024:.0f}", reporting.fmt(
            None if p.pss_kib is None else p.pss_kib / 1024, 0), f"`{p.command[:100]}`"]
        for p in series.runs[-1].processes
    ]  # fmt: skip


def write_markdown(args: argparse.Namespace, kumo: Series, keystone: Series) -> Path:
    """``reports/bench-up.md``: summary, every run, the processes counted, method."""
    notes = [
        f"- **{name} not measured:** {s.failure.splitlines()[0]}"
        for name, s in (("kumo", kumo), ("keystone", keystone))
        if s.failure
    ]
    method = "\n".join(
        [
            "Kumo: `kumo up` with a fresh empty `KUMO_STATE_DIR`, timed from launch to the "
            "first 201 on `POST /v3/auth/tokens` (polled every 20 ms once `kumo up` "
            "returns). Memory: after "
            f"{args.idle_seconds:g} s idle, the summed RSS of the pids in `run/*.pid`, of "
            "processes naming the state directory in their command line or environment, "
            "and of all their descendants. RSS counts pages shared between processes "
            "once per process; PSS shares them out.",
            "",
            "devstack: the figures the OpenStack booklet shows (quoted in MISSION.md), not "
            'measured here: "stack.sh completed in 1159 seconds"; "needs 4-8 GB of RAM", '
            "taken as 4096 MiB, the low end.",
            "",
            "Keystone peer: `tools/keystone-peer/run.py` (its docstring has the exact "
            "configuration), timed from launch — db_sync, fernet_setup, "
            "credential_setup, bootstrap, uWSGI start — to the first 201, polled from "
            "launch; memory is the uWSGI master and its 2 workers once all are loaded and "
            f"after {args.idle_seconds:g} s idle. The `timings` column is run.py's own "
            "account of each step, in seconds.",
            "",
            f"Figures in the summary are medians over {args.runs} run(s).",
            *(["", *notes] if notes else []),
        ]
    )
    return reporting.write_report(
        "bench-up.md",
        "Cold start and idle memory: Kumo vs devstack and OpenStack Keystone",
        [
            ("Summary", reporting.markdown_table(HEADERS, summary_rows(kumo, keystone))),
            (
                "Runs",
                reporting.markdown_table(
                    ["cloud", "run", "first token s", "`kumo up` returned s", "RSS MiB",
                     "PSS MiB", "processes", "timings"],
                    run_rows("kumo", kumo) + run_rows("keystone", keystone),
                ),
            ),
            (
                "Processes counted (last run)",
                reporting.markdown_table(
                    ["cloud", "pid", "RSS MiB", "PSS MiB", "command"],
                    process_rows("kumo", kumo) + process_rows("keystone", keystone),
                ),
            ),
            ("Method", method),
        ],
    )  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--only", choices=["kumo", "keystone"], help="measure one cloud only")
    p.add_argument("--runs", type=int, default=1, help="cold starts per cloud (median shown)")
    p.add_argument(
        "--idle-seconds", type=float, default=5.0, help="quiet time before reading memory"
    )
    p.add_argument("--kumo-password", default=peers.KUMO_PASSWORD)
    p.add_argument("--kumo-bin", type=Path, default=peers.KUMO_BIN)
    p.add_argument("--no-report", action="store_true", help="do not write reports/*.md")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Cold-start each cloud, print the comparison, write the report; 1 on a failure."""
    args = parse_args(argv)
    if warning := reporting.busy_warning():
        console.print(f"[yellow]warning: {warning}[/yellow]")
    skipped = Series(failure="skipped (--only)")
    kumo = (
        run_series("kumo", lambda: kumo_cold_start(args), args.runs)
        if args.only != "keystone"
        else skipped
    )
    keystone = (
        run_series("keystone", lambda: keystone_cold_start(args), args.runs)
        if args.only != "kumo"
        else skipped
    )
    table = Table(title="Cold start and idle memory (lower is better; ratio < 1 favours Kumo)")
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("metric", "peer") else "right")
    for row in summary_rows(kumo, keystone):
        table.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 140).print(table)
    if not args.no_report:
        console.print(f"report written to {write_markdown(args, kumo, keystone)}")
    failed = [s for s in (kumo, keystone) if s.failure and s is not skipped]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
