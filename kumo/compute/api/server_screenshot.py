"""``GET /servers/{id}/screenshot``: a PNG of the server's display (a Kumo extension).

For the dashboard's thumbnail of a graphical guest. The compute host takes it
(QEMU's QMP ``screendump``) and sends it back over the bus. Who may read a
server's console output may see its screen (the same policy rule). A guest
without a display (microvm) answers 400 saying how to get one; a server that
is not running, 409.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.bus import RemoteError
from kumo.common.bus.base import BusError
from kumo.common.errors import BadRequest, Conflict, ServiceUnavailable
from kumo.compute.api.remote_consoles import VNC, ensure_console_ready
from kumo.compute.api.server_common import load_server, target

router = APIRouter()
#: The rule of os-getConsoleOutput: the screen shows what the console log does.
SCREENSHOT_POLICY = "os_compute_api:os-console-output"


@route(
    router,
    "GET",
    "/v2.1/servers/{server_id}/screenshot",
    policy=SCREENSHOT_POLICY,
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def show_screenshot(server_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """The server's display as ``image/png``, taken now on its compute host."""

    def find() -> str:
        with request.app.state.db.reader() as s:
            instance = load_server(s, authz, server_id)
            authz.enforce(target(instance))
            return ensure_console_ready(instance, VNC)

    host = await run_in_threadpool(find)
    rpc = getattr(request.app.state, "compute_rpc", None)
    if rpc is None or not hasattr(rpc, "screenshot"):
        raise ServiceUnavailable("No compute control plane answers here.")
    try:
        png: bytes = await rpc.screenshot(host, server_id)
    except RemoteError as exc:
        if exc.exc_type == "NoDisplay":
            raise BadRequest(exc.message) from None
        raise Conflict(f"Cannot take a screenshot of instance {server_id}: {exc.message}") from None
    except BusError as exc:
        raise ServiceUnavailable(
            f"Compute host {host} did not answer: {type(exc).__name__}"
        ) from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})
