"""Networking API speed: ports created per second and port-create latency.

    .venv/bin/python benchmarks/network.py                      # start a fresh Kumo
    .venv/bin/python benchmarks/network.py --kumo-url http://127.0.0.1:8780/identity/v3 \\
        --kumo-password secret                                  # a Kumo already running

A fresh cloud is started as ``benchmarks/identity.py`` starts one (``kumo up`` in an
empty state directory, ``kumo down --purge`` at the end). As admin, the benchmark
makes a network with a /16 subnet, then at each concurrency (1 and 8 by default)
creates ports (``POST /networking/v2.0/ports`` with only ``network_id``: IPAM picks
the address, a MAC is generated, the default security group is applied) for a fixed
time after a warm-up. Only 201 answers count.

The peer figure is not measured here: Neutron's published port-create latency
(about 0.55–0.73 s per port in OpenStack's Rally/performance reports, as quoted
in the project brief) is the reference; the target is 10x faster. The
floating-IP-to-guest timing needs the data plane (not built yet) and is left out.

Prints a table and writes ``reports/bench-network.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import peers
import reporting
from rich.console import Console

console = Console(stderr=True)

#: Neutron's published port-create latency range, in seconds (see the docstring).
NEUTRON_PORT_CREATE_S = (0.55, 0.73)
TARGET_FACTOR = 10


@dataclass
class Measurement:
    """One fixed-time run at one concurrency."""

    concurrency: int
    ok: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        """Ports created per second."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    def pct_ms(self, q: float) -> float | None:
        """The q-th latency percentile in milliseconds."""
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else None
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


async def admin_token(client: httpx.AsyncClient, target: peers.Target) -> str:
    """A project-scoped admin token."""
    resp = await client.post(
        target.tokens_url,
        content=target.password_auth_body(),
        headers={"Content-Type": "application/json"},
    )
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


async def make_network(client: httpx.AsyncClient, base: str, headers: dict[str, str]) -> str:
    """A network with a /16 subnet (room for every port the run creates)."""
    resp = await client.post(
        f"{base}/networks", json={"network": {"name": "bench-net"}}, headers=headers
    )
    resp.raise_for_status()
    net_id: str = resp.json()["network"]["id"]
    resp = await client.post(
        f"{base}/subnets",
        json={"subnet": {"network_id": net_id, "ip_version": 4, "cidr": "10.200.0.0/16"}},
        headers=headers,
    )
    resp.raise_for_status()
    return net_id


async def drive(
    client: httpx.AsyncClient,
    base: str,
    headers: dict[str, str],
    net_id: str,
    concurrency: int,
    seconds: float,
    count: bool,
) -> Measurement:
    """Create ports from ``concurrency`` workers until the deadline."""
    m = Measurement(concurrency)
    body = {"port": {"network_id": net_id}}
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                resp = await client.post(f"{base}/ports", json=body, headers=headers)
            except httpx.HTTPError as exc:
                m.errors[type(exc).__name__] += 1
                continue
            if resp.status_code == 201:
                if count:
                    m.ok += 1
                    m.latencies.append(time.perf_counter() - t0)
            else:
                m.errors[str(resp.status_code)] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    m.elapsed = time.perf_counter() - start
    return m


async def measure(target: peers.Target, args: argparse.Namespace) -> list[Measurement]:
    """Every concurrency level against one cloud."""
    root = target.url.rsplit("/identity", 1)[0]
    base = f"{root}/networking/v2.0"
    limits = httpx.Limits(max_connections=max(args.concurrency) + 4)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        headers = {"X-Auth-Token": await admin_token(client, target)}
        project = (
            await client.get(
                f"{target.url}/auth/tokens",
                headers={**headers, "X-Subject-Token": headers["X-Auth-Token"]},
            )
        ).json()["token"]["project"]["id"]
        # Lift the port quota so the run measures the API, not the limit.
        await client.put(f"{base}/quotas/{project}", json={"quota": {"port": -1}}, headers=headers)
        net_id = await make_network(client, base, headers)
        results = []
        for c in args.concurrency:
            await drive(client, base, headers, net_id, c, args.warmup, count=False)
            m = await drive(client, base, headers, net_id, c, args.seconds, count=True)
            console.print(
                f"concurrency {c}: {m.rate:.1f} ports/s, p50 {reporting.fmt(m.pct_ms(50))} ms"
            )
            results.append(m)
        return results


def write_markdown(
    args: argparse.Namespace, results: list[Measurement], startup: str, failure: str | None
) -> None:
    """``reports/bench-network.md``."""
    low, high = NEUTRON_PORT_CREATE_S
    rows = []
    for m in results:
        p50 = m.pct_ms(50)
        speedup = (low * 1000 / p50, high * 1000 / p50) if p50 else None
        rows.append(
            [
                str(m.concurrency),
                str(m.ok),
                reporting.fmt(m.rate),
                reporting.fmt(p50),
                reporting.fmt(m.pct_ms(99)),
                f"{speedup[0]:.0f}x–{speedup[1]:.0f}x" if speedup else "n/a",
                ", ".join(f"{k}: {v}" for k, v in m.errors.items()) or "none",
            ]
        )
    summary = reporting.markdown_table(
        [
            "concurrency",
            "ports created",
            "ports/s",
            "p50 ms",
            "p99 ms",
            f"vs Neutron {low}–{high} s (p50)",
            "errors",
        ],
        rows,
    )
    method = "\n".join(
        [
            f"Each concurrency: {args.warmup:g} s warm-up (not counted), then {args.seconds:g} s "
            "of `POST /networking/v2.0/ports` with only `network_id` (IPAM picks the next free "
            "address of a /16, a unique `fa:16:3e` MAC is generated, the default security group "
            "is applied), as admin, port quota lifted. Load generator: Python httpx + asyncio in "
            "one process on the same machine.",
            "",
            f"Reference: Neutron's published port-create latency of {low}–{high} s per port "
            "(OpenStack Rally/performance reports, as quoted in the project brief), not "
            f"measured in this run; the target is {TARGET_FACTOR}x faster, i.e. a p50 below "
            f"{low * 1000 / TARGET_FACTOR:.0f} ms.",
            "",
            "Not measured: the time from floating-IP association until the guest answers "
            "through it — that needs the Linux data plane, which is a later step.",
            "",
            f"Cloud: {startup}" + (f"\n\n**Not measured:** {failure}" if failure else ""),
        ]
    )
    path = reporting.write_report(
        "bench-network.md",
        "Networking API: port create throughput and latency",
        [("Summary", summary), ("Method", method)],
    )
    console.print(f"wrote {path}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kumo-url", help="identity v3 URL of a running Kumo (else start one)")
    p.add_argument("--kumo-password", default=peers.KUMO_PASSWORD)
    p.add_argument("--kumo-bin", type=peers.Path, default=peers.KUMO_BIN)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the report."""
    args = parse_args(argv)
    if args.kumo_url:
        started: contextlib.AbstractContextManager[peers.Started] = peers.given(
            peers.Target("kumo", args.kumo_url, args.kumo_password)
        )
    else:
        started = peers.running_kumo(password=args.kumo_password, kumo_bin=args.kumo_bin)
    results: list[Measurement] = []
    failure = None
    startup = "given URL"
    try:
        with started as cloud:
            startup = f"`{cloud.target.url}` {cloud.details or ''}"
            results = asyncio.run(measure(cloud.target, args))
    except (peers.PeerStartError, httpx.HTTPError, KeyError) as exc:
        failure = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        console.print(f"[red]kumo: {exc}[/red]")
    write_markdown(args, results, startup, failure)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
