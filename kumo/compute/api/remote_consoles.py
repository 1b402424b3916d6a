"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6+), the legacy
``os-get*Console`` actions (2.1–2.5) and ``GET /os-console-auth-tokens/{token}``.

Only the serial console exists here (VNC, SPICE, RDP and MKS answer 400
"Unavailable console type", as a Nova with them disabled does). Its URL points
at the websocket proxy of :mod:`kumo.compute.api.serial_proxy` with a token of
:mod:`kumo.compute.consoles`; creating the URL does not reach the compute host
(the proxy asks it when a client connects).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route, service_base
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

#: Where the websocket proxy is served, below the compute service's prefix.
PROXY_PATH = "/serial-console/"
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


def ensure_console_ready(instance: Instance) -> str:
    """The host of a server whose console may be reached now; 409 otherwise."""
    if instance.task_state in _BUSY_TASKS:
        raise Conflict(
            f"Cannot 'get_serial_console' instance {instance.uuid} while it is in "
            f"task_state {instance.task_state}"
        )
    if instance.vm_state != states.ACTIVE:
        raise Conflict(
            f"Cannot 'get_serial_console' instance {instance.uuid} while it is in "
            f"vm_state {instance.vm_state}"
        )
    if not instance.host:
        raise Conflict(f"Instance {instance.uuid} is not ready")
    return str(instance.host)


def proxy_url(request: Request, token: str) -> str:
    """The websocket URL of the serial proxy (same host and port the client called)."""
    base = service_base(request)
    scheme, sep, rest = base.partition("://")
    ws_scheme = "wss" if scheme == "https" else "ws"
    return f"{ws_scheme}{sep}{rest}{PROXY_PATH}?token={token}"


async def _serial_url(request: Request, authz: Authz, server_id: str, console_type: str) -> str:
    """Check the server and the caller, then issue a token and build the console URL."""
    if console_type != "serial":
        raise BadRequest(f"Invalid console type {console_type}")

    def check() -> None:
        with request.app.state.db.reader() as s:
            instance = load_server(s, authz, server_id)
            authz.enforce(target(instance), rule=REMOTE_CONSOLES)
            ensure_console_ready(instance)

    await run_in_threadpool(check)
    token = console_tokens(request.app.state).issue(server_id, console_type)
    return proxy_url(request, token)


@route(router, "POST", "/v2.1/servers/{server_id}/remote-consoles", policy=REMOTE_CONSOLES)
async def create_remote_console(
    server_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """A console URL for the server (Nova 2.6+); only ``serial`` is available."""
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
    if instance.host and rpc is not None and hasattr(rpc, "serial_console"):
        try:
            answer = await asyncio.wait_for(
                rpc.serial_console(instance.host, grant.instance_uuid), CONNECT_INFO_TIMEOUT
            )
            info.update({k: answer.get(k) for k in info})
        except Exception as exc:
            # A stopped guest or the fake driver has no console; the token is still shown.
            log.info("no serial console info for %s: %s", grant.instance_uuid, exc)
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

        if name != "os-getSerialConsole":
            await run_in_threadpool(allowed_here)
            raise BadRequest(f"Unavailable console type {console_type}.")
        url = await _serial_url(call.request, call.authz, call.server_id, console_type)
        return JSONResponse({"console": {"type": console_type, "url": url}}, status_code=200)

    return action


#: The deprecated console actions, merged into the server actions' table.
LEGACY_ACTIONS = {
    "os-getSerialConsole": _legacy("os-getSerialConsole", ["serial"]),
    "os-getVNCConsole": _legacy("os-getVNCConsole", ["novnc", "xvpvnc"]),
    "os-getSPICEConsole": _legacy("os-getSPICEConsole", ["spice-html5"]),
    "os-getRDPConsole": _legacy("os-getRDPConsole", ["rdp-html5"]),
}
