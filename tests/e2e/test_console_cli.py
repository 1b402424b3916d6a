"""`openstack console url show --serial`, and the URL it prints, on the cloud `kumo up` started.

The CLI asks for the serial console URL of a demo user's server; the URL must be
the websocket proxy of this very cloud, and a websocket client must be able to
open it on the server `kumo serve` runs (uvicorn with websockets), agree on the
``binary`` subprotocol and then either reach the guest's getty (QEMU driver: a
newline typed through the websocket brings back its login prompt) or be told
why there is no console (fake driver). Graphical consoles are refused with
Nova's message.
"""

from __future__ import annotations

import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.clients import Cloud, unique

DEMO = "devstack"
#: Bounded wait for the guest's login prompt (a TCG guest boots slowly on a busy host).
DEADLINE = 300.0


def test_serial_console_url_through_the_cli(cloud: Cloud) -> None:
    server: dict[str, Any] = cloud.openstack(
        "server", "create", "--image", "kumo-guest", "--flavor", "m1.tiny",
        "--nic", "none", "--wait", unique("console"), cloud=DEMO,
    )  # fmt: skip
    try:
        shown = cloud.openstack("console", "url", "show", "--serial", server["id"], cloud=DEMO)
        assert shown["type"] == "serial", shown
        prefix = f"ws://127.0.0.1:{cloud.port}/compute/serial-console/?token="
        assert shown["url"].startswith(prefix), shown
        error = cloud.openstack_fails("console", "url", "show", "--novnc", server["id"], cloud=DEMO)
        assert "Unavailable console type novnc." in error, error

        with connect(shown["url"], subprotocols=["binary"], open_timeout=30) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "binary"
            received = b""
            end = time.monotonic() + DEADLINE
            try:
                # A booting guest streams its boot; once up, its getty answers a newline.
                while b"login:" not in received:
                    assert time.monotonic() < end, f"no login prompt: {received[-500:]!r}"
                    ws.send(b"\n")
                    silent_until = time.monotonic() + 5
                    while time.monotonic() < silent_until and b"login:" not in received:
                        try:
                            data = ws.recv(timeout=1.0)
                        except TimeoutError:
                            continue
                        received += data if isinstance(data, bytes) else data.encode()
                print(
                    f"\nserial console over websocket: {len(received)} B, ends {received[-40:]!r}"
                )
            except ConnectionClosed as closed:
                # The fake virt driver has no console, and says so.
                assert closed.rcvd is not None and closed.rcvd.code == 1011, closed
                assert "fake virt driver" in closed.rcvd.reason, closed
                print(f"\nserial console refused as expected: {closed.rcvd.reason}")
    finally:
        cloud.openstack_ok("server", "delete", "--wait", server["id"], cloud=DEMO)
