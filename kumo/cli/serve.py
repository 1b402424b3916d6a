"""`kumo serve --role R`: run one role of Kumo in this process.

* ``all`` — every API and, inside the same process on the in-process bus, the
  scheduler, the conductor and the compute agent(s) (what `kumo up` runs);
* ``api`` — the APIs only; the other roles run elsewhere (RabbitMQ bus);
* ``scheduler``, ``conductor``, ``compute`` — one piece of the compute control
  plane, no HTTP server; they reach the APIs at ``public_url`` and each other
  over the bus (``transport_url``). ``compute`` never opens the database;
* ``network`` — only this host's network agent (the Linux data plane), reading
  the Networking API at ``public_url`` over HTTP: no bus, no database. With
  ``network_agent_mode = compute`` and ``network_tunnel_ip`` it is a second
  host's agent (VXLAN to the first).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Any

from kumo.cli.processes import write_pid
from kumo.cli.state import StateDir
from kumo.common.config import Settings
from kumo.common.log import setup_logging

#: Seconds between the interpreter's thread switches in a served process.
GIL_SWITCH_INTERVAL = 0.001

#: Roles that serve the HTTP APIs ("all" runs every role in one process).
API_ROLES = ("all", "api")
#: Roles that run one piece of the compute control plane without HTTP.
WORKER_ROLES = ("scheduler", "conductor", "compute")
#: The network agent alone; it needs only HTTP to the API.
AGENT_ROLES = ("network",)
ROLES = API_ROLES + WORKER_ROLES + AGENT_ROLES

#: Tells the uvicorn app factory (in each worker) which role it serves.
ROLE_ENV = "KUMO_SERVE_ROLE"

log = logging.getLogger("kumo.serve")


def app_factory() -> object:
    """The ASGI app for uvicorn's factory mode (each worker builds its own)."""
    from kumo.app import build_app

    settings = Settings()
    setup_logging(settings.log_level)
    if os.environ.get(ROLE_ENV, "all") == "api":
        return build_app(settings, compute_pieces=())
    return build_app(settings, register_hosts_at_start=True)


async def run_worker(settings: Settings, role: str) -> None:
    """Run one control-plane piece until SIGTERM or SIGINT."""
    from kumo.common.db import Database
    from kumo.compute.runtime import ComputeRuntime

    db = None if role == "compute" else Database(settings.effective_database_url)
    runtime = ComputeRuntime(settings, db, pieces=[role], register_at_start=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    log.info("role %s running (bus %s)", role, settings.transport_url.split("@")[-1])
    try:
        await stop.wait()
    finally:
        await runtime.stop()
        if db is not None:
            db.dispose()


async def run_network(settings: Settings) -> None:
    """Run the network agent alone until SIGTERM or SIGINT."""
    from kumo.agents.network.agent import run_network_agent

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "network agent of %s running (mode %s, API %s)",
        settings.compute_host,
        settings.network_agent_mode,
        settings.public_url,
    )
    await run_network_agent(settings, stop)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the API server (all but the app)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.api_workers,
        "log_config": None,
        "access_log": False,
        # The lifespan starts the bus (and, for role all, the compute control plane).
        "lifespan": "on",
        "server_header": False,
        "timeout_graceful_shutdown": 5,
        # uvicorn's default (5 s) is exactly httpx's pool expiry, and the server's clock starts
        # when it writes the answer, before the client has read it: the server closed
        # connections the client was just reusing, and that request died with a reset
        # (ReadError) and no status. requests/keystoneauth keep idle connections until the
        # server closes them, so they race at any value; the longer it is, the rarer.
        "timeout_keep_alive": settings.api_keep_alive,
    }


def serve(settings: Settings, role: str) -> None:
    """Run ``role`` until terminated."""
    if role not in ROLES:
        raise SystemExit(f"unknown role {role!r}; known roles: {', '.join(ROLES)}")
    state = StateDir(settings)
    state.ensure()
    write_pid(state.pidfile(role))
    setup_logging(settings.log_level)
    os.environ["KUMO_STATE_DIR"] = str(settings.state_dir)
    # SQLite statements release the GIL; a thread holding the database's one write
    # lock then waits up to a whole switch interval (5 ms by default) to get the GIL
    # back, per statement, while every other writer queues behind it. 1 ms took a
    # 1,000-server boot storm from 85.8 s to 75.0 s (benchmarks/boot_storm.py).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    try:
        if role in AGENT_ROLES:
            asyncio.run(run_network(settings))
            return
        if role != "all" and settings.transport_url.startswith("inproc"):
            raise SystemExit(
                f"role {role} runs in its own process: set transport_url to a RabbitMQ "
                "URL (amqp://…); with inproc:// use role all"
            )
        if role in WORKER_ROLES:
            asyncio.run(run_worker(settings, role))
            return
        import uvicorn

        os.environ[ROLE_ENV] = role
        uvicorn.run("kumo.cli.serve:app_factory", factory=True, **uvicorn_options(settings))
    finally:
        state.pidfile(role).unlink(missing_ok=True)
