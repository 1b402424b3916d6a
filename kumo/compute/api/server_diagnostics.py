"""/servers/{id}/diagnostics: hypervisor statistics of a server (admins).

Kumo's compute hosts do not report guest statistics yet, so an admin gets Nova's
answer for a driver without diagnostics (501); everyone else gets 403 from the policy.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import NotImplementedYet
from kumo.compute.api.server_common import load_server, target

router = APIRouter()


@route(
    router,
    "GET",
    "/v2.1/servers/{server_id}/diagnostics",
    policy="os_compute_api:os-server-diagnostics",
)
def show_diagnostics(server_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """501 for an existing server the caller may inspect (no driver reports diagnostics)."""
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
        authz.enforce(target(instance))
    raise NotImplementedYet("Unable to get diagnostics, functionality not implemented")
