"""Placement speed: Kumo against the real OpenStack Placement, in the same run.

    tools/placement-peer/setup.sh                       # once: .venv-placement
    .venv/bin/python benchmarks/placement.py            # 1,000 then 10,000 providers
    .venv/bin/python benchmarks/placement.py --sizes 1000 --only kumo

For each cloud and each size N, on a fresh database:

- populate: N root providers, each with VCPU 32 (ratio 4.0), MEMORY_MB 131072 and
  DISK_GB 2000 inventories (two HTTP requests per provider; 8 clients at once for Kumo,
  one for Placement, which answers 500 to concurrent writers on SQLite);
- allocation candidates: ``GET /allocation_candidates?resources=VCPU:2,MEMORY_MB:4096,
  DISK_GB:20&limit=1000`` (what Nova's scheduler asks, with its default limit) and the
  same without ``limit``, p50/p95 latency over a fixed number of requests;
- allocation writes: ``PUT /allocations/{new consumer}`` (1.38 body, consumer_generation
  null) on random providers, writes/s at 1 and 8 concurrent writers (2xx only; 409s
  are counted apart).

The real Placement runs with auth_strategy=noauth2 on SQLite, served by a threaded
wsgiref server from its own venv; Kumo runs as ``kumo up`` starts it (token auth).
The clouds run one after the other. Each measurement is kept in
``reports/bench-placement.json`` (so one cloud or size can be re-measured alone), and
``reports/bench-placement.md`` is written from all kept measurements.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import peers
import reporting

REPO = Path(__file__).resolve().parent.parent
PEER_VENV = REPO / ".venv-placement"
PEER_SETUP = REPO / "tools" / "placement-peer" / "setup.sh"
#: Every measurement kept across runs (one cloud and size may be re-measured alone).
RESULTS = REPO / "reports" / "bench-placement.json"
#: Hand-written notes appended to the report (method caveats, history).
NOTES = REPO / "reports" / "bench-placement-notes.md"
VERSION = {"OpenStack-API-Version": "placement 1.38"}
QUERY = "resources=VCPU:2,MEMORY_MB:4096,DISK_GB:20"
INVENTORY = {
    "VCPU": {"total": 32, "allocation_ratio": 4.0},
    "MEMORY_MB": {"total": 131072},
    "DISK_GB": {"total": 2000},
}
PEER_SERVER = """
import os, sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
os.environ["OS_PLACEMENT_CONFIG_DIR"] = sys.argv[1]
from placement.wsgi import init_application
class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
class Quiet(WSGIRequestHandler):
    def log_message(self, *a):
        pass
make_server("127.0.0.1", int(sys.argv[2]), init_application(), Server, Quiet).serve_forever()
"""


@dataclass
class Cloud:
    """Where a placement API answers and the headers to send it."""

    name: str
    url: str
    headers: dict[str, str]


@dataclass
class SizeResult:
    """What one cloud did at one size."""

    populate_s: float = 0.0
    candidates_ms: dict[str, list[float]] = field(default_factory=dict)
    candidates_count: dict[str, int] = field(default_factory=dict)
    writes: dict[int, tuple[float, Counter[int]]] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def populate(cloud: Cloud, n: int, concurrency: int = 8) -> list[str]:
    """Create ``n`` providers with inventories; returns their uuids."""
    uuids = [str(uuid.uuid4()) for _ in range(n)]
    queue = list(uuids)

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            rp = queue.pop()
            r = await client.post("/resource_providers", json={"name": f"bench-{rp}", "uuid": rp})
            r.raise_for_status()
            r = await client.put(
                f"/resource_providers/{rp}/inventories",
                json={"resource_provider_generation": 0, "inventories": INVENTORY},
            )
            r.raise_for_status()

    async with httpx.AsyncClient(
        base_url=cloud.url, headers={**cloud.headers, **VERSION}, timeout=120
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return uuids


async def candidates(cloud: Cloud, query: str, count: int) -> tuple[list[float], int]:
    """Latencies (ms) of ``count`` sequential candidate requests, and the answer size."""
    out: list[float] = []
    found = 0
    async with httpx.AsyncClient(
        base_url=cloud.url, headers={**cloud.headers, **VERSION}, timeout=300
    ) as client:
        for _ in range(count):
            started = time.perf_counter()
            r = await client.get("/allocation_candidates?" + query)
            out.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
            found = len(r.json()["allocation_requests"])
    return out, found


async def writes(
    cloud: Cloud, rps: list[str], concurrency: int, total: int
) -> tuple[float, Counter[int]]:
    """Allocation writes/s with ``concurrency`` writers doing ``total`` writes in all."""
    statuses: Counter[int] = Counter()
    remaining = [total]
    rng = random.Random(concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            rp = rng.choice(rps)
            r = await client.put(
                f"/allocations/{uuid.uuid4()}",
                json={
                    "allocations": {rp: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}},
                    "project_id": "bench",
                    "user_id": "bench",
                    "consumer_generation": None,
                    "consumer_type": "INSTANCE",
                },
            )
            statuses[r.status_code] += 1

    async with httpx.AsyncClient(
        base_url=cloud.url, headers={**cloud.headers, **VERSION}, timeout=120
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return ok / elapsed, statuses


def measure(cloud: Cloud, n: int, args: argparse.Namespace) -> SizeResult:
    """Populate ``cloud`` with ``n`` providers and measure it."""
    result = SizeResult()
    started = time.monotonic()
    # The real Placement on SQLite answers 500 ("database is locked") to concurrent
    # writers, so it is populated by one client.
    rps = asyncio.run(populate(cloud, n, 8 if cloud.name == "kumo" else 1))
    result.populate_s = time.monotonic() - started
    print(f"  {cloud.name}: {n} providers in {result.populate_s:.0f}s", file=sys.stderr)
    for label, query in (("limit=1000", QUERY + "&limit=1000"), ("no limit", QUERY)):
        asyncio.run(candidates(cloud, query, 1))  # warm-up
        latencies, found = asyncio.run(candidates(cloud, query, args.requests))
        result.candidates_ms[label] = latencies
        result.candidates_count[label] = found
        print(
            f"  {cloud.name}: candidates {label}: p50 {pct(latencies, 50):.0f} ms "
            f"({found} candidates)",
            file=sys.stderr,
        )
    for concurrency in (1, 8):
        result.writes[concurrency] = asyncio.run(writes(cloud, rps, concurrency, args.writes))
        print(
            f"  {cloud.name}: writes x{concurrency}: {result.writes[concurrency][0]:.0f}/s "
            f"{dict(result.writes[concurrency][1])}",
            file=sys.stderr,
        )
    return result


@contextmanager
def kumo_cloud() -> Iterator[Cloud]:
    """A fresh Kumo (``kumo up``) and an admin token for it."""
    with peers.running_kumo() as started:
        target = started.target
        r = httpx.post(
            target.tokens_url,
            content=target.password_auth_body(),
            headers={"Content-Type": "application/json"},
        )
        r.raise_for_status()
        base = target.url.rsplit("/identity", 1)[0] + "/placement"
        yield Cloud("kumo", base, {"X-Auth-Token": r.headers["X-Subject-Token"]})


@contextmanager
def peer_cloud() -> Iterator[Cloud]:
    """The real Placement on a fresh SQLite database (noauth2), served by wsgiref."""
    if not (PEER_VENV / "bin" / "placement-manage").exists():
        raise SystemExit(f"run {PEER_SETUP} first")
    state = Path(tempfile.mkdtemp(prefix="placement-peer-"))
    subprocess.run(
        ["bash", str(PEER_SETUP), str(PEER_VENV)],
        check=True,
        env={**os.environ, "PLACEMENT_PEER_STATE": str(state)},
        stdout=subprocess.DEVNULL,
    )
    port = peers.free_port()
    proc = subprocess.Popen(
        [str(PEER_VENV / "bin" / "python"), "-c", PEER_SERVER, str(state), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield Cloud("placement", url, {"X-Auth-Token": "admin"})
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def summarise(r: SizeResult) -> dict[str, Any]:
    """What the report keeps of one measurement (JSON-friendly)."""
    return {
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": round(os.getloadavg()[0], 1),
        "populate_s": round(r.populate_s),
        "candidates": {
            label: {"p50": pct(ms, 50), "p95": pct(ms, 95), "returned": r.candidates_count[label]}
            for label, ms in r.candidates_ms.items()
        },
        "writes": {
            str(c): {"rate": rate, "statuses": {str(k): v for k, v in st.items()}}
            for c, (rate, st) in r.writes.items()
        },
    }


def load_results() -> dict[str, Any]:
    """Every measurement kept so far (``reports/bench-placement.json``), by cloud/size."""
    if RESULTS.exists():
        data: dict[str, Any] = json.loads(RESULTS.read_text())
        return data
    return {}


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def write_markdown(took: float | None) -> Path:
    """``reports/bench-placement.md`` from every kept measurement."""
    kept = load_results()
    lines = ["# Placement benchmark: Kumo vs OpenStack Placement", ""]
    warning = reporting.busy_warning()
    if warning:
        lines += [f"> **Warning:** {warning}", ""]
    lines += ["| fact | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in reporting.machine_facts()]
    if took is not None:
        lines.append(f"| this run | {took:.0f} s |")
    lines += [
        "",
        "Method: see the docstring of `benchmarks/placement.py`. Peer: openstack-placement "
        "from PyPI, SQLite, noauth2, threaded wsgiref. Kumo: `kumo up` (SQLite, token auth). "
        "Latency ratio is placement/kumo (higher: Kumo faster); rate ratio is kumo/placement.",
        "",
        "| providers | metric | kumo | placement | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    sizes = sorted({int(key.split("/")[1]) for key in kept})
    for n in sizes:
        k = kept.get(f"kumo/{n}")
        p = kept.get(f"placement/{n}")
        for label in ("limit=1000", "no limit"):
            for q in ("p50", "p95"):
                kv = k["candidates"][label][q] if k else None
                pv = p["candidates"][label][q] if p else None
                ratio = f"{pv / kv:.1f}×" if kv and pv else "—"
                lines.append(
                    f"| {n} | candidates ({label}) {q} ms | {_fmt(kv)} | {_fmt(pv)} | {ratio} |"
                )
        for c in ("1", "8"):
            kw = k["writes"][c]["rate"] if k else None
            pw = p["writes"][c]["rate"] if p else None
            ratio = f"{kw / pw:.1f}×" if kw and pw else "—"
            lines.append(f"| {n} | allocation writes/s ×{c} | {_fmt(kw)} | {_fmt(pw)} | {ratio} |")
    lines += ["", "## Per measurement", ""]
    lines += [
        "| cloud/providers | measured at | 1-min load then | populate | write statuses ×1 / ×8 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key in sorted(kept):
        m = kept[key]
        lines.append(
            f"| {key} | {m['measured_at']} | {m['load']} | {m['populate_s']} s | "
            f"{m['writes']['1']['statuses']} / {m['writes']['8']['statuses']} |"
        )
    if NOTES.exists():
        lines += ["", NOTES.read_text().strip()]
    path = reporting.REPORTS / "bench-placement.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, keep its results and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--only", choices=("kumo", "placement"))
    parser.add_argument("--requests", type=int, default=20, help="candidate requests per query")
    parser.add_argument("--writes", type=int, default=400, help="allocation writes per run")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the report from kept results"
    )
    args = parser.parse_args(argv)
    if args.render_only:
        print(write_markdown(None).read_text())
        return 0
    started = time.monotonic()
    for n in args.sizes:
        for name, factory in (("kumo", kumo_cloud), ("placement", peer_cloud)):
            if args.only and args.only != name:
                continue
            with factory() as cloud:
                result = measure(cloud, n, args)
            kept = load_results()
            kept[f"{name}/{n}"] = summarise(result)
            RESULTS.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n")
            write_markdown(time.monotonic() - started)
    path = write_markdown(time.monotonic() - started)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
