"""`openstack console url show --serial`, and the URL it prints, on the cloud `kumo up` started.

The CLI asks for the serial console URL of a demo user's server; the URL must be
the websocket proxy of this very cloud, and a websocket client must be able to
open it on the server `kumo serve` runs (uvicorn with websockets), agree on the
``binary`` subprotocol and then either reach the guest's getty (QEMU driver: a
newline typed through the websocket brings back its login prompt) or be told
why there is no console (fake driver). A VNC console of this microvm guest is
refused with the reason (no display); SPICE with Nova's message.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
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
        # kumo-guest boots on microvm (no display): no VNC console, and the answer says why.
        argv = cloud.openstack_cmd(("console", "url", "show", "--novnc", server["id"]), DEMO, True)
        novnc = cloud.run(argv)
        if novnc.returncode == 0:  # the fake virt driver: a URL with nothing behind it
            url = json.loads(novnc.stdout)["url"]
            assert url.startswith(
                f"http://127.0.0.1:{cloud.port}/compute/novnc/vnc_lite.html?path="
            )
        else:
            assert "Unavailable console type novnc: " in novnc.stderr, novnc.stderr
            assert "hw_machine_type=q35" in novnc.stderr, novnc.stderr
        error = cloud.openstack_fails("console", "url", "show", "--spice", server["id"], cloud=DEMO)
        assert "Unavailable console type spice-html5." in error, error

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


def test_novnc_console_url_through_the_cli(cloud: Cloud, tmp_path: Path) -> None:
    # A user's image that boots on q35 (so the guest has a display): kumo-guest's disk
    # saved and uploaded again with hw_machine_type=q35, all through the CLI.
    disk = tmp_path / "kumo-guest.qcow2"
    cloud.openstack_ok("image", "save", "--file", str(disk), "kumo-guest", cloud=DEMO)
    image: dict[str, Any] = cloud.openstack(
        "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
        "--file", str(disk), "--property", "hw_machine_type=q35", unique("q35"), cloud=DEMO,
    )  # fmt: skip
    server: dict[str, Any] = cloud.openstack(
        "server", "create", "--image", image["id"], "--flavor", "m1.tiny",
        "--nic", "none", "--wait", unique("vnc"), cloud=DEMO,
    )  # fmt: skip
    try:
        shown = cloud.openstack("console", "url", "show", "--novnc", server["id"], cloud=DEMO)
        assert shown["type"] == "novnc", shown
        page = f"http://127.0.0.1:{cloud.port}/compute/novnc/vnc_lite.html"
        assert shown["url"].startswith(f"{page}?path=compute%2Fvnc-console%2F"), shown
        if Path("/usr/share/novnc").is_dir():
            # What a browser opens first: noVNC's page, with no Keystone token.
            assert httpx.get(shown["url"], timeout=30).status_code == 200
        path = parse_qs(urlsplit(shown["url"]).query)["path"][0]
        websocket = f"ws://127.0.0.1:{cloud.port}/{path}"
        with connect(websocket, subprotocols=["binary"], open_timeout=30) as ws:  # type: ignore[list-item]
            try:
                greeting = ws.recv(timeout=30)
            except ConnectionClosed as closed:
                # The fake virt driver has a VNC console with nothing behind it.
                assert closed.rcvd is not None and closed.rcvd.code == 1011, closed
                print(f"\nVNC console refused as expected: {closed.rcvd.reason}")
            else:
                assert greeting == b"RFB 003.008\n", greeting  # QEMU's VNC server speaks
                print("\nVNC console over websocket: RFB 003.008")
    finally:
        cloud.openstack_ok("server", "delete", "--wait", server["id"], cloud=DEMO)
        cloud.openstack_ok("image", "delete", image["id"], cloud=DEMO)
