"""/servers/{id}: show, update and delete one server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import ValidationError
from kumo.common.microversion import Version
from kumo.compute import states
from kumo.compute.api.server_common import (
    db,
    down_time,
    is_admin,
    load_server,
    local_cleanup,
    render,
    request_id,
    since,
)
from kumo.compute.api.server_views import ServerViewer
from kumo.compute.db.instances import Instance
from kumo.compute.policies import servers as policy
from kumo.compute.schemas.servers import ServerUpdateRequest
from kumo.compute.service import server_actions, server_extras

router = APIRouter()

BASE = "/v2.1/servers"
V = Version


# --- one server -------------------------------------------------------------


@route(router, "GET", BASE + "/{server_id}", policy=policy.SERVERS % "show")
def show_server(server_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One server (a deleted one is 404 for everybody, as Nova reads with read_deleted=no)."""
    viewer = ServerViewer.for_request(request, authz)
    with db(request).reader() as s:
        instance = load_server(s, authz, server_id)
        extras = server_extras.load_extras(s, [instance], down_time(request))
    return {"server": viewer.show(instance, extras[instance.uuid])}


@route(router, "PUT", BASE + "/{server_id}", policy=policy.SERVERS % "update")
def update_server(
    server_id: str, body: ServerUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Rename a server, or change its description, disk config or access IPs."""
    change = body.server
    given = change.model_fields_set
    if "description" in given:
        since(request, "description", V(2, 19), "server")
    if "hostname" in given:
        since(request, "hostname", V(2, 90), "server")
    if "name" in given and change.name is None:
        raise ValidationError(
            "Invalid input for field/attribute name. None is not of type 'string'"
        )
    with db(request).writer() as s:
        instance = load_server(s, authz, server_id)
        if "name" in given and change.name is not None:
            instance.display_name = change.name
        if "description" in given:
            instance.display_description = change.description
        if "disk_config" in given and change.disk_config is not None:
            instance.auto_disk_config = change.disk_config == "AUTO"
        if "accessIPv4" in given:
            instance.access_ip_v4 = change.accessIPv4 or None
        if "accessIPv6" in given:
            instance.access_ip_v6 = change.accessIPv6 or None
        if "hostname" in given and change.hostname:
            instance.hostname = change.hostname
        instance.updated_at = dt.datetime.now(dt.UTC)
        s.flush()
    return {"server": render(request, authz, instance, full=False)}


async def delete_server_now(request: Request, authz: Authz, server_id: str, action: str) -> None:
    """Delete a server: at once when no (live) host holds it, else by its compute host."""
    rid = request_id(request)
    admin = is_admin(authz)
    silent_after = down_time(request)

    def begin() -> tuple[Instance, bool, bool]:
        with db(request).writer() as s:
            instance = load_server(s, authz, server_id)
            server_actions.check_lock(instance, admin)
            if instance.task_state == states.DELETING:
                return instance, False, False  # already on its way out
            local = not server_actions.host_is_up(s, instance.host, silent_after)
            server_actions.begin_action(
                s,
                server_id,
                action,
                record_as="delete",
                request_id=rid,
                user_id=authz.ctx.user_id,
                project_id=authz.ctx.project_id,
                is_admin=admin,
            )
            if local:
                server_actions.delete_locally(s, server_id)
                return instance, False, True
            return instance, True, False

    instance, remote, deleted_here = await run_in_threadpool(begin)
    if not remote:
        if deleted_here:  # no host will free the ports and allocations: do it here
            await local_cleanup(request)(server_id)
        return
    rpc = request.app.state.compute_rpc
    await rpc.run_action(authz.ctx, instance.host, server_id, "delete", rid)


@route(router, "DELETE", BASE + "/{server_id}", policy=policy.SERVERS % "delete", status_code=204)
async def delete_server(server_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a server (204)."""
    await delete_server_now(request, authz, server_id, "delete")
    return Response(status_code=204)
