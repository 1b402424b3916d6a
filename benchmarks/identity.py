"""Identity throughput: Kumo against the real OpenStack Keystone, in the same run.

    .venv/bin/python benchmarks/identity.py                 # start both, compare
    .venv/bin/python benchmarks/identity.py --only keystone # the peer alone
    .venv/bin/python benchmarks/identity.py --kumo-url http://127.0.0.1:8780/identity/v3 \\
        --kumo-password secret --only kumo                  # a Kumo already running

For each cloud, at each concurrency (1 and 16 by default), for a fixed time:

- token issue: ``POST /v3/auth/tokens``, password method, scoped to project ``admin``;
- token validate: ``GET /v3/auth/tokens`` with the admin token as ``X-Auth-Token`` and
  one of a pool of tokens issued beforehand as ``X-Subject-Token``;
- project list: ``GET /v3/projects`` with the admin token.

Only 2xx answers count; anything else is counted as an error, by status or exception.
The rate is the 2xx count divided by the time from the start until the last request
finished (clients stop starting requests at the deadline and let those in flight
finish, so no partial request is thrown away). A warm-up period before each
measurement is not counted. The clouds run one after the other, each started fresh
and stopped before the next, so neither steals CPU from the other; the load generator
shares the machine with the server under test, the same way for both.

Prints the table ``metric, kumo/s, keystone/s, ratio (kumo/keystone)`` and writes it,
with the details, to ``reports/bench-identity.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import peers
import reporting
import wrkload
from rich.console import Console
from rich.table import Table

KINDS = ("issue", "validate", "projects")
KIND_TITLES = {"issue": "token issue", "validate": "token validate", "projects": "project list"}
PEER_NAME = "OpenStack Keystone (uWSGI, fernet, SQLite, in-memory cache)"

console = Console(stderr=True)
Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@dataclass
class Measurement:
    """What one fixed-time run against one endpoint produced."""

    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0
    #: Percentiles reported by the load generator itself (wrk), in ms.
    reported_ms: dict[int, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def error_count(self) -> int:
        """Requests that did not get a 2xx answer."""
        return sum(self.errors.values())

    def percentile_ms(self, q: float) -> float | None:
        """The q-th latency percentile (0-100) in milliseconds."""
        if self.reported_ms:
            return self.reported_ms.get(int(q))
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else None
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


@dataclass
class TargetResult:
    """All measurements for one cloud, or why there are none."""

    target: peers.Target | None
    results: dict[tuple[str, int], Measurement] = field(default_factory=dict)
    failure: str | None = None
    startup: dict[str, object] = field(default_factory=dict)


async def drive(request: Request, concurrency: int, seconds: float, count: bool) -> Measurement:
    """Keep ``concurrency`` requests in flight for ``seconds``; tally the answers."""
    m = Measurement()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as client:
        started = time.perf_counter()
        cpu_started = time.process_time()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await request(client)
                except httpx.HTTPError as exc:
                    m.errors[type(exc).__name__] += 1
                    continue
                if 200 <= response.status_code < 300:
                    m.ok += 1
                    m.latencies.append(time.perf_counter() - sent)
                else:
                    m.errors[f"HTTP {response.status_code}"] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        m.elapsed = time.perf_counter() - started
        m.client_cpu = time.process_time() - cpu_started
    if not count:
        return Measurement()
    return m


async def issue_token(client: httpx.AsyncClient, target: peers.Target) -> str:
    """Issue one project-scoped token; fail with the answer if it is not 201."""
    response = await client.post(
        target.tokens_url,
        content=target.password_auth_body(),
        headers={"Content-Type": "application/json"},
    )
    if response.status_code != 201:
        raise RuntimeError(
            f"{target.name}: POST {target.tokens_url} answered {response.status_code}: "
            f"{response.text[:300]} (check the URL and the admin password)"
        )
    return response.headers["X-Subject-Token"]


def make_request(kind: str, target: peers.Target, admin: str, subjects: list[str]) -> Request:
    """The request a worker sends over and over for one metric."""
    if kind == "issue":
        body = target.password_auth_body()
        headers = {"Content-Type": "application/json"}

        def issue(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.post(target.tokens_url, content=body, headers=headers)

        return issue
    if kind == "validate":
        pool = itertools.cycle(subjects)

        def validate(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            headers = {"X-Auth-Token": admin, "X-Subject-Token": next(pool)}
            return client.get(target.tokens_url, headers=headers)

        return validate
    if kind == "projects":

        def projects(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.get(target.projects_url, headers={"X-Auth-Token": admin})

        return projects
    raise ValueError(f"unknown metric {kind!r}")


def _text(body: str | bytes) -> str:
    return body.decode() if isinstance(body, bytes) else body


def drive_wrk(
    kind: str,
    target: peers.Target,
    admin: str,
    subjects: list[str],
    concurrency: int,
    seconds: float,
) -> Measurement:
    """The same requests as ``make_request``, sent by wrk."""
    if kind == "issue":
        spec = dict(
            url=target.tokens_url,
            method="POST",
            body=_text(target.password_auth_body()),
            headers={"Content-Type": "application/json"},
            subjects=[],
        )
    elif kind == "validate":
        spec = dict(
            url=target.tokens_url,
            method="GET",
            body=None,
            headers={"X-Auth-Token": admin},
            subjects=subjects,
        )
    else:
        spec = dict(
            url=target.projects_url,
            method="GET",
            body=None,
            headers={"X-Auth-Token": admin},
            subjects=[],
        )
    r = wrkload.run(
        str(spec["url"]),
        method=str(spec["method"]),
        headers=spec["headers"],  # type: ignore[arg-type]
        body=spec["body"],
        subjects=spec["subjects"],  # type: ignore[arg-type]
        concurrency=concurrency,
        seconds=seconds,
    )
    m = Measurement(
        ok=r.requests - r.non_2xx,
        elapsed=r.elapsed,
        client_cpu=r.client_cpu,
        reported_ms=r.percentiles_ms,
    )
    if r.non_2xx:
        m.errors["HTTP non-2xx"] += r.non_2xx
    if r.socket_errors:
        m.errors["socket"] += r.socket_errors
    return m


async def measure_target(
    target: peers.Target,
    concurrencies: list[int],
    seconds: float,
    warmup: float,
    pool: int,
    client: str = "httpx",
) -> dict[tuple[str, int], Measurement]:
    """Every metric at every concurrency against one identity endpoint."""
    async with httpx.AsyncClient(timeout=60.0) as http:
        admin = await issue_token(http, target)
        subjects = [await issue_token(http, target) for _ in range(pool)]
    results: dict[tuple[str, int], Measurement] = {}
    for kind in KINDS:
        for c in concurrencies:
            request = make_request(kind, target, admin, subjects)
            label = f"{target.name}: {KIND_TITLES[kind]} at concurrency {c}"
            with console.status(f"{label} (warm-up {warmup:g} s, then {seconds:g} s)"):
                if client == "wrk":
                    if warmup > 0:
                        drive_wrk(kind, target, admin, subjects, c, warmup)
                    m = drive_wrk(kind, target, admin, subjects, c, seconds)
                else:
                    if warmup > 0:
                        await drive(request, c, warmup, count=False)
                    m = await drive(request, c, seconds, count=True)
            errors = f", {m.error_count} errors" if m.error_count else ""
            console.print(f"  {label}: [bold]{m.rate:,.1f}/s[/bold]{errors}")
            results[(kind, c)] = m
    return results


def run_target(
    name: str,
    start: contextlib.AbstractContextManager[peers.Started],
    args: argparse.Namespace,
) -> TargetResult:
    """Start (or take) one cloud, measure it, stop it; failures become a result."""
    console.rule(name)
    try:
        with start as started:
            result = TargetResult(started.target, startup=dict(started.details))
            result.results = asyncio.run(
                measure_target(
                    started.target,
                    args.concurrency,
                    args.seconds,
                    args.warmup,
                    args.pool,
                    args.client,
                )
            )
            return result
    except (peers.PeerStartError, RuntimeError, httpx.HTTPError) as exc:
        console.print(f"[red]{name}: {exc}[/red]")
        return TargetResult(None, failure=str(exc))


def starter(
    name: str, args: argparse.Namespace
) -> contextlib.AbstractContextManager[peers.Started]:
    """How to get a cloud to measure: the given URL, or a fresh one started here."""
    url = args.kumo_url if name == "kumo" else args.keystone_url
    password = args.kumo_password if name == "kumo" else args.keystone_password
    if url:
        target = peers.Target(name, url, password, args.username, args.project, args.domain)
        return peers.given(target)
    if name == "kumo":
        return peers.running_kumo(password=password, kumo_bin=args.kumo_bin)
    extra = ["--processes", str(args.keystone_processes), "--threads", str(args.keystone_threads)]
    return peers.running_keystone(extra=extra)


def rate_of(result: TargetResult, key: tuple[str, int]) -> float | None:
    """The measured rate, or None when this cloud was not measured."""
    m = result.results.get(key)
    return m.rate if m is not None else None


def summary_rows(
    kumo: TargetResult, keystone: TargetResult, concurrencies: list[int]
) -> list[list[str]]:
    """One row per metric: name, kumo/s, keystone/s, ratio, errors on each side."""
    rows = []
    for kind in KINDS:
        for c in concurrencies:
            k, p = rate_of(kumo, (kind, c)), rate_of(keystone, (kind, c))
            errs = [
                str(r.results[(kind, c)].error_count) if (kind, c) in r.results else "—"
                for r in (kumo, keystone)
            ]
            rows.append(
                [
                    f"{KIND_TITLES[kind]} c={c}",
                    reporting.fmt(k),
                    reporting.fmt(p),
                    reporting.fmt_ratio(reporting.ratio(k, p)),
                    *errs,
                ]
            )
    return rows


SUMMARY_HEADERS = ["metric", "kumo/s", "keystone/s", "ratio (kumo/keystone)", "kumo errors",
                   "keystone errors"]  # fmt: skip


def detail_rows(name: str, result: TargetResult) -> list[list[str]]:
    """Latency, client CPU and error breakdown of each measurement of one cloud."""
    rows = []
    for (kind, c), m in result.results.items():
        errors = ", ".join(f"{k}: {v}" for k, v in m.errors.most_common()) or "none"
        rows.append(
            [
                name,
                f"{KIND_TITLES[kind]} c={c}",
                str(m.ok),
                f"{m.elapsed:.2f}",
                reporting.fmt(m.percentile_ms(50)),
                reporting.fmt(m.percentile_ms(99)),
                f"{100 * m.client_cpu / m.elapsed:.0f}%" if m.elapsed else "—",
                errors,
            ]
        )
    return rows


def write_markdown(args: argparse.Namespace, kumo: TargetResult, keystone: TargetResult) -> Path:
    """``reports/bench-identity.md``: summary, per-measurement details, method."""
    summary = reporting.markdown_table(
        SUMMARY_HEADERS, summary_rows(kumo, keystone, args.concurrency)
    )
    details = reporting.markdown_table(
        ["cloud", "metric", "2xx", "seconds", "p50 ms", "p99 ms", "client CPU", "errors"],
        detail_rows("kumo", kumo) + detail_rows("keystone", keystone),
    )
    notes = []
    for name, r in (("kumo", kumo), ("keystone", keystone)):
        if r.failure:
            notes.append(f"- **{name} not measured:** {r.failure.splitlines()[0]}")
        elif r.target is not None:
            notes.append(f"- {name}: `{r.target.url}`; start-up: `{r.startup or 'given URL'}`")
    method = "\n".join(
        [
            f"Peer: {PEER_NAME}, configured by `tools/keystone-peer/run.py` (its docstring "
            "holds the exact keystone.conf and uWSGI command line): devstack's uWSGI "
            f"settings, {args.keystone_processes} processes x {args.keystone_threads} "
            "thread, default bcrypt password hashing.",
            "",
            f"Each measurement: {args.warmup:g} s warm-up (not counted), then "
            f"{args.seconds:g} s; only 2xx answers count; rate = 2xx / time until the last "
            "request in flight at the deadline finished. Validation cycles through "
            f"{args.pool} pre-issued tokens. The clouds run one after the other; the "
            + (
                "load generator is wrk (one thread; rate = its 2xx count / its run time; "
                "latency percentiles as wrk reports them)"
                if args.client == "wrk"
                else "load generator is Python (httpx + asyncio, one process)"
            )
            + ", sharing the machine's cores with the server, equally for both — see its "
            "CPU use above.",
            "",
            *notes,
        ]
    )
    return reporting.write_report(
        "bench-identity.md",
        "Identity throughput: Kumo vs OpenStack Keystone",
        [("Summary", summary), ("Details", details), ("Method", method)],
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    p.add_argument("--warmup", type=float, default=1.0, help="uncounted warm-up before each")
    p.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 16],
        help="comma-separated concurrencies (default 1,16)",
    )
    p.add_argument("--only", choices=["kumo", "keystone"], help="measure one cloud only")
    p.add_argument("--kumo-url", help="identity v3 URL of a Kumo already running")
    p.add_argument("--kumo-password", default=peers.KUMO_PASSWORD)
    p.add_argument("--kumo-bin", type=Path, default=peers.KUMO_BIN)
    p.add_argument("--keystone-url", help="identity v3 URL of a Keystone already running")
    p.add_argument("--keystone-password", default=peers.KEYSTONE_PASSWORD)
    p.add_argument("--keystone-processes", type=int, default=2, help="uWSGI processes")
    p.add_argument("--keystone-threads", type=int, default=1, help="uWSGI threads per process")
    p.add_argument("--username", default="admin", help="admin user (given URLs only)")
    p.add_argument("--project", default="admin", help="admin project (given URLs only)")
    p.add_argument("--domain", default="Default", help="domain of user and project")
    p.add_argument("--pool", type=int, default=16, help="tokens to cycle through when validating")
    p.add_argument("--no-report", action="store_true", help="do not write reports/*.md")
    p.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        default="wrk" if wrkload.available() else "httpx",
        help="load generator: wrk (C, from Debian; default when installed) or httpx (Python)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the comparison table, write the report; 1 if a cloud failed."""
    args = parse_args(argv)
    if warning := reporting.busy_warning():
        console.print(f"[yellow]warning: {warning}[/yellow]")
    skipped = TargetResult(None, failure="skipped (--only)")
    kumo = run_target("kumo", starter("kumo", args), args) if args.only != "keystone" else skipped
    keystone = (
        run_target("keystone", starter("keystone", args), args) if args.only != "kumo" else skipped
    )

    table = Table(title=f"Identity throughput, {args.seconds:g} s each (peer: {PEER_NAME})")
    for header in SUMMARY_HEADERS:
        table.add_column(header, justify="left" if header == "metric" else "right")
    for row in summary_rows(kumo, keystone, args.concurrency):
        table.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 140).print(table)
    if not args.no_report:
        path = write_markdown(args, kumo, keystone)
        console.print(f"report written to {path}")
    failed = [r.failure for r in (kumo, keystone) if r.failure and r is not skipped]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
