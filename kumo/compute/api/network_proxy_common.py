"""What Nova's nova-network proxy routes share: the proxy, the 2.36 cut-off, bodies."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from kumo.common.api import Authz
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute.api.versions import compute_version
from kumo.compute.service.network_proxy import NeutronProxy


def proxy(request: Request) -> NeutronProxy:
    """The app's networking API client (made on first use; tests put their own there)."""
    state = request.app.state
    found = getattr(state, "network_proxy", None)
    if found is None:
        found = NeutronProxy(state.settings)
        state.network_proxy = found
    result: NeutronProxy = found
    return result


def proxy_version(request: Request, last: Version = Version(2, 35)) -> None:
    """404 above ``last``: Nova removed the proxies at 2.36 (2.44 for the FIP actions)."""
    if compute_version(request) > last:
        raise NotFound("The resource could not be found.")


def admit(request: Request, authz: Authz) -> None:
    """What every proxy route checks first: the microversion (404), then the policy (403)."""
    proxy_version(request)
    authz.enforce()


def open_proxy(request: Request, authz: Authz) -> NeutronProxy:
    """:func:`admit` the call, then the networking API client to serve it with."""
    admit(request, authz)
    return proxy(request)


async def json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body when ``optional``)."""
    raw = await request.body()
    if not raw.strip():
        if optional:
            return {}
        raise BadRequest("The request body can't be empty")
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadRequest("Malformed request body") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object")
    return data
