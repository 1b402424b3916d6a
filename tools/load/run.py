"""`make load`: many concurrent clients doing a realistic mix against a fresh cloud.

    .venv/bin/python tools/load/run.py [--clients 50] [--seconds 60] [--warmup 5]
        [--nova-default-quota]

Starts a fresh cloud on loopback (``tools/fuzz/live.py``, as the tempest runner
does), then ``--clients`` httpx clients (asyncio, one process) send a weighted
mix for ``--seconds``: token issue and validate, project list and, when the
services serve them (read from the route table), server list, image list, port
create+delete and server create+delete (fake driver). Bounded in time and in
count (``--max-requests``). Reports throughput and p50/p95/p99 per call, errors
(the target is zero 5xx and no request without an answer) with the first body of
each error status and the root cause of each exception, and the RSS of the
cloud's processes after warm-up and at the end, in ``reports/load.md``.

Server create+delete runs in the demo project, whose compute quota is raised to
fit ``--clients`` creating at once; ``--nova-default-quota`` keeps Nova's defaults
(10 instances), and then most creates are refused with 403 "Quota exceeded".
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
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
#: A call: client → the answer to each request it made (a create+delete is two).
Call = Callable[[httpx.AsyncClient], Awaitable[list[httpx.Response]]]
#: Servers the load project may hold per client: each client has at most one server being
#: created, and deleted ones count until the compute agent has finished deleting them.
SERVERS_PER_CLIENT = 10
#: Characters of an answer's body (or an exception's text) kept for the report.
EXCERPT = 240


@dataclass
class Tally:
    """Latencies and statuses of one kind of call."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    #: The first body of each status from 400 up, to say why (e.g. Nova's quota message).
    bodies: dict[int, str] = field(default_factory=dict)
    #: The first request and root cause of each exception type.
    exception_details: dict[str, str] = field(default_factory=dict)

    def record(self, answers: list[httpx.Response]) -> None:
        """Count the statuses; keep the first body of each error status."""
        for answer in answers:
            self.statuses[answer.status_code] += 1
            if answer.status_code >= 400 and answer.status_code not in self.bodies:
                where = f"{answer.request.method} {answer.request.url.path}"
                self.bodies[answer.status_code] = f"{where}: {answer.text[:EXCERPT]}"

    def record_exception(self, exc: httpx.HTTPError) -> None:
        """Count an exception by type; keep the first one's request and root cause."""
        name = type(exc).__name__
        self.exceptions[name] += 1
        if name not in self.exception_details:
            try:
                where = f"{exc.request.method} {exc.request.url.path}"
            except RuntimeError:  # no request attached
                where = "(no request)"
            self.exception_details[name] = f"{where}: {root_cause(exc)}"[:EXCERPT]

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


def root_cause(exc: BaseException) -> str:
    """The innermost cause of ``exc`` (a reset, a clean close…), as "Type: text"."""
    root = exc
    while (inner := root.__cause__ or root.__context__) is not None:
        root = inner
    return f"{type(root).__name__}: {root}"


@dataclass
class Mix:
    """The calls the clients choose from, with weights, and what was left out and why."""

    calls: dict[str, tuple[float, Call]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: What was set up for the mix, for the report (e.g. the load project's quota).
    setup: list[str] = field(default_factory=list)


async def create_then_delete(
    c: httpx.AsyncClient,
    url: str,
    body: Mapping[str, Any],
    headers: dict[str, str],
    created: int,
    key: str,
) -> list[httpx.Response]:
    """POST ``body`` to ``url``, then DELETE ``url/<id>``; the answers to both."""
    made = await c.post(url, json=body, headers=headers)
    if made.status_code != created:
        return [made]
    gone = await c.delete(f"{url}/{made.json()[key]['id']}", headers=headers)
    return [made, gone]


async def build_mix(
    client: httpx.AsyncClient, live: lives.Live, clients: int, fit_quota: bool = True
) -> Mix:
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

    async def issue(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.post(f"{origin}/identity/v3/auth/tokens", json=auth)]

    async def validate(c: httpx.AsyncClient) -> list[httpx.Response]:
        h = {"X-Auth-Token": admin, "X-Subject-Token": next(subjects)}
        return [await c.get(f"{origin}/identity/v3/auth/tokens", headers=h)]

    async def projects(c: httpx.AsyncClient) -> list[httpx.Response]:
        h = {"X-Auth-Token": admin}
        return [await c.get(f"{origin}/identity/v3/projects", headers=h)]

    mix.calls |= {"token issue": (1, issue), "token validate": (3, validate)}
    mix.calls["project list"] = (2, projects)
    dh = {"X-Auth-Token": demo}

    if find_operation(services, "/compute", "GET", "/v2.1/servers"):

        async def servers(c: httpx.AsyncClient) -> list[httpx.Response]:
            return [await c.get(f"{origin}/compute/v2.1/servers", headers=dh | NOVA)]

        mix.calls["server list"] = (2, servers)
    else:
        mix.skipped["server list"] = "GET /compute/v2.1/servers is not served"

    if find_operation(services, "/image", "GET", "/v2/images"):

        async def images(c: httpx.AsyncClient) -> list[httpx.Response]:
            return [await c.get(f"{origin}/image/v2/images", headers=dh)]

        mix.calls["image list"] = (2, images)
    else:
        mix.skipped["image list"] = "GET /image/v2/images is not served"

    await _add_ports(client, services, live, mix)
    await _add_servers(client, services, live, mix, clients if fit_quota else None)
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

    async def port(c: httpx.AsyncClient) -> list[httpx.Response]:
        body = {"port": {"network_id": net_id}}
        url = f"{origin}/networking/v2.0/ports"
        return await create_then_delete(c, url, body, dh, 201, "port")

    mix.calls["port create+delete"] = (1, port)


async def _add_servers(
    client: httpx.AsyncClient,
    services: list[Service],
    live: lives.Live,
    mix: Mix,
    clients: int | None,
) -> None:
    """Server create+delete; with ``clients``, a quota that many clients fit in."""
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
    if clients is None:
        mix.setup.append(
            "server create+delete runs in the `demo` project with Nova's default quota "
            "(10 instances, 20 cores, 51200 MB): creates past it are refused with 403"
        )
    elif refused := await _fit_quota(client, live, clients, smallest["id"], mix):
        mix.skipped[name] = refused
        return
    dh = {"X-Auth-Token": live.tokens["demo"]} | NOVA

    async def server(c: httpx.AsyncClient) -> list[httpx.Response]:
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


async def _fit_quota(
    client: httpx.AsyncClient, live: lives.Live, clients: int, flavor_id: str, mix: Mix
) -> str | None:
    """Give the load project (demo) an instances/cores/ram quota the mix fits in.

    Nova's defaults (10 instances, 20 cores) are for one user, not ``clients`` creating
    at once: with them, server create answers 403 "Quota exceeded for instances" as soon
    as ten servers are being built or deleted. Returns why it could not be set, or None.
    """
    origin = live.origin
    ah = {"X-Auth-Token": live.tokens["admin"]} | NOVA
    who = await client.get(
        f"{origin}/identity/v3/auth/tokens",
        headers={"X-Auth-Token": live.tokens["admin"], "X-Subject-Token": live.tokens["demo"]},
    )
    flavor = await client.get(f"{origin}/compute/v2.1/flavors/{flavor_id}", headers=ah)
    if who.status_code != 200 or flavor.status_code != 200:
        return (
            f"reading the demo project or the flavor answered {who.status_code}, "
            f"{flavor.status_code}"
        )
    project = who.json()["token"]["project"]["id"]
    vcpus, ram = int(flavor.json()["flavor"]["vcpus"]), int(flavor.json()["flavor"]["ram"])
    servers = SERVERS_PER_CLIENT * clients
    wanted = {"instances": servers, "cores": servers * vcpus, "ram": servers * ram}
    put = await client.put(
        f"{origin}/compute/v2.1/os-quota-sets/{project}",
        json={"quota_set": wanted},
        headers=ah,
    )
    if put.status_code != 200:
        return f"setting the demo project's quota answered {put.status_code}: {put.text[:EXCERPT]}"
    mix.setup.append(
        "server create+delete runs in the `demo` project with its compute quota raised from "
        f"Nova's defaults (10 instances, 20 cores, 51200 MB) to {servers} instances, "
        f"{servers * vcpus} cores, {servers * ram} MB ({SERVERS_PER_CLIENT} servers of the "
        f"smallest flavor per client), so that {clients} clients creating at once fit"
    )
    return None


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
                    answers = await mix.calls[name][1](client)
                except httpx.HTTPError as exc:
                    tally.record_exception(exc)
                    continue
                tally.latencies.append(time.perf_counter() - sent)
                tally.record(answers)

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
    load_after: tuple[float, float, float]  # the machine's load average right after


async def measure(live: lives.Live, args: argparse.Namespace) -> Result:
    """Prepare the mix, warm up, measure; RSS after warm-up and at the end."""
    async with httpx.AsyncClient(timeout=60.0) as client:
        mix = await build_mix(client, live, args.clients, not args.nova_default_quota)
    if args.warmup > 0:
        await drive(mix, args.clients, args.warmup, args.max_requests, args.seed)
    rss_start = live.rss_mib()
    started = time.perf_counter()
    tallies = await drive(mix, args.clients, args.seconds, args.max_requests, args.seed + 1)
    elapsed = time.perf_counter() - started
    rss_end = live.rss_mib()
    load_after = os.getloadavg()
    return Result(mix, tallies, elapsed, (rss_start, rss_end), live.leaked_secrets(), load_after)


def describe_failures(tallies: dict[str, Tally]) -> str:
    """Markdown: each error status and exception per call, with its first body or cause."""
    rows = [
        [name, str(status), str(t.statuses[status]), t.bodies[status]]
        for name, t in tallies.items()
        for status in sorted(t.bodies)
    ]
    rows += [
        [name, kind, str(n), t.exception_details.get(kind, "")]
        for name, t in tallies.items()
        for kind, n in t.exceptions.items()
    ]
    if not rows:
        return "None: every request was answered, and every answer was a 2xx."
    return reporting.markdown_table(["call", "status or exception", "count", "first one"], rows)


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
    setup = "\n".join(f"- {line}." for line in mix.setup) or "- nothing beyond `kumo up`"
    start_load, end_load = reporting.LOAD_AT_START, result.load_after
    machine = (
        f"Load average (1, 5, 15 min) {', '.join(f'{x:.2f}' for x in start_load)} before the "
        f"run and {', '.join(f'{x:.2f}' for x in end_load)} right after it, on "
        f"{os.cpu_count()} cores shared by the cloud, the clients and any other work."
    )
    if warning := reporting.busy_warning():
        machine += f" Warning: {warning}."
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
        f"({', '.join(f'{n} ×{w:g}' for n, (w, _) in mix.calls.items())}). The clients share "
        "one httpx pool of as many keep-alive connections (idle expiry 5 s, httpx's default). "
        "A call's latency covers all its requests (create+delete is two); a call that ended in "
        "an exception has no latency and no status. RSS: the sum over the cloud's processes "
        "(`benchmarks/procmem.py`)."
    )
    return reporting.write_report(
        "load.md",
        "Load: concurrent clients on every service",
        [
            ("Summary", summary),
            ("Per call", table),
            ("Answers other than 2xx, and exceptions", describe_failures(tallies)),
            ("Set up for the mix", setup),
            ("Not in the mix", skipped),
            ("Machine", machine),
            ("Control-plane memory", memory),
            ("Secrets in logs", leak_text),
            ("Method", method),
        ],
    )


def main(argv: list[str] | None = None) -> int:
    """Start a cloud, load it, report; non-zero on any 5xx, exception or leaked secret."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--nova-default-quota",
        action="store_true",
        help="keep the demo project's default compute quota (creates past it answer 403)",
    )
    args = parser.parse_args(argv)
    live = lives.start()
    try:
        result = asyncio.run(measure(live, args))
    finally:
        live.stop()
    path = write_report(args, result)
    errors = sum(t.server_errors for t in result.tallies.values())
    # A request that got no answer at all (reset, closed) is a failure as much as a 5xx.
    exceptions = sum(sum(t.exceptions.values()) for t in result.tallies.values())
    print(f"wrote {path}; {errors} answers with a 5xx, {exceptions} requests without an answer")
    return 1 if errors or exceptions or result.leaks else 0


if __name__ == "__main__":
    raise SystemExit(main())
