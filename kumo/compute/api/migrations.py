"""/os-migrations (admins) and /servers/{id}/migrations (in-progress live migrations).

The records are read from the instance actions (:mod:`kumo.compute.service.migrations`).
Microversions: 2.23 adds ``migration_type`` and the ``migration_type`` filter; 2.59 adds
``uuid``, ``changes-since`` and ``limit``/``marker`` paging with ``migrations_links``;
2.66 ``changes-before``; 2.80 ``user_id``/``project_id`` (fields and filters).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute.api.paging import after_marker, non_negative_int
from kumo.compute.api.server_common import load_server
from kumo.compute.api.server_views import naive_time
from kumo.compute.api.versions import compute_version
from kumo.compute.service import migrations
from kumo.compute.service.migrations import Migration

router = APIRouter()
V = Version


def _view(m: Migration, version: Version) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": m.id,
        "status": m.status,
        "instance_uuid": m.instance_uuid,
        "source_node": m.source_node,
        "source_compute": m.source_compute,
        "dest_node": m.dest_node,
        "dest_compute": m.dest_compute,
        "dest_host": None,
        "old_instance_type_id": m.old_instance_type_id,
        "new_instance_type_id": m.new_instance_type_id,
        "created_at": naive_time(m.created_at),
        "updated_at": naive_time(m.updated_at),
    }
    if version >= V(2, 23):
        view["migration_type"] = m.migration_type
    if version >= V(2, 59):
        view["uuid"] = m.uuid
    if version >= V(2, 80):
        view["user_id"] = m.user_id
        view["project_id"] = m.project_id
    return view


def _time(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise BadRequest(
            f"Invalid input for query parameters {name}. Value: {value}. "
            f"'{value}' is not a 'date-time'"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _since_filters(found: list[Migration], params: Any, version: Version) -> list[Migration]:
    def changed(m: Migration) -> dt.datetime:
        return m.updated_at or m.created_at

    since = _time(params["changes-since"], "changes-since") if "changes-since" in params else None
    before = None
    if version >= V(2, 66) and "changes-before" in params:
        before = _time(params["changes-before"], "changes-before")
    if since and before and before < since:
        raise BadRequest("The value of changes-since must be less than or equal to changes-before.")
    if since:
        found = [m for m in found if changed(m) >= since]
    if before:
        found = [m for m in found if changed(m) <= before]
    return found


@route(router, "GET", "/v2.1/os-migrations", policy="os_compute_api:os-migrations:index")
def list_migrations(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every migration (resize, cold migration, evacuation), newest first, filtered."""
    authz.enforce({})
    version = compute_version(request)
    params = request.query_params
    with request.app.state.db.reader() as s:
        found = migrations.list_migrations(s, params.get("instance_uuid"))
    if "status" in params:
        found = [m for m in found if m.status == params["status"]]
    if "host" in params:
        found = [m for m in found if params["host"] in (m.source_compute, m.dest_compute)]
    if "source_compute" in params:
        found = [m for m in found if m.source_compute == params["source_compute"]]
    if version >= V(2, 23) and "migration_type" in params:
        found = [m for m in found if m.migration_type == params["migration_type"]]
    if version >= V(2, 80):
        for key in ("user_id", "project_id"):
            if key in params:
                found = [m for m in found if getattr(m, key) == params[key]]
    body: dict[str, Any] = {}
    if version >= V(2, 59):
        found = _since_filters(found, params, version)
        found = after_marker(found, [m.uuid for m in found], params.get("marker"))
        limit = non_negative_int(params, "limit")
        if limit is not None and len(found) > limit:
            found = found[:limit]
            args = [(k, v) for k, v in params.multi_items() if k != "marker"]
            args.append(("marker", found[-1].uuid if found else ""))
            body["migrations_links"] = [
                {
                    "rel": "next",
                    "href": f"{service_base(request)}/v2.1/os-migrations?{urlencode(args)}",
                }
            ]
    body["migrations"] = [_view(m, version) for m in found]
    return body


@route(
    router,
    "GET",
    "/v2.1/servers/{server_id}/migrations",
    policy="os_compute_api:servers:migrations:index",
)
def list_server_migrations(
    server_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """The server's in-progress live migrations (2.23+): Kumo's hosts do none, so []."""
    if compute_version(request) < V(2, 23):
        raise NotFound("The resource could not be found.")
    with request.app.state.db.reader() as s:
        load_server(s, authz, server_id)
        moving = migrations.list_migrations(s, server_id)
    live = [
        m
        for m in moving
        if m.migration_type == "live-migration" and m.status in ("running", "preparing", "queued")
    ]
    return {"migrations": [_view(m, compute_version(request)) for m in live]}


def _no_live_migration(
    request: Request, authz: Authz, server_id: str, migration_id: str, since: V
) -> NoReturn:
    """404 for a route older than ``since``, else the server's 404 or the migration's."""
    if compute_version(request) < since:
        raise NotFound("The resource could not be found.")
    with request.app.state.db.reader() as s:
        load_server(s, authz, server_id)
    # Only in-progress live migrations are shown or acted on, and Kumo's hosts run none.
    raise NotFound(f"Migration {migration_id} not found for server {server_id}.")


@route(
    router,
    "GET",
    "/v2.1/servers/{server_id}/migrations/{migration_id}",
    policy="os_compute_api:servers:migrations:show",
)
def show_server_migration(
    server_id: str, migration_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """An in-progress live migration of the server (2.23+): none exist, so 404."""
    _no_live_migration(request, authz, server_id, migration_id, V(2, 23))


@route(
    router,
    "POST",
    "/v2.1/servers/{server_id}/migrations/{migration_id}/action",
    policy="os_compute_api:servers:migrations:force_complete",
)
def force_complete_migration(
    server_id: str, migration_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Force a live migration to complete (2.22+): there is none to force, so 404."""
    _no_live_migration(request, authz, server_id, migration_id, V(2, 22))


@route(
    router,
    "DELETE",
    "/v2.1/servers/{server_id}/migrations/{migration_id}",
    policy="os_compute_api:servers:migrations:delete",
    status_code=202,
)
def abort_migration(
    server_id: str, migration_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Abort a live migration (2.24+): there is none to abort, so 404."""
    _no_live_migration(request, authz, server_id, migration_id, V(2, 24))
