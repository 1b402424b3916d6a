"""Reproduce, in a small loop, the keep-alive race behind `make load`'s ReadErrors.

    .venv/bin/python tools/load/keepalive_race.py [--server-keep-alive 1] [--client-expiry 1]
        [--client httpx|requests] [--connections 50] [--seconds 20] [--url URL]

Starts uvicorn in a child process (a trivial app on a free loopback port) with
``timeout_keep_alive`` = ``--server-keep-alive``. Then ``--connections`` clients,
each with a pool of one connection, loop: send a request, stay idle for a random
time just under ``--client-expiry``, send again. An httpx pool reuses a
connection idle for less than its ``keepalive_expiry``; a requests session (what
keystoneauth and openstacksdk use) has no expiry and reuses any connection the
server has not visibly closed. Prints how many requests were sent and the
exceptions they ended in. ``--url`` sends the requests to a running server (a
Kumo cloud: ``http://127.0.0.1:8780/identity/v3``) instead of starting one.

uvicorn's default keep-alive (5 s) equals httpx's pool expiry (5 s), and uvicorn
starts counting when it writes the answer, before the client has read it: a
client reusing a connection idle for just under 5 s sends its request as the
server closes the socket, and gets a reset (httpx ``ReadError``, requests
``ConnectionError``). ``--server-keep-alive 1 --client-expiry 1`` is the same race,
five times faster; a server keep-alive longer than the client's idle time never
closes a connection the client is about to reuse.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import requests

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def tiny_app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """An ASGI app answering every request with 200 "ok"."""
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


def run_server(port: int, keep_alive: int) -> None:
    """uvicorn serving :func:`tiny_app` (the child process)."""
    import uvicorn

    uvicorn.run(
        tiny_app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=keep_alive,
    )


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, deadline: float) -> None:
    """Return once something accepts connections on ``port``; raise at ``deadline``."""
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not start")


def describe(exc: BaseException) -> str:
    """An exception's type and its root cause (a reset or a clean close)."""
    root: BaseException = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    if root is exc:
        return type(exc).__name__
    return f"{type(exc).__name__} ({type(root).__name__}: {root})"


def client_loop(
    url: str, kind: str, expiry: float, window: float, until: float, tally: Counter[str]
) -> None:
    """One client: request, idle just under ``expiry``, request again, until ``until``."""
    rng = random.Random()
    if kind == "httpx":
        limits = httpx.Limits(max_connections=1, keepalive_expiry=expiry)
        with httpx.Client(limits=limits, timeout=10) as client:
            while time.monotonic() < until:
                try:
                    client.get(url)
                    tally["answered"] += 1
                except httpx.HTTPError as exc:
                    tally[describe(exc)] += 1
                time.sleep(rng.uniform(expiry - window, expiry))
        return
    with requests.Session() as session:
        while time.monotonic() < until:
            try:
                session.get(url, timeout=10)
                tally["answered"] += 1
            except requests.RequestException as exc:
                tally[describe(exc)] += 1
            time.sleep(rng.uniform(expiry - window, expiry))


def main(argv: list[str] | None = None) -> int:
    """Run the loop; exit 1 when any request ended in an exception."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-keep-alive", type=int, default=1)
    parser.add_argument("--client-expiry", type=float, default=1.0)
    parser.add_argument(
        "--window",
        type=float,
        default=0.05,
        help="idle times are drawn from [expiry-window, expiry)",
    )
    parser.add_argument("--client", choices=("httpx", "requests"), default="httpx")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--url", help="a running server to send the requests to")
    args = parser.parse_args(argv)
    port = free_port()
    url = args.url or f"http://127.0.0.1:{port}/"
    server = multiprocessing.Process(
        target=run_server, args=(port, args.server_keep_alive), daemon=True
    )
    if not args.url:
        server.start()
    try:
        if not args.url:
            wait_listening(port, time.monotonic() + 30)
        # One counter per thread: ``+=`` on a shared Counter is not atomic.
        tallies: list[Counter[str]] = [Counter() for _ in range(args.connections)]
        until = time.monotonic() + args.seconds
        workers = [
            threading.Thread(
                target=client_loop,
                args=(
                    url,
                    args.client,
                    args.client_expiry,
                    args.window,
                    until,
                    tallies[i],
                ),
            )
            for i in range(args.connections)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        if not args.url:
            server.terminate()
            server.join(10)
    tally = sum(tallies, Counter[str]())
    failed = sum(n for k, n in tally.items() if k != "answered")
    expiry = f"pool expiry {args.client_expiry:g} s" if args.client == "httpx" else "no expiry"
    where = args.url or f"uvicorn with keep-alive {args.server_keep_alive} s"
    print(
        f"{where}, {args.client} client idle "
        f"{args.client_expiry - args.window:g}-{args.client_expiry:g} s ({expiry}), "
        f"{args.connections} connections, {args.seconds:g} s: "
        f"{tally['answered']} answered, {failed} exceptions"
    )
    for kind, n in sorted(tally.items()):
        if kind != "answered":
            print(f"  {n:5d}  {kind}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
