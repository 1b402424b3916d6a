"""A real guest's serial console through the websocket proxy, served by uvicorn.

The whole cloud (QEMU driver) runs in a real uvicorn server on a free loopback
port, as ``kumo serve`` runs it; the server is booted and its console URL taken
through the compute API; then a real websocket client (``websockets``) talks to
the guest's getty on ttyS0: a newline brings the login prompt back, a typed
user name is echoed by the guest's tty and answered by ``login``'s password
prompt, and everything also lands in the console log. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from kumo.agents.compute.virt.driver import ConsoleUnavailable, GuestSpec, VirtError
from kumo.agents.compute.virt.fake import FakeDriver
from kumo.agents.compute.virt.qemu import QemuDriver
from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.compute.virt.qemu.instance import InstanceDir
from kumo.app import build_app
from kumo.common.config import Settings
from kumo.compute.service.flavors import bootstrap_flavors
from kumo.guest.image import GuestImage
from kumo.guest.register import GUEST_IMAGE_ID, register_guest_image
from kumo.identity.service.core import Identity
from tests.agents.guestlib import (
    DEADLINE,
    FINISHED,
    boot_server,
    console_output,
    delete_server,
    qemu_settings,
    remote_console_url,
    wait_status,
)
from tests.conftest import ADMIN_PASSWORD, password_auth

pytestmark = pytest.mark.guest

#: How long the guest may take to answer one line typed on its console.
ANSWER_DEADLINE = 30.0


@pytest.fixture
def settings(
    settings: Settings, qemu_state: Path, guest_image: GuestImage, accelerator: Accelerator
) -> Settings:
    """The test settings on a short state dir (unix socket paths), with the QEMU driver.

    SQLite only: nothing of the console depends on the database, and each run boots a guest.
    """
    return qemu_settings(
        settings,
        qemu_state,
        guest_image,
        accelerator,
        sqlite_only="the serial console does not depend on the database (one guest, on SQLite)",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(ident: Identity, guest_image: GuestImage) -> Iterator[str]:
    """The whole cloud under a real uvicorn server (websockets on); its base URL."""
    bootstrap_flavors(ident.db)
    assert register_guest_image(ident.settings, ident.db, guest_image) == GUEST_IMAGE_ID
    port = _free_port()
    config = uvicorn.Config(
        build_app(ident.settings, ident.db),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    end = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < end, "uvicorn did not start within 60 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def _token(http: httpx.Client) -> str:
    resp = http.post(
        "/identity/v3/auth/tokens",
        json=password_auth("admin", ADMIN_PASSWORD, project="admin"),
    )
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


def _read_until(ws: ClientConnection, seen: bytearray, needle: bytes, deadline: float) -> bool:
    """Append what the console sends to ``seen`` until ``needle`` shows after its start."""
    start = len(seen)
    end = time.monotonic() + deadline
    while needle not in seen[start:]:
        left = end - time.monotonic()
        if left <= 0:
            return False
        try:
            data = ws.recv(timeout=min(left, 1.0))
        except TimeoutError:
            continue
        seen += data if isinstance(data, bytes) else data.encode()
    return True


def _console_url(http: httpx.Client, server_id: str) -> str:
    return remote_console_url(http, server_id, "serial", "serial")


def test_serial_console_of_a_real_guest(served: str) -> None:
    http = httpx.Client(base_url=served, timeout=60)
    http.headers["X-Auth-Token"] = _token(http)
    name = f"ser-{uuid.uuid4().hex[:6]}"
    server_id = boot_server(http, name, GUEST_IMAGE_ID)
    wait_status(http, server_id, "ACTIVE")
    url = _console_url(http, server_id)
    assert url.startswith(served.replace("http://", "ws://") + "/compute/serial-console/?token=")

    seen = bytearray()
    with connect(url, subprotocols=["binary"], open_timeout=30) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "binary"
        # Connected while the guest boots: its output streams live; once init has
        # finished, getty waits on ttyS0 and a newline brings its prompt back.
        end = time.monotonic() + DEADLINE
        prompt = f"{name} login:".encode()
        while prompt not in seen:
            assert time.monotonic() < end, f"no login prompt within {DEADLINE:g} s: {seen!r}"
            if FINISHED in console_output(http, server_id):
                ws.send(b"\n")
            _read_until(ws, seen, prompt, 3.0)
        live_boot = FINISHED.encode() in seen
        # Typed input reaches the guest's tty (which echoes it) and login answers it.
        probe = f"kumo{uuid.uuid4().hex[:8]}"
        typed = time.monotonic()
        ws.send(f"{probe}\n".encode())
        assert _read_until(ws, seen, b"Password:", ANSWER_DEADLINE), seen[-500:]
        answer_seconds = time.monotonic() - typed
        assert probe.encode() in seen
        ws.send(b"\n")  # an empty password: refused, and getty prompts again
        assert _read_until(ws, seen, prompt, ANSWER_DEADLINE), seen[-500:]
    print(
        f"\nserial console: boot output seen live: {live_boot}; "
        f"typed line answered in {answer_seconds:.2f} s; {len(seen)} bytes read"
    )
    # What went through the websocket is what the guest wrote to its console log.
    log = console_output(http, server_id)
    assert probe in log and "Password:" in log

    # QEMU's chardev takes one client at a time: the first one's close freed it.
    second = bytearray()
    with connect(_console_url(http, server_id), open_timeout=30) as ws:
        ws.send("\n")  # a text frame works too
        assert _read_until(ws, second, prompt, ANSWER_DEADLINE), second[-500:]

    # A deleted server's console URL is refused at the handshake (403), as Nova's proxy
    # drops it: no websocket opens.
    delete_server(http, server_id)
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=30)
    assert refused.value.response.status_code == 403


def test_drivers_without_a_running_guest_have_no_console(tmp_path: Path) -> None:
    """No guest boots here: the drivers' answers when there is no console to reach."""
    driver = QemuDriver(tmp_path, host_name="h", accel="tcg")
    files = InstanceDir(driver.instances_dir, "stopped")
    files.path.mkdir(parents=True)
    files.boot_config.write_text("{}")  # defined on the host, its QEMU not running
    with pytest.raises(ConsoleUnavailable, match="instance stopped is not running on host h"):
        asyncio.run(driver.serial_console("stopped"))
    with pytest.raises(VirtError, match="could not be found") as unknown:
        asyncio.run(driver.serial_console("unknown"))
    assert not isinstance(unknown.value, ConsoleUnavailable)

    fake = FakeDriver("f")
    asyncio.run(fake.spawn(GuestSpec(uuid="g", name="g", vcpus=1, memory_mb=64, root_gb=1)))
    with pytest.raises(ConsoleUnavailable, match="runs on the fake virt driver"):
        asyncio.run(fake.serial_console("g"))
