"""The console proxies (Nova's ``nova-serialproxy`` and ``nova-novncproxy``) under /compute.

One proxy, one websocket path per console kind (:data:`CONSOLE_KINDS`):
``ws://<host>:<port>/compute/serial-console/?token=<token>`` pipes the serial
console, ``…/compute/vnc-console/?token=<token>`` the RFB (VNC) stream that
noVNC speaks. The token (see :mod:`kumo.compute.consoles`) is checked first,
and must record a console type of the path's kind. An unknown, tampered or
expired token, or a server that is gone or not ACTIVE, is refused before the
handshake completes: the client reads HTTP 403 and not one websocket frame, as
from nova-novncproxy, which drops the connection (tempest's
``test_novnc_bad_token`` reads nothing back); the reason goes to the log (and,
as close code 1008, to ASGI test clients). Then the websocket is accepted (the
``binary`` subprotocol is chosen when offered, as websockify does for Nova),
the compute agent hosting the server says where the console is (a bus call,
which the driver answers; when it has none the websocket closes with code
1011 and the driver's reason, which a viewer shows), and bytes flow both ways
between the websocket (binary frames) and QEMU's unix socket (the serial
chardev or the VNC server) until either side closes.

QEMU's chardev serves one client at a time: a second viewer of the same guest
waits until the first disconnects (its VNC server takes several). The sockets
are local to the compute host, so the proxy must run on that machine (always
true for ``kumo up``, role ``all``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from kumo.common.bus import RemoteError
from kumo.common.errors import KumoError
from kumo.compute.api.remote_consoles import CONSOLE_KINDS, ConsoleKind, ensure_console_ready
from kumo.compute.consoles import InvalidConsoleToken, console_tokens
from kumo.compute.service.servers import get_instance

log = logging.getLogger(__name__)
router = APIRouter()

#: RFC 6455 close codes.
POLICY_VIOLATION = 1008
INTERNAL_ERROR = 1011
NORMAL = 1000
#: Seconds to wait for the compute host's answer and for the console socket.
LOOKUP_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0
#: The agent's errors whose message is meant for the user (the driver's own words).
_USER_FACING = frozenset({"ConsoleUnavailable", "VirtError"})
#: Bytes read from the console at a time (one websocket frame at most).
CHUNK = 64 * 1024


class ConsoleRefused(Exception):
    """The websocket is closed with ``code`` and ``reason`` instead of connected."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # RFC 6455 limits a close reason to 123 bytes.
    reason_bytes = reason.encode()[:123]
    with contextlib.suppress(Exception):
        await websocket.close(code, reason_bytes.decode(errors="ignore"))


async def _authorise(websocket: WebSocket, token: str, kind: ConsoleKind) -> tuple[str, str]:
    """(server uuid, its host) when ``token`` opens ``kind`` now; :class:`ConsoleRefused` if not."""
    state = websocket.app.state
    try:
        grant = console_tokens(state).validate(token)
    except InvalidConsoleToken as exc:
        raise ConsoleRefused(POLICY_VIOLATION, str(exc)) from None
    if grant.console_type not in kind.token_types:
        raise ConsoleRefused(POLICY_VIOLATION, f"The console token is not for a {kind.label}.")

    def check() -> str:
        with state.db.reader() as s:
            return ensure_console_ready(get_instance(s, grant.instance_uuid), kind)

    try:
        host = await run_in_threadpool(check)
    except KumoError as exc:
        raise ConsoleRefused(POLICY_VIOLATION, exc.message) from None
    return grant.instance_uuid, host


async def _console_path(websocket: WebSocket, uuid: str, host: str, kind: ConsoleKind) -> str:
    """The console's socket path, from ``host``'s agent; :class:`ConsoleRefused` if none."""
    rpc: Any = getattr(websocket.app.state, "compute_rpc", None)
    if rpc is None or not hasattr(rpc, kind.rpc_method):
        raise ConsoleRefused(INTERNAL_ERROR, "No compute control plane answers here.")
    try:
        info = await asyncio.wait_for(getattr(rpc, kind.rpc_method)(host, uuid), LOOKUP_TIMEOUT)
    except RemoteError as exc:
        if exc.exc_type in _USER_FACING:
            raise ConsoleRefused(INTERNAL_ERROR, exc.message) from None
        # Anything else (an agent without this call, a bug) is for the operator's log.
        log.warning("%s of %s on %s: %s", kind.label, uuid, host, exc)
        raise ConsoleRefused(
            INTERNAL_ERROR, f"Compute host {host} could not open the console."
        ) from None
    except Exception as exc:
        log.warning("%s of %s: host %s did not answer: %s", kind.label, uuid, host, exc)
        raise ConsoleRefused(
            INTERNAL_ERROR, f"Compute host {host} did not say where the console is."
        ) from None
    path = info.get("internal_access_path")
    if not path:
        raise ConsoleRefused(
            INTERNAL_ERROR, f"{kind.label[0].upper()}{kind.label[1:]} is not available on its host."
        )
    return str(path)


async def _pipe(
    websocket: WebSocket, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[int, int, str]:
    """Copy bytes both ways until one side closes; (bytes in, bytes out, who closed)."""
    counts = [0, 0]

    async def to_console() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                # Text frames are accepted too (typed input from simple clients).
                data = str(message.get("text") or "").encode()
            counts[0] += len(data)
            writer.write(data)
            await writer.drain()

    async def to_client() -> None:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return  # the guest's QEMU closed the console (stopped, deleted)
            counts[1] += len(data)
            await websocket.send_bytes(data)

    client = asyncio.create_task(to_console(), name="console: client to guest")
    guest = asyncio.create_task(to_client(), name="console: guest to client")
    done, pending = await asyncio.wait({client, guest}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for task in done:
        # A client gone mid-send or a reset console socket ends the session like a close.
        with contextlib.suppress(WebSocketDisconnect, ConnectionError, OSError, RuntimeError):
            task.result()
    return counts[0], counts[1], "client" if client in done else "guest"


async def proxy_console(websocket: WebSocket, kind: ConsoleKind) -> None:
    """Validate the token, find the console on its compute host, then pipe bytes both ways."""
    token = websocket.query_params.get("token", "")
    try:
        uuid, host = await _authorise(websocket, token, kind)
    except ConsoleRefused as exc:
        # Closed before accept: the server answers the upgrade with 403 and no frame.
        log.info("%s refused (%d): %s", kind.label, exc.code, exc.reason)
        await _close(websocket, exc.code, exc.reason)
        return
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol="binary" if "binary" in offered else None)
    try:
        path = await _console_path(websocket, uuid, host, kind)
    except ConsoleRefused as exc:
        log.info("%s of %s refused (%d): %s", kind.label, uuid, exc.code, exc.reason)
        await _close(websocket, exc.code, exc.reason)
        return
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        log.warning("%s of %s: cannot open %s: %s", kind.label, uuid, path, exc)
        await _close(
            websocket, INTERNAL_ERROR, f"The console of {uuid} cannot be reached from here."
        )
        return
    log.info("%s of %s opened", kind.label, uuid)
    try:
        sent, received, closer = await _pipe(websocket, reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    log.info(
        "%s of %s closed by the %s (%d bytes in, %d out)",
        kind.label, uuid, closer, sent, received,
    )  # fmt: skip
    if websocket.client_state == WebSocketState.CONNECTED:
        await _close(websocket, NORMAL, "The guest's console closed.")


def _endpoint(kind: ConsoleKind) -> Callable[[WebSocket], Awaitable[None]]:
    async def endpoint(websocket: WebSocket) -> None:
        await proxy_console(websocket, kind)

    endpoint.__name__ = f"{kind.rpc_method}_proxy"
    endpoint.__doc__ = f"The {kind.label} websocket proxy."
    return endpoint


for _kind in CONSOLE_KINDS:
    router.add_api_websocket_route(_kind.path, _endpoint(_kind))
    # Without the trailing slash too: websocket clients are not redirected.
    router.add_api_websocket_route(_kind.path.rstrip("/"), _endpoint(_kind))
