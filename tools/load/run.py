"""`make load`: many concurrent clients doing a realistic mix against a fresh cloud.

    .venv/bin/python tools/load/run.py [--clients 50] [--seconds 60] [--warmup 5]

Starts a fresh cloud on loopback (``tools/fuzz/live.py``, as the tempest runner
does), then ``--clients`` httpx clients (asyncio, one process) send a weighted
mix for ``--seconds``: token issue and validate, project list and, when the
services serve them (read from the route table), server list, image list, port
create+delete and server create+delete (fake driver). Bounded in time and in
count (``--max-requests``). Reports throughput and p50/p95/p99 per call, errors
(the target is zero 5xx) and the RSS of the cloud's processes after warm-up and
at the end, in ``reports/load.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
for _extra in (REPO, REPO / "benchmarks"):  # run as a script: `tools.fuzz`, `reporting`
    if str(_extra) not in sys.path:
        sys.path.insert(0, str(_extra))

import httpx  # noqa: E402
import reporting  # noqa: E402  (benchmarks/reporting.py)

from tools.fuzz import live as lives  # noqa: E402
from tools.fuzz.routes import Service, build_services, find_operation  # noqa: E402

NOVA = {"OpenStack-API-Version": "compute 2.79"}
#: A call: (client, state) → the status of each request it made (a create+delete is two).
Call = Callable[[httpx.AsyncClient], Awaitable[list[int]]]


@dataclass
class Tally:
    """Latencies and statuses of one kind of call."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)

    def percentile_ms(self, q: int) -> float | None:
        """The q-th percentile latency in ms (nearest rank)."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status."""
        return sum(n for status, n in self.statuses.items() if status >= 500)


@dataclass
class Mix:
    """The calls the clients choose from, with weights, and what was left out and why."""

    calls: dict[str, tuple[float, Call]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


async def create_then_delete(
    c: httpx.AsyncClient,
    url: str,
    body: Mapping[str, Any],
    headers: dict[str, str],
    created: int,
    key: str,
) -> list[int]:
    """POST ``body`` to ``url``, then DELETE ``url/<id>``; the statuses of both."""
    made = await c.post(url, json=body, headers=headers)
    if made.status_code != created:
        return [made.status_code]
    gone = await c.delete(f"{url}/{made.json()[key]['id']}", headers=headers)
    return [made.status_code, gone.status_code]


async def build_mix(client: httpx.AsyncClient, live: lives.Live) -> Mix:
    """The weighted calls this cloud can serve, prepared (a network, a flavor and image)."""
    services = build_services()
    origin, admin, demo = live.origin, live.tokens["admin"], live.tokens["demo"]
    mix = Mix()
    auth = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "demo", "domain": {"id": "default"}, "password": live.password}
                },
            },
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
        }
    }
    subjects = itertools.cycle(
        [lives.token(origin, "demo", live.password, "demo") for _ in range(8)]
    )

    async def issue(c: httpx.AsyncClient) -> list[int]:
        return [(await c.post(f"{origin}/identity/v3/auth/tokens", json=auth)).status_code]

    async def validate(c: httpx.AsyncClient) -> list[int]:
        h = {"X-Auth-Token": admin, "X-Subject-Token": next(subjects)}
        return [(await c.get(f"{origin}/identity/v3/auth/tokens", headers=h)).status_code]

    async def projects(c: httpx.AsyncClient) -> list[int]:
        h = {"X-Auth-Token": admin}
        return [(await c.get(f"{origin}/identity/v3/projects", headers=h)).status_code]

    mix.calls |= {"token issue": (1, issue), "token validate": (3, validate)}
    mix.calls["project list"] = (2, projects)
    dh = {"X-Auth-Token": demo}

    if find_operation(services, "/compute", "GET", "/v2.1/servers"):

        async def servers(c: httpx.AsyncClient) -> list[int]:
            r = await c.get(f"{origin}/compute/v2.1/servers", headers=dh | NOVA)
            return [r.status_code]

        mix.calls["server list"] = (2, servers)
    else:
        mix.skipped["server list"] = "GET /compute/v2.1/servers is not served"

    if find_operation(services, "/image", "GET", "/v2/images"):

        async def images(c: httpx.AsyncClient) -> list[int]:
            return [(await c.get(f"{origin}/image/v2/images", headers=dh)).status_code]

        mix.calls["image list"] = (2, images)
    else:
        mix.skipped["image list"] = "GET /image/v2/images is not served"

    await _add_ports(client, services, live, mix)
    await _add_servers(client, services, live, mix)
    return mix


async def _add_ports(
    client: httpx.AsyncClient, services: list[Service], live: lives.Live, mix: Mix
) -> None:
    if not (
        find_operation(services, "/networking", "POST", "/v2.0/ports")
        and find_operation(services, "/networking", "DELETE", "/v2.0/ports/{}")
    ):
        mix.skipped["port create+delete"] = "POST/DELETE /networking/v2.0/ports are not served"
        return
    origin, dh = live.origin, {"X-Auth-Token": live.tokens["demo"]}
    net = await client.post(
        f"{origin}/networking/v2.0/networks", json={"network": {"name": "load"}}, headers=dh
    )
    if net.status_code != 201:
        mix.skipped["port create+delete"] = f"creating a network answered {net.status_code}"
        return
    net_id = net.json()["network"]["id"]

    async def port(c: httpx.AsyncClient) -> list[int]:
        body = {"port": {"network_id": net_id}}
        url = f"{origin}/networking/v2.0/ports"
        return await create_then_delete(c, url, body, dh, 201, "port")

    mix.calls["port create+delete"] = (1, port)


async def _add_servers(
    client: httpx.AsyncClient, services: list[Service], live: lives.Live, mix: Mix
) -> None:
    name = "server create+delete"
    if not (
        find_operation(services, "/compute", "POST", "/v2.1/servers")
        and find_operation(services, "/compute", "DELETE", "/v2.1/servers/{}")
    ):
        mix.skipped[name] = "POST/DELETE /compute/v2.1/servers are not served"
        return
    origin = live.origin
    ah = {"X-Auth-Token": live.tokens["admin"]} | NOVA
    flavors = await client.get(f"{origin}/compute/v2.1/flavors", headers=ah)
    images = await client.get(f"{origin}/image/v2/images", headers=ah)
    flavor_list = flavors.json().get("flavors", []) if flavors.status_code == 200 else []
    image_list = images.json().get("images", []) if images.status_code == 200 else []
    image_list = [i for i in image_list if i.get("status") == "active"]
    if not flavor_list or not image_list:
        mix.skipped[name] = "the fresh cloud has no flavor or no active image to boot"
        return
    smallest = min(flavor_list, key=lambda f: f.get("ram", 0) if isinstance(f, dict) else 0)
    dh = {"X-Auth-Token": live.tokens["demo"]} | NOVA

    async def server(c: httpx.AsyncClient) -> list[int]:
        body = {
            "server": {
                "name": "load",
                "flavorRef": smallest["id"],
                "imageRef": image_list[0]["id"],
                "networks": "none",
            }
        }
        url = f"{origin}/compute/v2.1/servers"
        return await create_then_delete(c, url, body, dh, 202, "server")

    mix.calls[name] = (0.5, server)


async def drive(mix: Mix, clients: int, seconds: float, budget: int, seed: int) -> dict[str, Tally]:
    """``clients`` workers choosing calls by weight until the time or the budget runs out."""
    tallies = {name: Tally() for name in mix.calls}
    names = list(mix.calls)
    weights = [mix.calls[n][0] for n in names]
    rng = random.Random(seed)
    deadline = time.perf_counter() + seconds
    left = [budget]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline and left[0] > 0:
                left[0] -= 1
                name = rng.choices(names, weights)[0]
                tally = tallies[name]
                sent = time.perf_counter()
                try:
                    statuses = await mix.calls[name][1](client)
                except httpx.HTTPError as exc:
                    tally.exceptions[type(exc).__name__] += 1
                    continue
                tally.latencies.append(time.perf_counter() - sent)
                tally.statuses.update(statuses)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return tallies


@dataclass
class Result:
    """One measurement: the mix, what each call got, how long, memory and leaked secrets."""

    mix: Mix
    tallies: dict[str, Tally]
    elapsed: float
    rss: tuple[float, float]  # MiB after warm-up, at the end
    leaks: dict[str, list[str]]


async def measure(live: lives.Live, args: argparse.Namespace) -> Result:
    """Prepare the mix, warm up, measure; RSS after warm-up and at the end."""
    async with httpx.AsyncClient(timeout=60.0) as client:
        mix = await build_mix(client, live)
    if args.warmup > 0:
        await drive(mix, args.clients, args.warmup, args.max_requests, args.seed)
    rss_start = live.rss_mib()
    started = time.perf_counter()
    tallies = await drive(mix, args.clients, args.seconds, args.max_requests, args.seed + 1)
    elapsed = time.perf_counter() - started
    rss_end = live.rss_mib()
    return Result(mix, tallies, elapsed, (rss_start, rss_end), live.leaked_secrets())


def write_report(args: argparse.Namespace, result: Result) -> Path:
    """``reports/load.md``: per-call throughput, latency, errors; memory; method."""
    mix, tallies, elapsed = result.mix, result.tallies, result.elapsed
    rss_start, rss_end = result.rss
    rows = []
    for name, t in tallies.items():
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(t.statuses.items()))
        exceptions = ", ".join(f"{k}: {v}" for k, v in t.exceptions.items()) or "none"
        rows.append(
            [
                name,
                str(len(t.latencies)),
                reporting.fmt(len(t.latencies) / elapsed if elapsed else None),
                reporting.fmt(t.percentile_ms(50)),
                reporting.fmt(t.percentile_ms(95)),
                reporting.fmt(t.percentile_ms(99)),
                str(t.server_errors),
                statuses,
                exceptions,
            ]
        )
    table = reporting.markdown_table(
        ["call", "calls", "calls/s", "p50 ms", "p95 ms", "p99 ms", "5xx", "statuses",
         "exceptions"],
        rows,
    )  # fmt: skip
    total_5xx = sum(t.server_errors for t in tallies.values())
    total = sum(len(t.latencies) for t in tallies.values())
    summary = (
        f"{total} calls in {elapsed:.1f} s ({total / elapsed:,.1f} calls/s) by {args.clients} "
        f"clients; **{total_5xx} answers with a 5xx**."
    )
    skipped = "\n".join(f"- {k}: {v}" for k, v in mix.skipped.items()) or "- none"
    growth = rss_end - rss_start
    memory = reporting.markdown_table(
        ["", "MiB"],
        [
            ["RSS of the cloud's processes after warm-up", f"{rss_start:.1f}"],
            ["RSS at the end", f"{rss_end:.1f}"],
            ["growth", f"{growth:+.1f} ({100 * growth / rss_start:+.1f}%)" if rss_start else "—"],
        ],
    )
    leak_text = lives.describe_leaks(result.leaks)
    method = (
        f"A fresh cloud (`kumo up`, SQLite, loopback). {args.clients} httpx clients "
        f"(asyncio, one process, sharing the machine's cores with the cloud), "
        f"{args.warmup:g} s warm-up (not counted), then {args.seconds:g} s, at most "
        f"{args.max_requests} calls; each client picks a call at random by weight "
        f"({', '.join(f'{n} ×{w:g}' for n, (w, _) in mix.calls.items())}). A call's latency "
        "covers all its requests (create+delete is two). RSS: the sum over the cloud's "
        "processes (`benchmarks/procmem.py`)."
    )
    return reporting.write_report(
        "load.md",
        "Load: concurrent clients on every service",
        [
            ("Summary", summary),
            ("Per call", table),
            ("Not in the mix", skipped),
            ("Control-plane memory", memory),
            ("Secrets in logs", leak_text),
            ("Method", method),
        ],
    )


def main(argv: list[str] | None = None) -> int:
    """Start a cloud, load it, report; non-zero on any 5xx or leaked secret."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    live = lives.start()
    try:
        result = asyncio.run(measure(live, args))
    finally:
        live.stop()
    path = write_report(args, result)
    errors = sum(t.server_errors for t in result.tallies.values())
    print(f"wrote {path}; {errors} answers with a 5xx")
    return 1 if errors or result.leaks else 0


if __name__ == "__main__":
    raise SystemExit(main())
