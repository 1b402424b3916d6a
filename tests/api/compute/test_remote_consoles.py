"""Remote consoles: URL formats, errors, policy, token life and the websocket proxy.

The servers run on the fake compute RPC of ``servers_cloud`` (the console's
location is injected per test) or, for the real bus path, on a whole cloud
with the fake virt driver, whose answer is "not available".
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.websockets import WebSocketDisconnect

from kumo.common.bus import RemoteError
from kumo.common.config import Settings
from kumo.common.policy import Enforcer
from kumo.compute import policies, states
from kumo.compute.consoles import SECRET_FILE, ConsoleTokens, InvalidConsoleToken, console_tokens
from kumo.compute.service import servers as servers_service
from tests.api.compute._servers import FAKE_HOST, ServersCloud
from tests.api.compute._unix_console import OneClientServer
from tests.functional.compute.conftest import (  # noqa: F401 (make_cloud: a fixture)
    Cloud,
    make_cloud,
)

SERIAL = {"remote_console": {"protocol": "serial", "type": "serial"}}
WS_PREFIX = "ws://127.0.0.1:8780/compute/serial-console/?token="


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(servers_cloud: ServersCloud) -> Clock:
    """The compute app's console tokens on a hand-moved clock (TTL 600 s)."""
    c = Clock()
    servers_cloud.app_state.console_tokens = ConsoleTokens(b"test key", 600, clock=c)
    return c


def _url(c: ServersCloud, server_id: str, mv: str = "2.6", caller: Any = None) -> str:
    resp = (caller or c.demo).post(f"/servers/{server_id}/remote-consoles", SERIAL, mv)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["remote_console"]["url"])


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def _ws_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# --- POST /servers/{id}/remote-consoles -------------------------------------------


def test_serial_console_url_has_nova_shape(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    for mv in ("2.6", "2.8", "2.99", "latest"):
        resp = c.demo.post(f"/servers/{sid}/remote-consoles", SERIAL, mv)
        assert resp.status_code == 200, (mv, resp.text)
        body = resp.json()
        assert set(body) == {"remote_console"}
        console = body["remote_console"]
        assert (console["protocol"], console["type"]) == ("serial", "serial")
        assert console["url"].startswith(WS_PREFIX)
        token = _token(console["url"])
        assert len(token) >= 100 and "=" not in token


def test_every_url_carries_a_new_unguessable_token(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    tokens = {_token(_url(c, sid)) for _ in range(5)}
    assert len(tokens) == 5
    # The token reveals nothing: neither the server id nor the host appear in it.
    for token in tokens:
        assert sid not in token and FAKE_HOST not in token


#: (microversion, protocol, type, Nova's 400 message)
UNAVAILABLE = [
    ("2.6", "vnc", "novnc", "Unavailable console type novnc."),
    ("2.6", "spice", "spice-html5", "Unavailable console type spice-html5."),
    ("2.6", "rdp", "rdp-html5", "Unavailable console type rdp."),
    ("2.8", "mks", "webmks", "Unavailable console type webmks."),
    ("2.6", "serial", "novnc", "Invalid console type novnc"),
]


def test_other_console_types_are_unavailable(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    for mv, protocol, kind, message in UNAVAILABLE:
        body = {"remote_console": {"protocol": protocol, "type": kind}}
        resp = c.demo.post(f"/servers/{sid}/remote-consoles", body, mv)
        assert resp.status_code == 400, (protocol, resp.text)
        assert resp.json() == {"badRequest": {"code": 400, "message": message}}


#: (body, microversion, part of the 400 message)
BAD_BODIES: list[tuple[Any, str, str]] = [
    ({}, "2.6", "'remote_console' is a required property"),
    ({"remote_console": {"protocol": "serial"}}, "2.6", "'type' is a required property"),
    ({"remote_console": {"protocol": "ssh", "type": "serial"}}, "2.6", "is not one of"),
    ({"remote_console": {"protocol": "mks", "type": "webmks"}}, "2.7", "is not one of"),
    ({"remote_console": {**SERIAL["remote_console"], "x": 1}}, "2.6", "'x'"),
    ({**SERIAL, "extra": 1}, "2.6", "'extra'"),
    ({"remote_console": "serial"}, "2.6", "is not of type 'object'"),
    ([1, 2], "2.6", "is not of type 'object'"),
]


def test_bad_bodies_are_400(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    for body, mv, needle in BAD_BODIES:
        resp = c.demo.post(f"/servers/{sid}/remote-consoles", body, mv)
        assert resp.status_code == 400, (body, resp.text)
        assert needle in resp.json()["badRequest"]["message"], (body, resp.text)
    # Not JSON at all.
    resp = c.client.post(
        f"/compute/v2.1/servers/{sid}/remote-consoles",
        content=b"{nope",
        headers={**c.demo.headers("2.6"), "Content-Type": "application/json"},
    )
    assert resp.status_code == 400, resp.text
    assert "badRequest" in resp.json()


def test_remote_consoles_need_2_6(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", SERIAL, "2.5")
    assert resp.status_code == 404
    assert "itemNotFound" in resp.json()


def test_unknown_and_foreign_servers_are_404(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    missing = str(uuid.uuid4())
    resp = c.demo.post(f"/servers/{missing}/remote-consoles", SERIAL, "2.6")
    assert resp.status_code == 404
    assert resp.json()["itemNotFound"]["message"] == f"Instance {missing} could not be found."
    assert c.alt.post(f"/servers/{sid}/remote-consoles", SERIAL, "2.6").status_code == 404
    # An admin may open any project's console.
    assert _url(c, sid, caller=c.admin).startswith(WS_PREFIX)


def test_policy_override_is_403(servers_cloud: ServersCloud, tmp_path: Path) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    rules = tmp_path / "policy.yaml"
    rules.write_text('"os_compute_api:os-remote-consoles": "role:admin"\n')
    c.app_state.enforcer = Enforcer(policies.RULES, rules)
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", SERIAL, "2.6")
    assert resp.status_code == 403, resp.text
    resp = c.demo.action(sid, {"os-getSerialConsole": {"type": "serial"}}, "2.1")
    assert resp.status_code == 403, resp.text
    assert _url(c, sid, caller=c.admin).startswith(WS_PREFIX)


def test_a_server_that_is_not_active_is_409(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    c.demo.action(sid, {"os-stop": None})
    c.demo.wait_status(sid, "SHUTOFF")
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", SERIAL, "2.6")
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == (
        f"Cannot 'get_serial_console' instance {sid} while it is in vm_state stopped"
    )
    other = c.demo.boot()["id"]
    with c.db.writer() as s:
        servers_service.set_state(s, other, task_state=states.DELETING)
    resp = c.demo.post(f"/servers/{other}/remote-consoles", SERIAL, "2.6")
    assert resp.status_code == 409
    assert "task_state deleting" in resp.json()["conflictingRequest"]["message"]


def test_a_server_still_building_is_409(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    c.rpc.hold = True
    sid = c.demo.boot()["id"]
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", SERIAL, "2.6")
    assert resp.status_code == 409
    assert "vm_state building" in resp.json()["conflictingRequest"]["message"]


# --- the legacy actions ------------------------------------------------------------


def test_legacy_serial_console_action(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.action(sid, {"os-getSerialConsole": {"type": "serial"}}, "2.1")
    assert resp.status_code == 200, resp.text
    console = resp.json()["console"]
    assert console["type"] == "serial" and console["url"].startswith(WS_PREFIX)
    # Gone from 2.6 on (replaced by remote-consoles), as in Nova.
    resp = c.demo.action(sid, {"os-getSerialConsole": {"type": "serial"}}, "2.6")
    assert resp.status_code == 404
    resp = c.demo.action(sid, {"os-getSerialConsole": {"type": "novnc"}}, "2.1")
    assert resp.status_code == 400 and "is not one of ['serial']" in resp.text
    resp = c.demo.action(sid, {"os-getSerialConsole": None}, "2.1")
    assert resp.status_code == 400


def test_legacy_graphical_consoles_are_unavailable(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    for action, kind in [
        ("os-getVNCConsole", "novnc"),
        ("os-getSPICEConsole", "spice-html5"),
        ("os-getRDPConsole", "rdp-html5"),
    ]:
        resp = c.demo.action(sid, {action: {"type": kind}}, "2.1")
        assert resp.status_code == 400, (action, resp.text)
        assert resp.json()["badRequest"]["message"] == f"Unavailable console type {kind}."


# --- GET /os-console-auth-tokens/{token} -------------------------------------------


def test_admin_shows_a_token(servers_cloud: ServersCloud, clock: Clock) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    token = _token(_url(c, sid))
    resp = c.admin.get(f"/os-console-auth-tokens/{token}", "2.31")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "console": {
            "instance_uuid": sid,
            "host": FAKE_HOST,
            "port": None,
            "internal_access_path": None,
        }
    }
    # With a compute host that knows its console, its location is shown.
    calls: list[tuple[str, str]] = []

    async def serial_console(host: str, instance_uuid: str) -> dict[str, Any]:
        calls.append((host, instance_uuid))
        return {"host": host, "port": None, "internal_access_path": "/run/x/console.sock"}

    c.rpc.serial_console = serial_console  # type: ignore[attr-defined]
    console = c.admin.get(f"/os-console-auth-tokens/{token}", "latest").json()["console"]
    assert console["internal_access_path"] == "/run/x/console.sock"
    assert calls == [(FAKE_HOST, sid)]


def test_token_show_errors(servers_cloud: ServersCloud, clock: Clock) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    token = _token(_url(c, sid))
    # Admin only.
    assert c.demo.get(f"/os-console-auth-tokens/{token}", "2.31").status_code == 403
    # Before 2.31 only RDP tokens could be shown (and RDP is gone).
    assert c.admin.get(f"/os-console-auth-tokens/{token}", "2.30").status_code == 400
    # Unknown and tampered tokens.
    assert c.admin.get("/os-console-auth-tokens/nope", "2.31").status_code == 404
    flipped = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    resp = c.admin.get(f"/os-console-auth-tokens/{flipped}", "2.31")
    assert resp.status_code == 404
    assert resp.json()["itemNotFound"]["message"] == "Token not found"
    # A token of another key (another cloud) is unknown here.
    foreign = ConsoleTokens(b"other key", 600, clock=clock).issue(sid, "serial")
    assert c.admin.get(f"/os-console-auth-tokens/{foreign}", "2.31").status_code == 404


def test_tokens_expire_after_their_ttl(servers_cloud: ServersCloud, clock: Clock) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    token = _token(_url(c, sid))
    clock.now += 599
    assert c.admin.get(f"/os-console-auth-tokens/{token}", "2.31").status_code == 200
    clock.now += 1
    assert c.admin.get(f"/os-console-auth-tokens/{token}", "2.31").status_code == 404


def test_a_deleted_servers_token_is_unknown(servers_cloud: ServersCloud, clock: Clock) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    token = _token(_url(c, sid))
    assert c.demo.delete(f"/servers/{sid}").status_code == 204
    assert c.admin.get(f"/os-console-auth-tokens/{token}", "2.31").status_code == 404


def test_ttl_comes_from_the_setting(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    c.app_state.settings = c.app_state.settings.model_copy(update={"console_token_ttl": 42})
    sid = c.demo.boot()["id"]
    _url(c, sid)
    assert c.app_state.console_tokens.ttl == 42


# --- the websocket proxy -----------------------------------------------------------


class FakeConsole(OneClientServer):
    """A unix socket server standing in for QEMU's chardev: a banner, then echo upper-cased."""

    def __init__(self, path: Path) -> None:
        self.received = bytearray()
        self.closed = threading.Event()
        super().__init__(path)

    def talk(self, conn: socket.socket) -> None:
        conn.sendall(b"kumo-guest login: ")
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                self.received += data
                if b"BYE" in data.upper():
                    break  # the "guest" closes its console
                conn.sendall(data.upper())
        except OSError:
            pass

    def hung_up(self) -> None:
        self.closed.set()


def _serve_fake_console(
    servers_cloud: ServersCloud, rpc_method: str, prefix: str
) -> Iterator[FakeConsole]:
    """A :class:`FakeConsole` that the compute RPC ``rpc_method`` names for every server.

    The servers the RPC was asked about are recorded in the fake's ``asked``.
    """
    path = Path(f"/tmp/{prefix}-{uuid.uuid4().hex[:8]}.sock")
    fake = FakeConsole(path)
    asked: list[str] = []

    async def console(host: str, instance_uuid: str) -> dict[str, Any]:
        asked.append(instance_uuid)
        return {"host": host, "port": None, "internal_access_path": str(path)}

    setattr(servers_cloud.rpc, rpc_method, console)
    fake.asked = asked  # type: ignore[attr-defined]
    try:
        yield fake
    finally:
        fake.close()
        path.unlink(missing_ok=True)


@pytest.fixture
def console_server(servers_cloud: ServersCloud) -> Iterator[FakeConsole]:
    """A fake console socket that the compute RPC names for every server."""
    yield from _serve_fake_console(servers_cloud, "serial_console", "kc")


def test_websocket_pipes_bytes_both_ways(
    servers_cloud: ServersCloud, console_server: FakeConsole
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    url = _url(c, sid)
    with c.client.websocket_connect(_ws_path(url), subprotocols=["binary"]) as ws:
        assert ws.accepted_subprotocol == "binary"
        assert ws.receive_bytes() == b"kumo-guest login: "
        ws.send_bytes(b"hello\n")
        assert ws.receive_bytes() == b"HELLO\n"
        ws.send_text("text frames too\n")
        assert ws.receive_bytes() == b"TEXT FRAMES TOO\n"
    assert console_server.closed.wait(10), "the proxy did not close the console socket"
    assert bytes(console_server.received) == b"hello\ntext frames too\n"
    assert console_server.asked == [sid]  # type: ignore[attr-defined]


def test_websocket_closes_when_the_guest_console_closes(
    servers_cloud: ServersCloud, console_server: FakeConsole
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    with c.client.websocket_connect(_ws_path(_url(c, sid))) as ws:
        assert ws.accepted_subprotocol is None
        assert ws.receive_bytes() == b"kumo-guest login: "
        ws.send_bytes(b"bye\n")
        message = ws.receive()
        assert message["type"] == "websocket.close"
        assert message["code"] == 1000


def _closed_with(c: ServersCloud, path: str) -> dict[str, Any]:
    """The close message of a websocket the proxy accepted, then closed."""
    with c.client.websocket_connect(path) as ws:
        message = dict(ws.receive())
    assert message["type"] == "websocket.close", message
    return message


def _refused_with(c: ServersCloud, path: str) -> dict[str, Any]:
    """The close message of a websocket the proxy refused before accepting it.

    A server answers such a handshake with HTTP 403 and sends no frame (see
    test_remote_consoles_wire.py); the ASGI close message still carries the reason.
    """
    with pytest.raises(WebSocketDisconnect) as refused, c.client.websocket_connect(path):
        pass
    return {"code": refused.value.code, "reason": refused.value.reason}


def test_bad_tokens_are_refused_with_a_policy_error(
    servers_cloud: ServersCloud, console_server: FakeConsole, clock: Clock
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    url = _url(c, sid)
    token = _token(url)
    flipped = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    for path, reason in [
        ("/compute/serial-console/", "missing or malformed"),
        ("/compute/serial-console/?token=nope", "not valid"),
        (f"/compute/serial-console/?token={flipped}", "not valid"),
    ]:
        message = _refused_with(c, path)
        assert (message["code"], reason in message["reason"]) == (1008, True), message
    clock.now += 600
    message = _refused_with(c, _ws_path(url))
    assert (message["code"], message["reason"]) == (1008, "The console token has expired.")
    # No refused attempt ever reached the compute host or the console.
    assert console_server.asked == []  # type: ignore[attr-defined]
    assert console_server.connections == 0


def test_a_stopped_or_deleted_server_is_refused(
    servers_cloud: ServersCloud, console_server: FakeConsole, clock: Clock
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    url = _url(c, sid)
    c.demo.action(sid, {"os-stop": None})
    c.demo.wait_status(sid, "SHUTOFF")
    message = _refused_with(c, _ws_path(url))
    assert message["code"] == 1008 and "vm_state stopped" in message["reason"]
    other = c.demo.boot()["id"]
    url = _url(c, other)
    assert c.demo.delete(f"/servers/{other}").status_code == 204
    message = _refused_with(c, _ws_path(url))
    assert message["code"] == 1008 and "could not be found" in message["reason"]
    assert console_server.asked == []  # type: ignore[attr-defined]


def test_a_console_the_host_cannot_give_closes_with_its_reason(
    servers_cloud: ServersCloud,
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]

    async def unavailable(host: str, instance_uuid: str) -> dict[str, Any]:
        raise RemoteError("ConsoleUnavailable", "Serial console is not available: no guest.")

    c.rpc.serial_console = unavailable  # type: ignore[attr-defined]
    message = _closed_with(c, _ws_path(_url(c, sid)))
    assert message["code"] == 1011
    assert message["reason"] == "Serial console is not available: no guest."

    async def broken(host: str, instance_uuid: str) -> dict[str, Any]:
        raise RemoteError("UnknownMethod", "ComputeManager has no method 'x'")

    c.rpc.serial_console = broken  # type: ignore[attr-defined]
    message = _closed_with(c, _ws_path(_url(c, sid)))
    # Internal errors are logged, not shown: the user reads a plain sentence.
    assert (message["code"], message["reason"]) == (
        1011,
        f"Compute host {FAKE_HOST} could not open the console.",
    )

    async def missing_socket(host: str, instance_uuid: str) -> dict[str, Any]:
        return {"host": host, "port": None, "internal_access_path": "/nonexistent/console.sock"}

    c.rpc.serial_console = missing_socket  # type: ignore[attr-defined]
    message = _closed_with(c, _ws_path(_url(c, sid)))
    assert message["code"] == 1011 and "cannot be reached" in message["reason"]


# --- the whole cloud on the fake virt driver (real bus, agent and driver) ----------


@pytest.fixture
def fake_cloud(make_cloud: Callable[..., Any]) -> Iterator[Cloud]:  # noqa: F811
    """Every service plus scheduler, conductor and one compute agent on the fake driver."""
    with make_cloud() as cloud:
        yield cloud


def test_fake_driver_says_the_console_is_not_available(fake_cloud: Cloud) -> None:
    cloud = fake_cloud
    sid, _ = cloud.boot()
    server = cloud.wait_settled(sid)
    assert server.vm_state == "active", server.vm_state
    headers = {"X-Auth-Token": cloud.admin_token, "OpenStack-API-Version": "compute 2.99"}
    resp = cloud.client.post(
        f"/compute/v2.1/servers/{sid}/remote-consoles", json=SERIAL, headers=headers
    )
    assert resp.status_code == 200, resp.text
    url = resp.json()["remote_console"]["url"]
    with cloud.client.websocket_connect(_ws_path(url), subprotocols=["binary"]) as ws:
        message = ws.receive()
    assert message["type"] == "websocket.close"
    assert message["code"] == 1011
    assert "fake virt driver" in message["reason"], message
    # The admin's token view names the host; the fake driver has no socket to show.
    shown = cloud.client.get(f"/compute/v2.1/os-console-auth-tokens/{_token(url)}", headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["console"] == {
        "instance_uuid": sid,
        "host": server.host,
        "port": None,
        "internal_access_path": None,
    }


def test_workers_sharing_a_state_dir_accept_each_others_tokens(tmp_path: Path) -> None:
    """Every API worker process derives the same key from the state dir's secret (0600)."""

    def worker(state_dir: Path) -> ConsoleTokens:
        return console_tokens(SimpleNamespace(settings=Settings(state_dir=state_dir)))

    first, second = worker(tmp_path / "a"), worker(tmp_path / "a")
    token = first.issue("u-1", "serial")
    assert second.validate(token).instance_uuid == "u-1"
    assert (tmp_path / "a" / SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert first.ttl == 600  # the default console_token_ttl, Nova's token_ttl
    with pytest.raises(InvalidConsoleToken):
        worker(tmp_path / "b").validate(token)


# --- VNC (noVNC) consoles and screenshots (issue 5) ----------------------------------

VNC = {"remote_console": {"protocol": "vnc", "type": "novnc"}}


def _novnc_websocket(url: str) -> str:
    """The websocket path noVNC opens for a console URL (``/`` + its ``path`` parameter)."""
    return "/" + parse_qs(urlsplit(url).query)["path"][0]


@pytest.fixture
def vnc_server(servers_cloud: ServersCloud) -> Iterator[FakeConsole]:
    """A fake VNC socket that the compute RPC names for every server (serial: none)."""
    yield from _serve_fake_console(servers_cloud, "vnc_console", "kv")


def test_vnc_console_url_is_novncs_page_with_the_websocket_path(
    servers_cloud: ServersCloud, vnc_server: FakeConsole
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    for mv in ("2.6", "latest"):
        resp = c.demo.post(f"/servers/{sid}/remote-consoles", VNC, mv)
        assert resp.status_code == 200, resp.text
        console = resp.json()["remote_console"]
        assert set(console) == {"protocol", "type", "url"}
        assert (console["protocol"], console["type"]) == ("vnc", "novnc")
        page, _, query = console["url"].partition("?")
        assert page == "http://127.0.0.1:8780/compute/novnc/vnc_lite.html"
        assert query.startswith("path=compute%2Fvnc-console%2F%3Ftoken%3D")  # URL-encoded
        path = parse_qs(query)["path"][0]
        token = parse_qs(urlsplit(path).query)["token"][0]
        grant = console_tokens(c.app_state).validate(token)
        assert (grant.instance_uuid, grant.console_type) == (sid, "novnc")
    # Nova asks the host for the console when it makes the URL; so does Kumo.
    assert vnc_server.asked == [sid, sid]  # type: ignore[attr-defined]
    # The legacy action (2.1-2.5) answers the same URL shape.
    resp = c.demo.action(sid, {"os-getVNCConsole": {"type": "novnc"}}, "2.1")
    assert resp.status_code == 200, resp.text
    assert resp.json()["console"]["type"] == "novnc"
    assert resp.json()["console"]["url"].startswith(
        "http://127.0.0.1:8780/compute/novnc/vnc_lite.html?path=compute%2Fvnc-console%2F"
    )
    for body, mv in [
        ({"remote_console": {"protocol": "vnc", "type": "xvpvnc"}}, "2.6"),
        ({"os-getVNCConsole": {"type": "xvpvnc"}}, "2.1"),
    ]:
        resp = (
            c.demo.post(f"/servers/{sid}/remote-consoles", body, mv)
            if "remote_console" in body
            else c.demo.action(sid, body, mv)
        )
        assert resp.status_code == 400, resp.text
        assert resp.json()["badRequest"]["message"] == "Unavailable console type xvpvnc."


def test_vnc_websocket_pipes_rfb_bytes_and_checks_the_token_type(
    servers_cloud: ServersCloud, vnc_server: FakeConsole, console_server: FakeConsole
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    vnc_url = c.demo.post(f"/servers/{sid}/remote-consoles", VNC, "2.6").json()["remote_console"]
    ws_path = _novnc_websocket(vnc_url["url"])
    with c.client.websocket_connect(ws_path, subprotocols=["binary"]) as ws:
        assert ws.accepted_subprotocol == "binary"
        assert ws.receive_bytes() == b"kumo-guest login: "
        ws.send_bytes(b"RFB 003.008\n")
        assert ws.receive_bytes() == b"RFB 003.008\n"
    assert vnc_server.closed.wait(10)
    assert bytes(vnc_server.received) == b"RFB 003.008\n"
    assert console_server.connections == 0  # the serial console was never opened
    # A VNC token does not open the serial console, nor a serial token the VNC one.
    token = parse_qs(urlsplit(ws_path).query)["token"][0]
    message = _refused_with(c, f"/compute/serial-console/?token={token}")
    assert (message["code"], message["reason"]) == (
        1008,
        "The console token is not for a serial console.",
    )
    serial = _token(_url(c, sid))
    message = _refused_with(c, f"/compute/vnc-console/?token={serial}")
    assert (message["code"], message["reason"]) == (
        1008,
        "The console token is not for a VNC console.",
    )
    # The admin's token view asks the VNC console's host, not the serial one's.
    shown = c.admin.get(f"/os-console-auth-tokens/{token}", "2.31")
    assert shown.status_code == 200, shown.text
    assert shown.json()["console"]["internal_access_path"] == str(vnc_server.path)


def test_vnc_of_a_guest_without_a_display_is_400_and_a_stopped_one_409(
    servers_cloud: ServersCloud,
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    no_display = (
        f"Instance {sid} has no display (a microvm guest): boot it from an image with "
        "hw_machine_type=q35 for a VNC console."
    )

    async def microvm(host: str, instance_uuid: str) -> dict[str, Any]:
        raise RemoteError("NoDisplay", no_display)

    c.rpc.vnc_console = microvm  # type: ignore[attr-defined]
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", VNC, "2.6")
    assert resp.status_code == 400, resp.text
    assert resp.json() == {
        "badRequest": {"code": 400, "message": f"Unavailable console type novnc: {no_display}"}
    }
    resp = c.demo.action(sid, {"os-getVNCConsole": {"type": "novnc"}}, "2.1")
    assert resp.status_code == 400 and "hw_machine_type=q35" in resp.text

    async def not_running(host: str, instance_uuid: str) -> dict[str, Any]:
        raise RemoteError("ConsoleUnavailable", "VNC console is not available: not running.")

    c.rpc.vnc_console = not_running  # type: ignore[attr-defined]
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", VNC, "2.6")
    assert resp.status_code == 409, resp.text
    assert resp.json()["conflictingRequest"]["message"] == (
        "VNC console is not available: not running."
    )

    async def broken(host: str, instance_uuid: str) -> dict[str, Any]:
        raise RemoteError("UnknownMethod", "ComputeManager has no method 'get_vnc_console'")

    c.rpc.vnc_console = broken  # type: ignore[attr-defined]
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", VNC, "2.6")
    assert resp.status_code == 409, resp.text
    assert "could not open the VNC console" in resp.text and "UnknownMethod" not in resp.text

    c.demo.action(sid, {"os-stop": None})
    c.demo.wait_status(sid, "SHUTOFF")
    resp = c.demo.post(f"/servers/{sid}/remote-consoles", VNC, "2.6")
    assert resp.status_code == 409, resp.text
    assert "vm_state stopped" in resp.text
    # Unknown and foreign servers are 404 before the host is asked.
    assert c.demo.post("/servers/nope/remote-consoles", VNC, "2.6").status_code == 404
    other = c.demo.boot()["id"]
    assert c.alt.post(f"/servers/{other}/remote-consoles", VNC, "2.6").status_code == 404


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_screenshot_is_a_png_from_the_compute_host(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    # A compute RPC without screenshots (an older agent): the service says so.
    resp = c.demo.get(f"/servers/{sid}/screenshot")
    assert resp.status_code == 503, resp.text
    asked: list[str] = []

    async def screenshot(host: str, instance_uuid: str) -> bytes:
        asked.append(instance_uuid)
        return PNG

    c.rpc.screenshot = screenshot  # type: ignore[attr-defined]
    resp = c.demo.get(f"/servers/{sid}/screenshot")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    assert resp.content == PNG and asked == [sid]
    assert c.alt.get(f"/servers/{sid}/screenshot").status_code == 404

    async def microvm(host: str, instance_uuid: str) -> bytes:
        raise RemoteError("NoDisplay", "Instance has no display: use hw_machine_type=q35.")

    c.rpc.screenshot = microvm  # type: ignore[attr-defined]
    resp = c.demo.get(f"/servers/{sid}/screenshot")
    assert resp.status_code == 400, resp.text
    assert resp.json()["badRequest"]["message"] == (
        "Instance has no display: use hw_machine_type=q35."
    )
    c.demo.action(sid, {"os-stop": None})
    c.demo.wait_status(sid, "SHUTOFF")
    assert c.demo.get(f"/servers/{sid}/screenshot").status_code == 409


def test_screenshot_follows_the_console_output_policy(
    servers_cloud: ServersCloud, tmp_path: Path
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]

    async def screenshot(host: str, instance_uuid: str) -> bytes:
        return PNG

    c.rpc.screenshot = screenshot  # type: ignore[attr-defined]
    policy = tmp_path / "policy.yaml"
    policy.write_text('"os_compute_api:os-console-output": "role:nobody"\n')
    c.app_state.enforcer = Enforcer(policies.RULES, policy)
    resp = c.demo.get(f"/servers/{sid}/screenshot")
    assert resp.status_code == 403, resp.text


def test_novnc_files_are_served_or_a_clear_404(servers_cloud: ServersCloud, tmp_path: Path) -> None:
    from starlette.routing import Mount

    from kumo.compute.api.novnc import NOVNC_DIR, NoVNCFiles

    c = servers_cloud
    if NOVNC_DIR.is_dir():
        # No Keystone token: a browser opening the console URL has none.
        resp = c.client.get("/compute/novnc/vnc_lite.html")
        assert resp.status_code == 200 and "RFB" in resp.text
        assert resp.headers["content-type"].startswith("text/html")
        assert c.client.get("/compute/novnc/core/rfb.js").status_code == 200
    resp = c.client.get("/compute/novnc/no-such-file.js")
    assert resp.status_code == 404
    assert "no-such-file.js" in resp.json()["itemNotFound"]["message"]
    # A host without the package: every file is a 404 that says what to install.
    mounted = [r for r in _all_routes(c.client.app) if isinstance(r, Mount) and r.name == "novnc"]
    assert len(mounted) == 1
    files = mounted[0].app
    assert isinstance(files, NoVNCFiles)
    files.root = tmp_path / "absent"
    resp = c.client.get("/compute/novnc/vnc_lite.html")
    assert resp.status_code == 404
    message = resp.json()["itemNotFound"]["message"]
    assert "noVNC is not installed" in message and "'novnc'" in message


def _all_routes(app: Any) -> Iterator[Any]:
    """Every route of an ASGI app and the apps it mounts or wraps."""
    seen: set[int] = set()
    stack = [app]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for route in getattr(current, "routes", []) or []:
            yield route
            stack.append(getattr(route, "app", None))
        for attr in ("app", "asgi", "original"):
            inner = getattr(current, attr, None)
            if inner is not None and inner is not current:
                stack.append(inner)


def test_fake_driver_vnc_url_has_no_socket_behind_it(fake_cloud: Cloud) -> None:
    cloud = fake_cloud
    sid, _ = cloud.boot()
    server = cloud.wait_settled(sid)
    assert server.vm_state == "active", server.vm_state
    headers = {"X-Auth-Token": cloud.admin_token, "OpenStack-API-Version": "compute 2.99"}
    resp = cloud.client.post(
        f"/compute/v2.1/servers/{sid}/remote-consoles", json=VNC, headers=headers
    )
    assert resp.status_code == 200, resp.text
    url = resp.json()["remote_console"]["url"]
    with cloud.client.websocket_connect(_novnc_websocket(url)) as ws:
        message = ws.receive()
    assert message["type"] == "websocket.close"
    assert (message["code"], message["reason"]) == (
        1011,
        "VNC console is not available on its host.",
    )
    shot = cloud.client.get(f"/compute/v2.1/servers/{sid}/screenshot", headers=headers)
    assert shot.status_code == 409 and "driver offers none" in shot.text, shot.text
