"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6+), the legacy
``os-get*Console`` actions (2.1–2.5) and ``GET /os-console-auth-tokens/{token}``.

Two consoles exist: ``serial`` and ``vnc``/``novnc`` (SPICE, RDP and MKS
answer 400 "Unavailable console type", as a Nova with them disabled does). Both
are reached through the websocket proxy of :mod:`kumo.compute.api.console_proxy`
with a token of :mod:`kumo.compute.consoles` that records the console type.

The serial URL is the websocket itself and creating it does not reach the
compute host (the proxy asks it when a client connects). The VNC URL is
noVNC's page (served by :mod:`kumo.compute.api.novnc`) with the websocket in
its ``path`` parameter, as nova-novncproxy's; creating it asks the host first,
as Nova does, so that a guest without a display (microvm) is refused with a
400 that says how to get one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.bus import RemoteError
from kumo.common.errors import BadRequest, Conflict, NotFound, ValidationError
from kumo.common.microversion import Version
from kumo.compute import states
from kumo.compute.api.server_action_base import Call
from kumo.compute.api.server_common import load_server, target
from kumo.compute.api.versions import compute_version
from kumo.compute.consoles import InvalidConsoleToken, console_tokens
from kumo.compute.db.instances import Instance
from kumo.compute.policies.remote_consoles import CONSOLE_AUTH_TOKENS, REMOTE_CONSOLES
from kumo.compute.service.servers import get_instance

log = logging.getLogger(__name__)
router = APIRouter()


@dataclass(frozen=True)
class ConsoleKind:
    """One console the proxy serves: its websocket path and how its host is asked."""

    #: The console types a token must record to open it.
    token_types: frozenset[str]
    #: The websocket path, below the compute service's prefix.
    path: str
    #: The compute RPC method answering ``{"host", "port", "internal_access_path"}``.
    rpc_method: str
    #: How messages name it.
    label: str


SERIAL = ConsoleKind(frozenset({"serial"}), "/serial-console/", "serial_console", "serial console")
VNC = ConsoleKind(frozenset({"novnc"}), "/vnc-console/", "vnc_console", "VNC console")
#: Every console the proxy serves.
CONSOLE_KINDS = (SERIAL, VNC)
#: Where the serial websocket proxy is served (kept for callers of the old name).
PROXY_PATH = SERIAL.path


def console_kind(console_type: str) -> ConsoleKind | None:
    """The console a token's recorded type opens (None for a type no proxy serves)."""
    return next((k for k in CONSOLE_KINDS if console_type in k.token_types), None)


#: noVNC's page that connects at once (nova-novncproxy's default base URL names it).
NOVNC_PAGE = "/novnc/vnc_lite.html"
#: How long GET /os-console-auth-tokens waits for the compute host's answer.
CONNECT_INFO_TIMEOUT = 5.0

#: Nova's schema enums by microversion: 2.8 adds mks/webmks, 2.99 spice-direct.
_PROTOCOLS = ["vnc", "spice", "serial", "rdp"]
_TYPES = ["novnc", "xvpvnc", "spice-html5", "serial", "rdp-html5"]
#: Task states during which no console is handed out (Nova's reject_instance_state).
_BUSY_TASKS = frozenset({states.DELETING, states.MIGRATING})


def _enums(version: Version) -> tuple[list[str], list[str]]:
    protocols, types = list(_PROTOCOLS), list(_TYPES)
    if version >= Version(2, 8):
        protocols.append("mks")
        types.append("webmks")
    if version >= Version(2, 99):
        types.append("spice-direct")
    return protocols, types


def _require_object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(
            f"Invalid input for field/attribute {name}. Value: {value}. "
            f"{value!r} is not of type 'object'"
        )
    return value


def _check_enum(obj: dict[str, Any], field: str, allowed: list[str]) -> str:
    if field not in obj:
        raise ValidationError(f"Invalid input: '{field}' is a required property.")
    value = obj[field]
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(
            f"Invalid input for field/attribute {field}. Value: {value}. "
            f"{value!r} is not one of {allowed}"
        )
    return value


def _no_extra(obj: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise ValidationError(
            f"Additional properties are not allowed ({', '.join(repr(e) for e in extra)} "
            "were unexpected)"
        )


def ensure_console_ready(instance: Instance, kind: ConsoleKind = SERIAL) -> str:
    """The host of a server whose console may be reached now; 409 otherwise."""
    action = f"get_{kind.rpc_method}"
    if instance.task_state in _BUSY_TASKS:
        raise Conflict(
            f"Cannot '{action}' instance {instance.uuid} while it is in "
            f"task_state {instance.task_state}"
        )
    if instance.vm_state != states.ACTIVE:
        raise Conflict(
            f"Cannot '{action}' instance {instance.uuid} while it is in "
            f"vm_state {instance.vm_state}"
        )
    if not instance.host:
        raise Conflict(f"Instance {instance.uuid} is not ready")
    return str(instance.host)


def proxy_url(request: Request, token: str, kind: ConsoleKind = SERIAL) -> str:
    """The websocket URL of a console proxy (same host and port the client called)."""
    base = service_base(request)
    scheme, sep, rest = base.partition("://")
    ws_scheme = "wss" if scheme == "https" else "ws"
    return f"{ws_scheme}{sep}{rest}{kind.path}?token={token}"


def novnc_url(request: Request, token: str) -> str:
    """noVNC's page with the VNC websocket (and its token) in ``path``, URL-encoded.

    noVNC connects to ``ws[s]://<page's host:port>/<path>``, so ``path`` is the
    websocket's path without the leading slash, like nova-novncproxy's ``?path=``.
    """
    base = service_base(request)
    websocket = f"{urlsplit(base).path}{VNC.path}?token={token}".lstrip("/")
    return f"{base}{NOVNC_PAGE}?path={quote(websocket, safe='')}"


async def _check_server(request: Request, authz: Authz, server_id: str, kind: ConsoleKind) -> str:
    """The server's host, once the caller may open its console now (404/403/409 otherwise)."""

    def check() -> str:
        with request.app.state.db.reader() as s:
            instance = load_server(s, authz, server_id)
            authz.enforce(target(instance), rule=REMOTE_CONSOLES)
            return ensure_console_ready(instance, kind)

    return await run_in_threadpool(check)


async def _serial_url(request: Request, authz: Authz, server_id: str, console_type: str) -> str:
    """Check the server and the caller, then issue a token and build the console URL."""
    if console_type != "serial":
        raise BadRequest(f"Invalid console type {console_type}")
    await _check_server(request, authz, server_id, SERIAL)
    token = console_tokens(request.app.state).issue(server_id, console_type)
    return proxy_url(request, token)


async def _vnc_url(request: Request, authz: Authz, server_id: str, console_type: str) -> str:
    """The noVNC URL of a server whose host says it has a display (Nova asks the host too)."""
    if console_type != "novnc":
        # xvpvnc went with nova-xvpvncproxy; no deployment serves it now.
        raise BadRequest(f"Unavailable console type {console_type}.")
    host = await _check_server(request, authz, server_id, VNC)
    rpc: Any = getattr(request.app.state, "compute_rpc", None)
    if rpc is None or not hasattr(rpc, VNC.rpc_method):
        raise BadRequest(f"Unavailable console type {console_type}.")
    try:
        await asyncio.wait_for(getattr(rpc, VNC.rpc_method)(host, server_id), CONNECT_INFO_TIMEOUT)
    except RemoteError as exc:
        if exc.exc_type == "NoDisplay":
            raise BadRequest(f"Unavailable console type {console_type}: {exc.message}") from None
        if exc.exc_type == "ConsoleUnavailable":
            raise Conflict(exc.message) from None
        log.warning("VNC console of %s on %s: %s", server_id, host, exc)
        raise Conflict(f"Compute host {host} could not open the VNC console.") from None
    except Exception as exc:
        log.warning("VNC console of %s: host %s did not answer: %s", server_id, host, exc)
        raise Conflict(f"Compute host {host} did not say where the VNC console is.") from None
    token = console_tokens(request.app.state).issue(server_id, console_type)
    return novnc_url(request, token)


@route(router, "POST", "/v2.1/servers/{server_id}/remote-consoles", policy=REMOTE_CONSOLES)
async def create_remote_console(
    server_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """A console URL for the server (Nova 2.6+): ``serial`` or ``vnc``/``novnc``."""
    version = compute_version(request)
    if version < Version(2, 6):
        raise NotFound("The resource could not be found.")
    obj = _require_object(body, "request body")
    if "remote_console" not in obj:
        raise ValidationError("Invalid input: 'remote_console' is a required property.")
    _no_extra(obj, {"remote_console"})
    console = _require_object(obj["remote_console"], "remote_console")
    protocols, types = _enums(version)
    protocol = _check_enum(console, "protocol", protocols)
    console_type = _check_enum(console, "type", types)
    _no_extra(console, {"protocol", "type"})
    if protocol == "rdp":
        raise BadRequest("Unavailable console type rdp.")
    if protocol == "vnc":
        url = await _vnc_url(request, authz, server_id, console_type)
        return {"remote_console": {"protocol": protocol, "type": console_type, "url": url}}
    if protocol != "serial":
        # Nova's answer for a console type its deployment has disabled; 404 for an
        # unknown server still comes first.
        def exists() -> None:
            with request.app.state.db.reader() as s:
                load_server(s, authz, server_id)

        await run_in_threadpool(exists)
        raise BadRequest(f"Unavailable console type {console_type}.")
    url = await _serial_url(request, authz, server_id, console_type)
    return {"remote_console": {"protocol": protocol, "type": console_type, "url": url}}


@route(router, "GET", "/v2.1/os-console-auth-tokens/{token}", policy=CONSOLE_AUTH_TOKENS)
async def show_console_auth_token(
    token: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Where a token's console is (admin); 404 for an unknown, expired or orphaned token."""
    authz.enforce()
    if compute_version(request) < Version(2, 31):
        # Before 2.31 only RDP tokens could be shown, and RDP is gone (as in Nova).
        raise BadRequest("Console auth tokens of this console type need microversion 2.31.")
    try:
        grant = console_tokens(request.app.state).validate(token)
    except InvalidConsoleToken:
        raise NotFound("Token not found") from None

    def load() -> Instance:
        with request.app.state.db.reader() as s:
            try:
                return get_instance(s, grant.instance_uuid)
            except NotFound:
                raise NotFound("Token not found") from None

    instance = await run_in_threadpool(load)
    info: dict[str, Any] = {"host": instance.host, "port": None, "internal_access_path": None}
    rpc = getattr(request.app.state, "compute_rpc", None)
    kind = console_kind(grant.console_type)
    if instance.host and kind is not None and rpc is not None and hasattr(rpc, kind.rpc_method):
        try:
            answer = await asyncio.wait_for(
                getattr(rpc, kind.rpc_method)(instance.host, grant.instance_uuid),
                CONNECT_INFO_TIMEOUT,
            )
            info.update({k: answer.get(k) for k in info})
        except Exception as exc:
            # A stopped guest or the fake driver has no console; the token is still shown.
            log.info("no %s info for %s: %s", kind.label, grant.instance_uuid, exc)
    return {"console": {"instance_uuid": grant.instance_uuid, **info}}


# --- the legacy actions (POST /servers/{id}/action, microversions 2.1–2.5) -------------


def _legacy(name: str, allowed: list[str]) -> Callable[[Call], Awaitable[Response]]:
    async def action(call: Call) -> Response:
        if call.version >= Version(2, 6):
            raise NotFound("The resource could not be found.")
        arg = call.obj(name)
        console_type = _check_enum(arg, "type", allowed)
        _no_extra(arg, {"type"})

        def allowed_here() -> None:
            with call.request.app.state.db.reader() as s:
                instance = load_server(s, call.authz, call.server_id)
                call.authz.enforce(target(instance), rule=REMOTE_CONSOLES)

        if name == "os-getVNCConsole":
            url = await _vnc_url(call.request, call.authz, call.server_id, console_type)
        elif name == "os-getSerialConsole":
            url = await _serial_url(call.request, call.authz, call.server_id, console_type)
        else:
            await run_in_threadpool(allowed_here)
            raise BadRequest(f"Unavailable console type {console_type}.")
        return JSONResponse({"console": {"type": console_type, "url": url}}, status_code=200)

    return action


#: The deprecated console actions, merged into the server actions' table.
LEGACY_ACTIONS = {
    "os-getSerialConsole": _legacy("os-getSerialConsole", ["serial"]),
    "os-getVNCConsole": _legacy("os-getVNCConsole", ["novnc", "xvpvnc"]),
    "os-getSPICEConsole": _legacy("os-getSPICEConsole", ["spice-html5"]),
    "os-getRDPConsole": _legacy("os-getRDPConsole", ["rdp-html5"]),
}
