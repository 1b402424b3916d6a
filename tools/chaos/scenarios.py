"""Crash scenarios: kill Kumo somewhere, let it recover, check nothing is stuck or leaked.

Each scenario runs against its own fresh cloud (:mod:`tools.chaos.harness`) and
returns a :class:`Result`; ``tools/chaos/run.py`` runs them all and writes
``reports/chaos.md``; ``tests/chaos`` runs a fast slice.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from kumo.common.db import Database
from kumo.compute.journey import STEPS
from tools.chaos import consistency, services
from tools.chaos.harness import Api, ChaosCloud, start, wait_for
from tools.chaos.proxy import CuttableProxy

#: How long a server may take to settle after the restart.
SETTLE = 90.0
#: How long the startup reconcile may take to free leftovers.
RECONCILE = 30.0


@dataclass
class Result:
    """The outcome of one scenario."""

    scenario: str
    outcome: str = ""  # what the server (or the cloud) ended as
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when no invariant was broken."""
        return not self.problems


def settle_consistency(url: str, timeout: float = RECONCILE) -> list[str]:
    """Consistency problems, polled until none remain (the reconcile frees in the background)."""
    db = Database(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            problems = consistency.check(db)
            if not problems or time.monotonic() > deadline:
                return problems
            time.sleep(1.0)
    finally:
        db.dispose()


def _final_ok(server: dict[str, Any] | None, result: Result, *, gone_ok: bool = False) -> None:
    """ACTIVE, or ERROR with a fault (or gone, when the scenario deleted it)."""
    if server is None:
        result.outcome = result.outcome or "gone"
        if not gone_ok:
            result.problems.append("the server vanished")
        return
    status = server["status"]
    fault = (server.get("fault") or {}).get("message")
    result.outcome = f"{status}" + (f" (fault: {fault})" if fault else "")
    if status == "ERROR" and not fault:
        result.problems.append("ERROR without a fault")
    elif status not in ("ACTIVE", "ERROR", "SHUTOFF"):
        result.problems.append(f"ended {status}")


def _still_works(api: Api, result: Result, tag: str) -> None:
    """After recovery a new server boots ACTIVE and deletes cleanly."""
    try:
        r = api.create_server(f"{tag}-after")
        r.raise_for_status()
        sid = r.json()["server"]["id"]
        after = api.settled(sid, SETTLE)
        if after is None or after["status"] != "ACTIVE":
            result.problems.append(f"a boot after recovery ended {after and after['status']}")
        api.delete_server(sid)
        wait_for("the new server to be deleted", lambda: api.server(sid) is None, SETTLE)
    except (httpx.HTTPError, TimeoutError, KeyError) as exc:
        result.problems.append(f"the cloud does not work after recovery: {exc}")


def delete_and_check(api: Api, server: dict[str, Any] | None, result: Result) -> None:
    """Delete the server the crash left (the delete itself must work)."""
    if server is None:
        return
    try:
        api.delete_server(server["id"])
        wait_for("the crashed server to be deleted", lambda: api.server(server["id"]) is None, 60)
    except (httpx.HTTPError, TimeoutError) as exc:
        result.problems.append(f"deleting the crashed server failed: {exc}")


def _wait_fired(cloud: ChaosCloud, point: str, result: Result, timeout: float = 60) -> bool:
    """Wait for ``point`` to kill the process (a problem when it never does)."""
    try:
        wait_for(f"the fault point {point} to fire", lambda: cloud.fired(point), timeout)
    except TimeoutError:
        result.problems.append(f"the fault point {point} was never reached")
        return False
    time.sleep(1.0)  # the process is dead; the supervisor restarts it
    return True


def _run(
    name: str,
    env: dict[str, str],
    body: Callable[[ChaosCloud, Api, Result], None],
    *,
    virt: str = "fake",
) -> Result:
    result = Result(name)
    began = time.monotonic()
    cloud: ChaosCloud | None = None
    api: Api | None = None
    try:
        cloud = start(env, virt=virt)
        api = Api(cloud)
        api.wait_healthy()
        body(cloud, api, result)
    except Exception as exc:
        result.problems.append(f"{type(exc).__name__}: {exc}")
        if cloud is not None:
            result.notes.append("log tail: " + cloud.log_tail(8).replace("\n", " | ")[-600:])
    finally:
        if api is not None:
            api.close()
        if cloud is not None:
            cloud.stop()
        result.seconds = time.monotonic() - began
    return result


# ----- kill at a boot-journey step -------------------------------------------------------------


def boot_kill(point: str) -> Result:
    """Kill the process at boot-journey ``point`` while a server boots."""

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        name = f"chaos-{secrets.token_hex(3)}"
        try:
            r = api.create_server(name)
            result.notes.append(f"create answered {r.status_code}")
        except httpx.HTTPError as exc:
            result.notes.append(f"create got no answer ({type(exc).__name__})")
        if not _wait_fired(cloud, point, result):
            return
        api.wait_healthy(120)
        api.login()
        found = api.find_server(name)
        if found is None:
            result.outcome = "no server (killed before it was written)"
            server = None
        else:
            server = api.settled(found["id"], SETTLE)
            _final_ok(server, result)
        result.problems += settle_consistency(cloud.database_url())
        delete_and_check(api, server, result)
        _still_works(api, result, name)
        result.problems += settle_consistency(cloud.database_url())

    return _run(f"kill at {point}", {"KUMO_FAULT_INJECTION": f"{point}:kill"}, body)


def _active_server(api: Api, name: str) -> dict[str, Any]:
    """A new server, ACTIVE (RuntimeError when it does not get there)."""
    r = api.create_server(name)
    r.raise_for_status()
    server = api.settled(r.json()["server"]["id"], SETTLE)
    if server is None or server["status"] != "ACTIVE":
        raise RuntimeError(f"the server to crash did not boot: {server}")
    return server


def action_kill(point: str, action: str) -> Result:
    """Kill the process at ``point`` during ``action`` (delete, snapshot, resize)."""

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        name = f"chaos-{secrets.token_hex(3)}"
        server = _active_server(api, name)
        sid = server["id"]
        try:
            if action == "delete":
                r = api.delete_server(sid)
            elif action == "snapshot":
                r = api.action(sid, {"createImage": {"name": f"{name}-snap"}})
            else:
                r = api.action(sid, {"resize": {"flavorRef": "84"}})
            result.notes.append(f"{action} answered {r.status_code}")
        except httpx.HTTPError as exc:
            result.notes.append(f"{action} got no answer ({type(exc).__name__})")
        if not _wait_fired(cloud, point, result):
            return
        api.wait_healthy(120)
        api.login()
        after = api.settled(sid, SETTLE)
        _final_ok(after, result, gone_ok=action == "delete")
        if action == "delete" and after is not None:
            result.problems.append(f"the interrupted delete left the server {after['status']}")
        if action == "snapshot":
            r = api.request("GET", "/image/v2/images", params={"name": f"{name}-snap"})
            left = [f"{i['id']} {i['status']}" for i in r.json().get("images", [])]
            if left:
                result.notes.append(f"snapshot image left: {', '.join(left)}")
        result.problems += settle_consistency(cloud.database_url())
        delete_and_check(api, after, result)
        _still_works(api, result, name)
        result.problems += settle_consistency(cloud.database_url())

    return _run(f"kill at {point} ({action})", {"KUMO_FAULT_INJECTION": f"{point}:kill"}, body)


# ----- power loss ------------------------------------------------------------------------------


def _hammer(api: Api, stop: threading.Event, counts: Counter[str], what: str) -> None:
    """Write as fast as possible until ``stop`` (errors counted, never raised)."""
    net = api.network_id()
    while not stop.is_set():
        try:
            if what == "servers":
                api.create_server(f"load-{secrets.token_hex(3)}")
            elif what == "ports":
                body = {"port": {"network_id": net}}
                r = api.request("POST", "/networking/v2.0/ports", json=body)
                if r.status_code == 201:
                    api.request("DELETE", f"/networking/v2.0/ports/{r.json()['port']['id']}")
            else:
                r = api.request(
                    "POST",
                    "/image/v2/images",
                    json={"name": "load", "disk_format": "raw", "container_format": "bare"},
                )
                if r.status_code == 201:
                    api.request(
                        "PUT",
                        f"/image/v2/images/{r.json()['id']}/file",
                        content=os.urandom(2 << 20),
                        headers={"Content-Type": "application/octet-stream"},
                    )
            counts[what] += 1
        except (httpx.HTTPError, KeyError, IndexError):
            counts[f"{what} errors"] += 1
            time.sleep(0.1)


def power_loss(seconds: float = 6.0) -> Result:
    """SIGKILL the whole process group during heavy writes; the stores must be intact."""

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        stop = threading.Event()
        counts: Counter[str] = Counter()
        workers = []
        for what in ("servers", "ports", "images"):
            client = Api(cloud)
            client.login()
            t = threading.Thread(target=_hammer, args=(client, stop, counts, what), daemon=True)
            workers.append((t, client))
            t.start()
        time.sleep(seconds)
        cloud.power_loss()
        stop.set()
        for t, client in workers:
            t.join(timeout=30)
            client.close()
        done = ", ".join(f"{k} {v}" for k, v in counts.items())
        result.notes.append(f"writes before the kill: {done}")
        integrity = consistency.sqlite_integrity(cloud.db_path)
        if integrity != "ok":
            result.problems.append(f"SQLite integrity_check: {integrity}")
        db = Database(cloud.database_url())
        try:
            result.problems += consistency.image_store_problems(db, cloud.state_dir)
        finally:
            db.dispose()
        cloud.up_again()
        api.wait_healthy(120)
        api.login()
        r = api.request("GET", "/compute/v2.1/servers/detail", params={"all_tenants": "1"})
        servers = r.json()["servers"]
        states: Counter[str] = Counter()
        for server in servers:
            final = api.settled(server["id"], SETTLE)
            states[final["status"] if final else "gone"] += 1
            if final is not None and final["status"] == "ERROR" and not final.get("fault"):
                result.problems.append(f"server {server['id']} ERROR without a fault")
        result.outcome = f"integrity {integrity}; servers after restart: {dict(states)}"
        result.problems += settle_consistency(cloud.database_url())
        for server in servers:  # they fill the quota; deleting them after a crash must work
            api.delete_server(server["id"])
        for server in servers:
            sid = str(server["id"])
            wait_for("the servers to be deleted", lambda i=sid: api.server(i) is None, 60)  # type: ignore[misc]
        _still_works(api, result, "power")

    return _run("power loss during heavy writes", {}, body)


# ----- the broker and the database going away --------------------------------------------------


def broker_restart(
    rabbit_url: str = "amqp://guest:guest@127.0.0.1:5672/", *, real: bool = False
) -> Result:
    """RabbitMQ restarted while servers boot: every link cut, or (``real``) the server itself."""
    proxy = CuttableProxy("127.0.0.1", 5672)
    proxy.start()
    prefix = f"chaos{secrets.token_hex(4)}."
    user = rabbit_url.split("//", 1)[1].split("@", 1)[0]
    env = {
        "KUMO_TRANSPORT_URL": f"amqp://{user}@127.0.0.1:{proxy.port}/",
        "KUMO_BUS_TOPIC_PREFIX": prefix,
    }

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        ids = []
        answers: list[str] = []

        def boot(i: int) -> None:
            try:
                r = api.create_server(f"rabbit-{i}-{secrets.token_hex(2)}")
                answers.append(str(r.status_code))
                if r.status_code == 202:
                    ids.append(r.json()["server"]["id"])
            except httpx.HTTPError as exc:
                answers.append(type(exc).__name__)

        threads = [threading.Thread(target=boot, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        if real:
            took = services.restart_rabbit()
            result.notes.append(f"RabbitMQ restarted (stop_app/start_app, {took:.1f}s)")
        else:
            proxy.cut(refuse_for=2.0)
        for t in threads:
            t.join(timeout=200)
        result.notes.append(f"creates answered {answers}; links cut {proxy.cuts}x")
        finals: Counter[str] = Counter()
        for sid in ids:
            server = api.settled(sid, 200)
            finals[server["status"] if server else "gone"] += 1
            if server is not None:
                sub = Result("one")
                _final_ok(server, sub)
                result.problems += sub.problems
                if server["status"] == "ERROR":
                    result.notes.append(sub.outcome)
        result.outcome = f"servers: {dict(finals)}"
        result.problems += settle_consistency(cloud.database_url())
        _still_works(api, result, "rabbit")

    how = "real restart" if real else "proxy cut"
    try:
        return _run(f"RabbitMQ restarted mid-boot ({how})", env, body)
    finally:
        proxy.close()
        if real:
            services.ensure_running()
        _delete_queues(rabbit_url, prefix)


def _delete_queues(rabbit_url: str, prefix: str) -> None:
    """Remove the durable queues this scenario's topics made on the shared broker."""
    import asyncio

    import aio_pika

    from kumo.common.bus.rabbit import queue_name

    async def go() -> None:
        conn = await aio_pika.connect(rabbit_url)
        async with conn:
            for topic in ("scheduler", "conductor", "compute.chaos"):
                channel = await conn.channel()
                with contextlib.suppress(Exception):
                    await channel.queue_delete(queue_name(prefix + topic))

    with contextlib.suppress(Exception):
        asyncio.run(go())


def database_restart(
    pg_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/", *, real: bool = False
) -> Result:
    """PostgreSQL restarted while requests write: every link cut, or (``real``) the server."""
    import psycopg

    name = f"kumo_chaos_{secrets.token_hex(4)}"
    admin_dsn = pg_url.replace("postgresql+psycopg://", "postgresql://") + "postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    proxy = CuttableProxy("127.0.0.1", 5432)
    proxy.start()
    env = {"KUMO_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{name}"}

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        stop = threading.Event()
        statuses: Counter[str] = Counter()
        retry_after: list[str] = []
        net = api.network_id()
        # Each port gets a unique name: afterwards every one answered 201 must exist
        # once and whole (MAC, fixed IP), and none refused may have been half written.
        created: set[str] = set()
        refused: set[str] = set()

        def write() -> None:
            while not stop.is_set():
                name = f"pgw-{secrets.token_hex(6)}"
                try:
                    r = api.request(
                        "POST",
                        "/networking/v2.0/ports",
                        json={"port": {"network_id": net, "name": name}},
                    )
                    statuses[str(r.status_code)] += 1
                    (created if r.status_code == 201 else refused).add(name)
                    if r.status_code == 503:
                        retry_after.append(r.headers.get("Retry-After", ""))
                    r = api.request("GET", "/compute/v2.1/servers/detail")
                    statuses[str(r.status_code)] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    refused.add(name)

        threads = [threading.Thread(target=write) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        if real:
            took = services.restart_postgres()
            result.notes.append(f"PostgreSQL restarted (pg_ctlcluster -m fast, {took:.1f}s)")
            time.sleep(2.0)
        else:
            proxy.cut(refuse_for=1.0)
            time.sleep(2.0)
            proxy.cut()
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        result.outcome = "answers: " + ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items()))
        bad = {k: v for k, v in statuses.items() if k.startswith("5") and k != "503"}
        if bad:
            result.problems.append(f"5xx other than 503 during the cut: {bad}")
        if statuses.get("503") and not all(retry_after):
            result.problems.append("a 503 without Retry-After")
        errors = [line for line in cloud.log_tail(400).splitlines() if " ERROR " in line]
        if errors:
            result.notes.append(f"{len(errors)} ERROR log lines; last: {errors[-1][-300:]}")
        direct = env["KUMO_DATABASE_URL"].replace(f"127.0.0.1:{proxy.port}", "127.0.0.1:5432")
        result.problems += settle_consistency(direct)
        _check_port_rows(api, net, created, refused, result)
        # The writers filled the port quota (409 OverQuota): free it for the boot below.
        r = api.request("GET", "/networking/v2.0/ports", params={"network_id": net})
        for port in r.json()["ports"]:
            if str(port.get("name") or "").startswith("pgw-"):
                api.request("DELETE", f"/networking/v2.0/ports/{port['id']}")
        _still_works(api, result, "pg")

    how = "real restart" if real else "proxy cut"
    try:
        return _run(f"PostgreSQL restarted mid-request ({how})", env, body)
    finally:
        proxy.close()
        if real:
            services.ensure_running()
        with contextlib.suppress(Exception), psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_port_rows(
    api: Api, net: str, created: set[str], refused: set[str], result: Result
) -> None:
    """Every port answered 201 exists once and whole; note those refused but stored."""
    r = api.request("GET", "/networking/v2.0/ports", params={"network_id": net})
    r.raise_for_status()
    seen: Counter[str] = Counter()
    for port in r.json()["ports"]:
        name = str(port.get("name") or "")
        if not name.startswith("pgw-"):
            continue
        seen[name] += 1
        if not port.get("mac_address") or not port.get("fixed_ips"):
            result.problems.append(f"port {port['id']} ({name}) is incomplete: {port}")
    missing = created - set(seen)
    if missing:
        result.problems.append(f"{len(missing)} port(s) answered 201 are missing")
    twice = [n for n, c in seen.items() if c > 1]
    if twice:
        result.problems.append(f"port(s) stored twice: {twice}")
    stored = refused & set(seen)
    result.notes.append(
        f"ports: {len(created)} created, all present and whole: {not missing and not twice}; "
        f"{len(refused)} refused or unanswered, of which {len(stored)} were stored anyway "
        "(committed before the link broke; whole)"
    )


def all_scenarios(real_restart: bool = False) -> list[tuple[str, Callable[[], Result]]]:
    """Every fake-driver scenario of `make chaos`, by name.

    ``real_restart`` adds the restarts of this machine's real PostgreSQL and
    RabbitMQ servers (shared with other users: only when asked for).
    """
    out: list[tuple[str, Callable[[], Result]]] = [
        (step.event, lambda e=step.event: boot_kill(e))  # type: ignore[misc]
        for step in STEPS
    ]
    out += [(p, lambda p=p, a=a: action_kill(p, a)) for p, a in FAKE_ACTIONS.items()]  # type: ignore[misc]
    out += [
        ("power_loss", power_loss),
        ("rabbitmq", broker_restart),
        ("postgresql", database_restart),
    ]
    if real_restart:
        out += [
            ("rabbitmq_real", lambda: broker_restart(real=True)),
            ("postgresql_real", lambda: database_restart(real=True)),
        ]
    return out


#: Fault points outside the boot journey, with the action that reaches them (fake driver).
FAKE_ACTIONS = {
    "delete_compute_ports_released": "delete",
    "snapshot_compute_upload": "snapshot",
    "resize_compute_claimed": "resize",
}
