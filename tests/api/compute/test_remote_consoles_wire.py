"""The VNC console proxy on the wire, as tempest's ``test_novnc`` speaks to it.

The compute API runs under a real uvicorn server (the HTTP upgrade and the
websocket frames are the server's, not a test client's), with the fake
compute RPC of ``servers_cloud`` naming a unix socket where a small RFB 3.8
server stands in for QEMU's VNC server. The client is a raw socket doing what
tempest's ``NoVNCValidateMixin`` does against nova-novncproxy: the noVNC page,
the upgrade (``Sec-WebSocket-Protocol: binary``), then the RFB handshake one
unmasked frame per message; and with a bad token, nothing at all comes back.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn

from kumo.compute.api.novnc import NOVNC_DIR
from tests.api.compute._servers import ServersCloud
from tests.api.compute._unix_console import OneClientServer

VNC = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
#: What QEMU names the display (``-name kumo-<uuid>``): fits one short frame.
DESKTOP = b"kumo-" + b"0" * 36
#: How long a socket read may block before the test fails.
READ_TIMEOUT = 10.0


class RFBServer(OneClientServer):
    """QEMU's VNC server, reduced to the handshake: RFB 3.8, security None, ServerInit."""

    def __init__(self, path: Path) -> None:
        self.client_init: bytes = b""
        self.finished = threading.Event()
        super().__init__(path)

    def talk(self, conn: socket.socket) -> None:
        try:
            conn.sendall(b"RFB 003.008\n")
            assert _read_exact(conn, 12) == b"RFB 003.008\n"
            conn.sendall(b"\x01\x01")  # one security type: None
            assert _read_exact(conn, 1) == b"\x01"
            conn.sendall(b"\x00\x00\x00\x00")  # SecurityResult: OK
            self.client_init = _read_exact(conn, 1)
            pixel_format = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
            conn.sendall(
                struct.pack(">HH", 640, 480) + pixel_format + struct.pack(">I", len(DESKTOP))
                + DESKTOP
            )  # fmt: skip
            self.finished.set()
            conn.recv(1)  # until the proxy closes its side
        except (OSError, AssertionError):
            pass


def _read_exact(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


class RawWebSocket:
    """tempest's ``_WebSocket``: an HTTP upgrade by hand, then frames under 126 bytes."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        request = (
            f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: binary\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            data = self.sock.recv(4096)
            if not data:
                break
            response += data
        head, _, self.pending = response.partition(b"\r\n\r\n")
        self.response = head + b"\r\n\r\n"

    def _recv(self, count: int) -> bytes:
        while len(self.pending) < count:
            data = self.sock.recv(4096)
            if not data:
                break
            self.pending += data
        chunk, self.pending = self.pending[:count], self.pending[count:]
        return chunk

    def receive_frame(self) -> bytes | None:
        """The next non-empty frame's payload (server frames are unmasked); None at EOF."""
        while True:
            header = self._recv(2)
            if len(header) < 2:
                return None
            length = header[1] & 127
            assert length < 126, "tempest reads only frames under 126 bytes"
            if length:
                return self._recv(length)

    def send_frame(self, data: bytes) -> None:
        """One masked binary frame."""
        mask = bytes((7, 2, 1, 9))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(bytes((130, len(data) | 128)) + mask + masked)

    def rest(self) -> bytes:
        """Everything until the server closes the connection."""
        data = self.pending
        end = time.monotonic() + READ_TIMEOUT
        while time.monotonic() < end:
            chunk = self.sock.recv(4096)
            if not chunk:
                return data
            data += chunk
        raise AssertionError(f"the server kept the connection open; sent {data!r}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def served(servers_cloud: ServersCloud) -> Iterator[int]:
    """The cloud's app under uvicorn on a free loopback port; the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    # The test client already ran the app's lifespan; uvicorn only serves it.
    config = uvicorn.Config(
        servers_cloud.client.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < end, "uvicorn did not start within 30 s"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def rfb_server(servers_cloud: ServersCloud) -> Iterator[RFBServer]:
    """An :class:`RFBServer` that the compute RPC names as every server's VNC console."""
    path = Path(f"/tmp/krfb-{uuid.uuid4().hex[:8]}.sock")
    fake = RFBServer(path)

    async def vnc_console(host: str, instance_uuid: str) -> dict[str, Any]:
        return {"host": host, "port": None, "internal_access_path": str(path)}

    servers_cloud.rpc.vnc_console = vnc_console  # type: ignore[attr-defined]
    try:
        yield fake
    finally:
        fake.close()
        path.unlink(missing_ok=True)


def _novnc_url(c: ServersCloud, port: int) -> str:
    """A VNC console URL of a new server, pointed at the uvicorn port."""
    sid = c.demo.boot()["id"]
    resp = c.demo.action(sid, {"os-getVNCConsole": {"type": "novnc"}}, "2.1")
    assert resp.status_code == 200, resp.text
    url = str(resp.json()["console"]["url"])
    return url.replace("http://127.0.0.1:8780/", f"http://127.0.0.1:{port}/")


def _websocket_path(url: str) -> str:
    return parse_qs(urlsplit(url).query)["path"][0]


def test_novnc_handshake_through_the_proxy_as_tempest_does_it(
    servers_cloud: ServersCloud, served: int, rfb_server: RFBServer
) -> None:
    url = _novnc_url(servers_cloud, served)
    if NOVNC_DIR.is_dir():
        page = httpx.get(url, timeout=READ_TIMEOUT)
        assert page.status_code == 200
        assert "<html" in page.text and "</html>" in page.text
        assert "noVNC" in page.text and "<script" in page.text
    ws = RawWebSocket(served, _websocket_path(url))
    try:
        assert ws.response.startswith(b"HTTP/1.1 101 Switching Protocols"), ws.response
        assert b"upgrade: websocket" in ws.response.lower()
        assert b"sec-websocket-protocol: binary" in ws.response.lower()
        version = ws.receive_frame()
        assert version == b"RFB 003.008\n"
        ws.send_frame(version)
        assert ws.receive_frame() == b"\x01\x01"  # security types: [None]
        ws.send_frame(b"\x01")
        assert ws.receive_frame() == b"\x00\x00\x00\x00"
        ws.send_frame(b"\x01")  # ClientInit: shared
        init = ws.receive_frame()
        assert init is not None and len(init) > 24
        assert struct.unpack(">L", init[20:24])[0] + 24 == len(init)
        assert init[24:] == DESKTOP
    finally:
        ws.close()
    assert rfb_server.finished.wait(READ_TIMEOUT)
    assert rfb_server.client_init == b"\x01"


def test_a_bad_token_gets_403_and_no_frame(
    servers_cloud: ServersCloud, served: int, rfb_server: RFBServer
) -> None:
    url = _novnc_url(servers_cloud, served)
    # tempest's test_novnc_bad_token: "token=" becomes "token=bad" in the path.
    bad = _websocket_path(url).replace("token=", "token=bad")
    ws = RawWebSocket(served, bad)
    try:
        assert ws.response.startswith(b"HTTP/1.1 403"), ws.response
        # nova-novncproxy drops such a connection; tempest reads nothing back (no close
        # frame either: its payload would read as data).
        assert ws.rest() == b""
    finally:
        ws.close()
    assert rfb_server.connections == 0
