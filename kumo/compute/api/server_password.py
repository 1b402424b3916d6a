"""/servers/{id}/os-server-password: the guest's encrypted admin password (set by the guest
through the metadata service, shown to the owner, cleared on request)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.db import utcnow
from kumo.compute.api.server_common import load_server

router = APIRouter()
BASE = "/v2.1/servers/{server_id}/os-server-password"
#: Where the password is kept among the instance's system metadata.
KEY = "password"


@route(router, "GET", BASE, policy="os_compute_api:os-server-password:show")
def show_password(server_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The encrypted password ("" when the guest has not set one)."""
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
        return {"password": str((instance.system_metadata or {}).get(KEY, ""))}


@route(router, "DELETE", BASE, policy="os_compute_api:os-server-password:clear", status_code=204)
def clear_password(server_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Forget the password (the guest keeps it)."""
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        meta = dict(instance.system_metadata or {})
        meta.pop(KEY, None)
        instance.system_metadata = meta
        instance.updated_at = utcnow()
    return Response(status_code=204)
