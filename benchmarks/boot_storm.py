"""Boot storm: many servers at once on the fake virt driver, create → ACTIVE latency.

    .venv/bin/python benchmarks/boot_storm.py                      # 1,000 servers, 100 hosts
    .venv/bin/python benchmarks/boot_storm.py --servers 200 --hosts 20

A fresh ``kumo up`` (role ``all``: APIs, scheduler, conductor and ``--hosts``
simulated compute hosts on the fake driver, SQLite, in-process bus) gets
``--servers`` ``POST /servers`` from ``--clients`` concurrent clients (httpx
async). One poller follows ``GET /servers/detail?changes-since=…`` and records
when each server is first seen ACTIVE (or ERROR). The fake driver runs no guest:
this measures the control plane — API, scheduler with Placement claims,
conductor, compute agents — not a hypervisor.

Peer: Rally's published Nova fake-driver boot figure (``NovaServers.boot_server``
on devstack with the fake virt driver), median about 8 s per boot. It is a
published number, not measured in this run, and is named as such in the report.
Writes ``reports/bench-boot-storm.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
from dataclasses import dataclass, field

import httpx
import peers
import reporting

from kumo.compute import journey

#: Rally's published fake-driver boot median (seconds), the named peer figure.
RALLY_FAKE_BOOT_MEDIAN_S = 8.0
#: How many storm servers' create events are read for the per-step table.
JOURNEY_SAMPLE = 100
COMPUTE_MV = {"OpenStack-API-Version": "compute 2.37"}


@dataclass
class Run:
    """What one storm measured."""

    servers: int
    hosts: int
    clients: int
    created_at: dict[str, float] = field(default_factory=dict)
    finished_at: dict[str, float] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    create_errors: list[str] = field(default_factory=list)
    serial: list[float] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    register_seconds: float = 0.0
    serial_count: int = 10
    #: Journey event name → its durations (seconds) in the sampled storm servers.
    steps: dict[str, list[float]] = field(default_factory=dict)
    #: Seconds from the scheduler's cast (step 12) to the compute host taking it (13).
    cast_waits: list[float] = field(default_factory=list)

    def latencies(self) -> list[float]:
        """Seconds from POST to first seen ACTIVE, for servers that went ACTIVE."""
        return sorted(
            self.finished_at[s] - self.created_at[s]
            for s in self.finished_at
            if self.status.get(s) == "ACTIVE" and s in self.created_at
        )


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by nearest rank, or None for no values."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


async def token(client: httpx.AsyncClient, base: str, password: str) -> tuple[str, str]:
    """An admin token and the admin project id."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "admin", "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    resp = await client.post(f"{base}/identity/v3/auth/tokens", json=body)
    resp.raise_for_status()
    return resp.headers["x-subject-token"], resp.json()["token"]["project"]["id"]


async def prepare(
    client: httpx.AsyncClient, base: str, project_id: str, hosts: int
) -> tuple[str, str, float]:
    """Wait for the hosts, lift the quotas, make a flavor and an image → (flavor, image, s)."""
    started = time.monotonic()
    while True:
        resp = await client.get(f"{base}/placement/resource_providers")
        if resp.status_code == 200 and len(resp.json()["resource_providers"]) >= hosts:
            break
        if time.monotonic() - started > 600:
            raise SystemExit(
                f"only {len(resp.json().get('resource_providers', []))} hosts registered"
            )
        await asyncio.sleep(0.5)
    registered = time.monotonic() - started
    quota = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
    resp = await client.put(f"{base}/compute/v2.1/os-quota-sets/{project_id}", json=quota)
    resp.raise_for_status()
    flavor = {"flavor": {"name": f"storm-{os.getpid()}", "ram": 64, "vcpus": 1, "disk": 1}}
    resp = await client.post(f"{base}/compute/v2.1/flavors", json=flavor)
    resp.raise_for_status()
    flavor_id = resp.json()["flavor"]["id"]
    resp = await client.post(
        f"{base}/image/v2/images",
        json={"name": "storm", "disk_format": "raw", "container_format": "bare"},
    )
    resp.raise_for_status()
    image_id = resp.json()["id"]
    resp = await client.put(
        f"{base}/image/v2/images/{image_id}/file",
        content=b"\0" * 4096,
        headers={"Content-Type": "application/octet-stream"},
    )
    resp.raise_for_status()
    return flavor_id, image_id, registered


async def serial_boots(
    client: httpx.AsyncClient, base: str, flavor_id: str, image_id: str, count: int
) -> list[float]:
    """Seconds to ACTIVE of ``count`` servers booted one at a time (no queueing), then deleted."""
    out = []
    for i in range(count):
        body = {
            "server": {
                "name": f"serial-{i}",
                "flavorRef": flavor_id,
                "imageRef": image_id,
                "networks": "none",
            }
        }
        sent = time.monotonic()
        resp = await client.post(f"{base}/compute/v2.1/servers", json=body, headers=COMPUTE_MV)
        resp.raise_for_status()
        server_id = resp.json()["server"]["id"]
        while True:
            got = await client.get(f"{base}/compute/v2.1/servers/{server_id}", headers=COMPUTE_MV)
            status = got.json()["server"]["status"]
            if status in ("ACTIVE", "ERROR"):
                break
            await asyncio.sleep(0.02)
        if status == "ACTIVE":
            out.append(time.monotonic() - sent)
        await client.delete(f"{base}/compute/v2.1/servers/{server_id}", headers=COMPUTE_MV)
    return sorted(out)


def _time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


async def journey_steps(client: httpx.AsyncClient, base: str, run: Run, sample: int) -> None:
    """Each boot-journey step's duration in ``sample`` storm servers (their create events)."""
    ids = sorted(run.created_at, key=run.created_at.__getitem__)
    picked = ids[:: max(1, len(ids) // sample)][:sample]
    for server_id in picked:
        url = f"{base}/compute/v2.1/servers/{server_id}/os-instance-actions"
        actions = await client.get(url, headers=COMPUTE_MV)
        if actions.status_code != 200:
            continue
        create = [a for a in actions.json()["instanceActions"] if a["action"] == "create"]
        if not create:
            continue
        shown = await client.get(
            f"{url}/{create[0]['request_id']}",
            headers={"OpenStack-API-Version": "compute 2.62"},
        )
        if shown.status_code != 200:
            continue
        finished: dict[str, dt.datetime] = {}
        started: dict[str, dt.datetime] = {}
        for event in shown.json()["instanceAction"]["events"]:
            if not (event.get("start_time") and event.get("finish_time")):
                continue
            started[event["event"]] = _time(event["start_time"])
            finished[event["event"]] = _time(event["finish_time"])
            seconds = (finished[event["event"]] - started[event["event"]]).total_seconds()
            run.steps.setdefault(event["event"], []).append(seconds)
        cast, receive = "step_12_scheduler_cast_build", "step_13_compute_receive_build"
        if cast in finished and receive in started:
            run.cast_waits.append((started[receive] - finished[cast]).total_seconds())


async def storm(base: str, password: str, run: Run) -> None:
    """Create ``run.servers`` servers with ``run.clients`` clients; follow them to ACTIVE."""
    limits = httpx.Limits(max_connections=run.clients + 4)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        tok, project_id = await token(client, base, password)
        client.headers["X-Auth-Token"] = tok
        flavor_id, image_id, run.register_seconds = await prepare(
            client, base, project_id, run.hosts
        )
        run.serial = await serial_boots(client, base, flavor_id, image_id, run.serial_count)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(run.servers):
            queue.put_nowait(i)

        async def creator() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                body = {
                    "server": {
                        "name": f"storm-{i}",
                        "flavorRef": flavor_id,
                        "imageRef": image_id,
                        "networks": "none",
                    }
                }
                sent = time.monotonic()
                resp = await client.post(
                    f"{base}/compute/v2.1/servers", json=body, headers=COMPUTE_MV
                )
                if resp.status_code != 202:
                    run.create_errors.append(f"{resp.status_code} {resp.text[:200]}")
                    continue
                run.created_at[resp.json()["server"]["id"]] = sent

        done = asyncio.Event()

        async def poller() -> None:
            since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat()
            while not done.is_set() or len(run.finished_at) < len(run.created_at):
                polled = dt.datetime.now(dt.UTC)
                resp = await client.get(
                    f"{base}/compute/v2.1/servers/detail",
                    params={"changes-since": since, "limit": "1000"},
                    headers=COMPUTE_MV,
                )
                now = time.monotonic()
                if resp.status_code == 200:
                    for server in resp.json()["servers"]:
                        if server["status"] in ("ACTIVE", "ERROR"):
                            run.status.setdefault(server["id"], server["status"])
                            run.finished_at.setdefault(server["id"], now)
                    since = (polled - dt.timedelta(seconds=1)).isoformat()
                if time.monotonic() - run.started > 1800:
                    return
                await asyncio.sleep(0.25)

        run.started = time.monotonic()
        poll = asyncio.create_task(poller())
        await asyncio.gather(*(creator() for _ in range(run.clients)))
        done.set()
        await poll
        run.ended = max(run.finished_at.values(), default=time.monotonic())
        await journey_steps(client, base, run, JOURNEY_SAMPLE)


def sample_size(run: Run) -> int:
    """How many servers the journey table was read from."""
    return max((len(v) for v in run.steps.values()), default=0)


def steps_table(run: Run) -> str:
    """p50/p95 seconds of each journey step (booklet order) in the sampled servers."""
    rows = []
    for step in journey.STEPS:
        values = sorted(run.steps.get(step.event, []))
        if values:
            rows.append(
                [
                    f"{step.step} `{step.event}`",
                    reporting.fmt(percentile(values, 0.5), 3),
                    reporting.fmt(percentile(values, 0.95), 3),
                ]
            )
        if step.step == "12" and run.cast_waits:
            waits = sorted(run.cast_waits)
            rows.append(
                [
                    "12→13 cast waiting on the bus",
                    reporting.fmt(percentile(waits, 0.5), 3),
                    reporting.fmt(percentile(waits, 0.95), 3),
                ]
            )
    return reporting.markdown_table(["step", "p50 (s)", "p95 (s)"], rows)


def write_markdown(run: Run) -> str:
    """Write the report; return its path."""
    lat = run.latencies()
    p50 = percentile(lat, 0.5)
    p95 = percentile(lat, 0.95)
    active = sum(1 for s in run.status.values() if s == "ACTIVE")
    errors = sum(1 for s in run.status.values() if s == "ERROR")
    total = run.ended - run.started
    rows = [
        [
            "servers asked / created / ACTIVE / ERROR",
            f"{run.servers} / {len(run.created_at)} / {active} / {errors}",
        ],
        ["simulated hosts (fake driver)", str(run.hosts)],
        ["concurrent clients", str(run.clients)],
        ["create → ACTIVE p50 (s)", reporting.fmt(p50, 2)],
        ["create → ACTIVE p95 (s)", reporting.fmt(p95, 2)],
        ["create → ACTIVE max (s)", reporting.fmt(lat[-1] if lat else None, 2)],
        ["total time, first POST → last ACTIVE (s)", reporting.fmt(total, 1)],
        ["boots per second", reporting.fmt(active / total if total > 0 else None, 1)],
        ["host registration (s)", reporting.fmt(run.register_seconds, 1)],
        ["create errors (non-202)", str(len(run.create_errors))],
    ]
    serial_p50 = percentile(run.serial, 0.5)
    rows.insert(
        3,
        [
            f"one at a time ({len(run.serial)} boots, no queueing): p50 (s)",
            reporting.fmt(serial_p50, 2),
        ],
    )
    peer_rows = [
        ["Kumo one boot at a time, p50", reporting.fmt(serial_p50, 2)],
        ["Kumo during the storm, p50", reporting.fmt(p50, 2)],
        ["Rally fake-driver boot, published median", reporting.fmt(RALLY_FAKE_BOOT_MEDIAN_S, 1)],
        [
            "Kumo one at a time / Rally",
            reporting.fmt_ratio(reporting.ratio(serial_p50, RALLY_FAKE_BOOT_MEDIAN_S)),
        ],
        ["Kumo storm / Rally", reporting.fmt_ratio(reporting.ratio(p50, RALLY_FAKE_BOOT_MEDIAN_S))],
    ]
    notes = [
        "Kumo ran as `kumo up` starts it: one process (role `all`), SQLite (WAL), in-process "
        "bus, the scheduler claiming in Placement over HTTP (in-process transport), the "
        f"conductor, and {run.hosts} simulated compute hosts on the **fake** virt driver, "
        "which runs no guest.",
        "Latency is measured from sending `POST /servers` to the first `GET "
        "/servers/detail?changes-since` poll (every 0.25 s) that shows the server ACTIVE, so "
        "it includes the API's 202 and up to one poll interval.",
        f"With {run.clients} clients each waiting for its server, the storm's latency is "
        "mostly queueing (Little's law: clients / boots per second); the one-at-a-time "
        "figure is the journey itself. `POST /servers` answers 202 only after the "
        "scheduler placed the server (a bus call), so queueing shows in the POST too.",
        "The peer figure is Rally's published median for Nova's fake driver "
        "(`NovaServers.boot_server`), not measured here: a different machine, Nova with "
        "MySQL and RabbitMQ. It shows the order of magnitude only.",
    ]
    notes.append(
        f"Journey steps: the `create` action's events of {sample_size(run)} storm servers "
        "(every n-th by creation order), each step from its event's start to its finish. "
        "Step 8 is the API waiting for the scheduler (its bus call), so it holds steps "
        "9–12; the compute host's steps are each one conductor call and transaction."
    )
    if warn := reporting.busy_warning():
        notes.append(f"**Warning:** {warn}.")
    if run.create_errors:
        notes.append("First create errors: " + "; ".join(run.create_errors[:3]))
    path = reporting.write_report(
        "bench-boot-storm.md",
        "Boot storm: servers to ACTIVE on the fake driver",
        [
            ("Result", reporting.markdown_table(["", ""], rows)),
            ("Where a storm boot's time goes", steps_table(run)),
            ("Against the named peer", reporting.markdown_table(["", "seconds"], peer_rows)),
            ("How it was measured", "\n".join(f"- {n}" for n in notes)),
        ],
    )
    return str(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--servers", type=int, default=1000)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--serial", type=int, default=10, help="boots one at a time first")
    p.add_argument("--password", default=peers.KUMO_PASSWORD)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start Kumo with fake hosts, run the storm, write the report."""
    args = parse_args(argv)
    os.environ["KUMO_VIRT_DRIVER"] = "fake"
    os.environ["KUMO_FAKE_HOSTS"] = str(args.hosts)
    os.environ.setdefault("KUMO_COMPUTE_HOST", "storm")
    run = Run(args.servers, args.hosts, args.clients, serial_count=args.serial)
    with peers.running_kumo(args.password) as started:
        base = started.target.url.rsplit("/identity", 1)[0]
        asyncio.run(storm(base, args.password, run))
    lat = run.latencies()
    print(
        f"{len(lat)} ACTIVE of {run.servers}; p50 {reporting.fmt(percentile(lat, 0.5), 2)} s, "
        f"p95 {reporting.fmt(percentile(lat, 0.95), 2)} s, "
        f"total {reporting.fmt(run.ended - run.started, 1)} s"
    )
    print("wrote", write_markdown(run))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
