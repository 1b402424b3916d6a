"""A real q35 guest's VNC console through noVNC's URL and the websocket proxy.

The whole cloud (QEMU driver, host default microvm) runs under uvicorn as in
``test_serial_console``. A copy of ``kumo-guest`` with ``hw_machine_type=q35``
is made through the image API, a server boots from it, and its VNC console URL
is taken through the compute API: noVNC's page, whose ``path`` parameter is the
websocket. The test speaks RFB over that websocket itself (what noVNC does in a
browser): version, security type None, ClientInit, ServerInit (the display's
size and QEMU's name for the guest), then a full framebuffer update request,
answered with pixels. The screenshot extension returns a PNG of the same size.

The other tests here boot nothing: the QEMU command line of a display, and the
drivers' answers for guests without one.
"""

from __future__ import annotations

import asyncio
import struct
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from kumo.agents.compute.virt.driver import ConsoleUnavailable, GuestSpec, NoDisplay
from kumo.agents.compute.virt.fake import FakeDriver
from kumo.agents.compute.virt.qemu import QemuDriver
from kumo.agents.compute.virt.qemu.instance import (
    BootConfig,
    InstanceDir,
    kernel_command_line,
    qemu_command,
)
from kumo.compute.api.novnc import NOVNC_DIR
from kumo.guest.register import GUEST_IMAGE_ID
from tests.agents.guestlib import (
    FINISHED,
    C,
    boot_server,
    delete_server,
    remote_console_url,
    wait_console,
    wait_status,
)
from tests.agents.test_serial_console import (  # noqa: F401 (fixtures used by name)
    _token,
    served,
    settings,
)

#: How long one RFB message may take to arrive (the guest's QEMU runs under TCG).
READ_DEADLINE = 30.0


class RFBStream:
    """Reads exact byte counts from RFB carried in websocket frames (split anyhow)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.buffer = bytearray()

    def read(self, count: int) -> bytes:
        end = time.monotonic() + READ_DEADLINE
        while len(self.buffer) < count:
            left = end - time.monotonic()
            assert left > 0, f"RFB: {count} bytes not read within {READ_DEADLINE:g} s"
            try:
                data = self.ws.recv(timeout=min(left, 1.0))
            except TimeoutError:
                continue
            self.buffer += data if isinstance(data, bytes) else data.encode()
        chunk = bytes(self.buffer[:count])
        del self.buffer[:count]
        return chunk


def _q35_image(http: httpx.Client) -> str:
    """A public copy of kumo-guest that boots on q35 (a user's image with hw_machine_type)."""
    data = http.get(f"/image/v2/images/{GUEST_IMAGE_ID}/file")
    assert data.status_code == 200, data.text
    resp = http.post(
        "/image/v2/images",
        json={
            "name": f"kumo-guest-q35-{uuid.uuid4().hex[:6]}",
            "disk_format": "qcow2",
            "container_format": "bare",
            "kumo_guest": "true",
            "os_type": "linux",
            "hw_machine_type": "q35",
        },
    )
    assert resp.status_code == 201, resp.text
    image_id = str(resp.json()["id"])
    upload = http.put(
        f"/image/v2/images/{image_id}/file",
        content=data.content,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 204, upload.text
    assert http.get(f"/image/v2/images/{image_id}").json()["status"] == "active"
    return image_id


def _vnc_url(http: httpx.Client, server_id: str) -> str:
    return remote_console_url(http, server_id, "vnc", "novnc")


def _rfb_session(url: str) -> tuple[int, int, str, int]:
    """Handshake, then one full update: (width, height, desktop name, distinct pixels)."""
    with connect(url, subprotocols=["binary"], open_timeout=30) as ws:  # type: ignore[list-item]
        rfb = RFBStream(ws)
        version = rfb.read(12)
        assert version == b"RFB 003.008\n", version
        ws.send(version)
        count = rfb.read(1)[0]
        assert count > 0, "the server refused the connection"
        assert 1 in rfb.read(count), "security type None is not offered"
        ws.send(b"\x01")
        assert rfb.read(4) == b"\x00\x00\x00\x00", "security handshake failed"
        ws.send(b"\x01")  # ClientInit: shared
        width, height = struct.unpack(">HH", rfb.read(4))
        pixel_format = rfb.read(16)
        bits_per_pixel = pixel_format[0]
        (name_length,) = struct.unpack(">I", rfb.read(4))
        name = rfb.read(name_length).decode(errors="replace")
        # SetEncodings: Raw only, so that the answer is plain pixels.
        ws.send(struct.pack(">BxHi", 2, 1, 0))
        ws.send(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        pixels = bytearray()
        while True:
            message = rfb.read(1)[0]
            if message == 0:  # FramebufferUpdate
                break
            assert message in (1, 2), f"unexpected RFB message {message}"
            if message == 2:  # Bell
                continue
            _, _first, colours = struct.unpack(">xHH", rfb.read(5))
            rfb.read(6 * colours)  # SetColourMapEntries
        (rects,) = struct.unpack(">xH", rfb.read(3))
        assert rects > 0
        for _ in range(rects):
            _, _, w, h, encoding = struct.unpack(">HHHHi", rfb.read(12))
            if encoding == -223:  # DesktopSize pseudo-encoding: no pixels
                continue
            assert encoding == 0, f"asked for Raw, got encoding {encoding}"
            pixels += rfb.read(w * h * bits_per_pixel // 8)
    assert len(pixels) == width * height * bits_per_pixel // 8
    step = bits_per_pixel // 8
    distinct = len({bytes(pixels[i : i + step]) for i in range(0, len(pixels), step)})
    return width, height, name, distinct


def test_vnc_console_of_a_real_q35_guest(served: str) -> None:  # noqa: F811
    http = httpx.Client(base_url=served, timeout=60)
    http.headers["X-Auth-Token"] = _token(http)
    image_id = _q35_image(http)
    name = f"vnc-{uuid.uuid4().hex[:6]}"
    server_id = boot_server(http, name, image_id)
    booted = time.monotonic()
    wait_status(http, server_id, "ACTIVE")
    # With the VGA console added, init still prints to the serial one (/dev/console).
    wait_console(http, server_id, FINISHED)
    finished_seconds = time.monotonic() - booted

    url = _vnc_url(http, server_id)
    page, _, query = url.partition("?")
    assert page == f"{served}/compute/novnc/vnc_lite.html"
    assert parse_qs(query)["path"][0].startswith("compute/vnc-console/?token=")
    websocket = _websocket_of(served, url)

    if NOVNC_DIR.is_dir():
        # The page the URL opens, and the module it loads, are served (Debian's novnc).
        html = httpx.get(url, timeout=30)  # no Keystone token: the browser holds none
        assert html.status_code == 200 and "RFB" in html.text, html.text[:300]
        assert html.headers["content-type"].startswith("text/html")
        assert httpx.get(f"{served}/compute/novnc/core/rfb.js", timeout=30).status_code == 200

    width, height, desktop, distinct = _rfb_session(websocket)
    assert width > 0 and height > 0
    assert server_id in desktop, desktop  # QEMU names the display after -name kumo-<uuid>
    # Something is drawn (the firmware's and kernel's text on the VGA console).
    assert distinct > 1, "the framebuffer is one flat colour"
    # A new URL (a new token) opens it again: the first viewer's close freed nothing it held.
    again = _vnc_url(http, server_id)
    assert _token_of(again) != _token_of(url)
    assert _rfb_session(_websocket_of(served, again))[:2] == (width, height)

    shot = http.get(f"{C}/servers/{server_id}/screenshot")
    assert shot.status_code == 200, shot.text
    assert shot.headers["content-type"] == "image/png"
    assert shot.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", shot.content[16:24]) == (width, height)  # the IHDR chunk

    # A VNC token does not open the serial console (the token records its type): the
    # handshake is refused (403), as a bad token is.
    token = _token_of(url)
    serial = f"{served.replace('http://', 'ws://')}/compute/serial-console/?token={token}"
    with pytest.raises(InvalidStatus) as refused:
        connect(serial, open_timeout=30)
    assert refused.value.response.status_code == 403
    print(
        f"\nvnc console: q35 guest finished init in {finished_seconds:.1f} s; display "
        f"{width}x{height} '{desktop}', {distinct} distinct colours; "
        f"screenshot {len(shot.content)} bytes PNG"
    )

    delete_server(http, server_id)


def _websocket_of(base: str, novnc_url: str) -> str:
    """The websocket noVNC opens for its page's URL: ``ws://<page's host>/<path>``."""
    path = parse_qs(urlsplit(novnc_url).query)["path"][0]
    return f"{base.replace('http://', 'ws://')}/{path}"


def _token_of(novnc_url: str) -> str:
    path = parse_qs(urlsplit(novnc_url).query)["path"][0]
    return parse_qs(urlsplit(path).query)["token"][0]


# --- no guest boots below ---------------------------------------------------------


def _boot(machine: str) -> BootConfig:
    return BootConfig(
        uuid="u1", name="n", vcpus=1, memory_mb=128, root_gb=1, machine=machine,
        accel="tcg", kernel="/k", initrd="/i",
        kernel_args=kernel_command_line(machine, "tcg", 2_000_000, ""),
    )  # fmt: skip


def test_q35_and_pc_guests_get_a_vga_display_on_a_unix_vnc_socket(tmp_path: Path) -> None:
    files = InstanceDir(tmp_path, "u1")
    for machine in ("q35", "pc"):
        boot = _boot(machine)
        command = qemu_command("qemu-system-x86_64", boot, files)
        assert command[command.index("-vga") + 1] == "std"
        assert command[command.index("-vnc") + 1] == f"unix:{files.vnc_socket}"
        assert command[command.index("-display") + 1] == "none"  # no window, VNC only
        # The VGA console gets kernel messages; the serial one, last, stays /dev/console.
        consoles = [a for a in boot.kernel_args.split() if a.startswith("console=")]
        assert consoles == ["console=tty0", "console=ttyS0"]
    microvm = _boot("microvm")
    command = qemu_command("qemu-system-x86_64", microvm, files)
    assert "-vnc" not in command and "-vga" not in command
    assert [a for a in microvm.kernel_args.split() if a.startswith("console=")] == ["console=ttyS0"]


def test_drivers_without_a_display_say_so(tmp_path: Path) -> None:
    driver = QemuDriver(tmp_path, host_name="h", accel="tcg")
    for machine in ("microvm", "q35"):
        files = InstanceDir(driver.instances_dir, machine)
        files.path.mkdir(parents=True)
        _boot(machine).save(files.boot_config)  # defined, its QEMU not running
    with pytest.raises(NoDisplay, match="hw_machine_type=q35"):
        asyncio.run(driver.vnc_console("microvm"))
    with pytest.raises(NoDisplay, match="has no display"):
        asyncio.run(driver.screenshot("microvm"))
    with pytest.raises(ConsoleUnavailable, match="not running with a display on host h") as q35:
        asyncio.run(driver.vnc_console("q35"))
    assert not isinstance(q35.value, NoDisplay)

    fake = FakeDriver("f")
    asyncio.run(fake.spawn(GuestSpec(uuid="g", name="g", vcpus=1, memory_mb=64, root_gb=1)))
    # Like Nova's fake driver: a console to make URLs for, with nothing behind it.
    console: Any = asyncio.run(fake.vnc_console("g"))
    assert (console.host, console.path) == ("f", None)
    with pytest.raises(ConsoleUnavailable, match="driver offers none"):
        asyncio.run(fake.screenshot("g"))
