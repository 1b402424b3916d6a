"""GET /servers and /servers/detail: Nova's filters, sorting and pagination."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import BadRequest, Forbidden
from kumo.common.microversion import Version
from kumo.compute import states
from kumo.compute.api.server_common import (
    db,
    down_time,
    is_admin,
)
from kumo.compute.api.server_views import ServerViewer
from kumo.compute.api.versions import compute_version
from kumo.compute.policies import servers as policy
from kumo.compute.service import server_extras, server_list
from kumo.compute.service.server_list import ServerQuery

router = APIRouter()

BASE = "/v2.1/servers"
V = Version
MAX_LIMIT = 1000
_TRUE = ("true", "1", "yes", "on", "y", "t")
_FALSE = ("false", "0", "no", "off", "n", "f")


# --- list -------------------------------------------------------------------


def _parse_time(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid filter field: {name}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadRequest(f"Invalid value '{value}' for {name}")


def _limit(request: Request) -> int | None:
    raw = request.query_params.get("limit")
    if raw is None:
        return None
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if limit < 0:
        raise BadRequest("limit param must be positive")
    return min(limit, MAX_LIMIT)


def _query(request: Request, authz: Authz, detail: bool) -> ServerQuery:
    params = request.query_params
    version = compute_version(request)
    admin = is_admin(authz)
    all_filters = authz.allows(
        {"project_id": authz.ctx.project_id}, rule=policy.SERVERS % "allow_all_filters"
    )
    # Like Nova, a missing limit is the maximum page size; limit=0 is an empty page.
    limit = _limit(request)
    q = ServerQuery(limit=MAX_LIMIT if limit is None else limit, marker=params.get("marker"))

    all_tenants = "all_tenants" in params and (
        params["all_tenants"] == "" or _flag(params["all_tenants"], "all_tenants")
    )
    if all_tenants:
        rule = "detail:get_all_tenants" if detail else "index:get_all_tenants"
        authz.enforce({"project_id": authz.ctx.project_id}, rule=policy.SERVERS % rule)
        project = params.get("project_id") or params.get("tenant_id")
        q.project_id = project or None
    else:
        q.project_id = authz.ctx.project_id
    if "name" in params:
        q.name = params["name"]
    if "status" in params:
        statuses = params.getlist("status")
        known = [x for x in statuses if states.states_for_status(x) or x.upper() == "DELETED"]
        if not known and version >= V(2, 38):
            raise BadRequest("Invalid status value")
        q.statuses = known or ["__none__"]
        if [x.upper() for x in statuses] == ["DELETED"]:
            if not admin:
                raise Forbidden("Only administrators may list deleted instances")
            q.deleted = True
    for name, attr in (
        ("image", "image"),
        ("flavor", "flavor"),
        ("reservation_id", "reservation_id"),
    ):
        if name in params:
            setattr(q, attr, params[name])
    if "ip" in params:
        q.ip = params["ip"]
    if "ip6" in params and (version >= V(2, 5) or all_filters):
        q.ip6 = params["ip6"]
    if "changes-since" in params:
        q.changes_since = _parse_time(params["changes-since"], "changes-since")
        q.deleted = None
    if "changes-before" in params and version >= V(2, 66):
        q.changes_before = _parse_time(params["changes-before"], "changes-before")
        q.deleted = None
        if q.changes_since and q.changes_before < q.changes_since:
            raise BadRequest(
                "The value of changes-since must be less than or equal to changes-before."
            )
    if version >= V(2, 26):
        for name, attr in (
            ("tags", "tags"),
            ("tags-any", "tags_any"),
            ("not-tags", "not_tags"),
            ("not-tags-any", "not_tags_any"),
        ):
            if name in params:
                setattr(q, attr, [t for t in params[name].split(",") if t])
    if "locked" in params and version >= V(2, 73):
        q.locked = _flag(params["locked"], "locked")
    if all_filters:
        if "host" in params:
            q.host = params["host"]
        if "node" in params:
            q.node = params["node"]
        if "deleted" in params:
            q.deleted = _flag(params["deleted"], "deleted")
        if "user_id" in params:
            q.user_id = params["user_id"]
    elif "user_id" in params and version >= V(2, 83):
        q.user_id = params["user_id"]
    q.sort = _sort(request, admin)
    return q


def _sort(request: Request, admin: bool) -> list[tuple[str, str]]:
    keys = request.query_params.getlist("sort_key")
    dirs = request.query_params.getlist("sort_dir")
    out = []
    for index, key in enumerate(keys):
        direction = dirs[index] if index < len(dirs) else (dirs[0] if dirs else "desc")
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort_dir '{direction}'. Sort direction must be asc or desc")
        if key not in server_list.SORT_KEYS:
            raise BadRequest(f"Invalid sort_key '{key}'")
        if key in server_list.ADMIN_SORT_KEYS and not admin:
            continue  # Nova ignores admin-only sort keys for others
        out.append((key, direction))
    return out


def _list(request: Request, authz: Authz, detail: bool) -> dict[str, Any]:
    authz.enforce({"project_id": authz.ctx.project_id})
    q = _query(request, authz, detail)
    viewer = ServerViewer.for_request(request, authz)
    with db(request).reader() as s:
        rows = server_list.list_servers(s, q)
        extras = server_extras.load_extras(s, rows, down_time(request)) if detail else {}
    if detail:
        items = [viewer.show(r, extras[r.uuid], in_list=True) for r in rows]
    else:
        items = [viewer.basic(r) for r in rows]
    body: dict[str, Any] = {"servers": items}
    if q.limit and len(rows) == q.limit:
        args = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
        args.append(("marker", rows[-1].uuid))
        path = "/servers/detail" if detail else "/servers"
        body["servers_links"] = [
            {"rel": "next", "href": f"{service_base(request)}/v2.1{path}?{urlencode(args)}"}
        ]
    return body


@route(router, "GET", BASE, policy=policy.SERVERS % "index")
def list_servers(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's servers: id, name, links."""
    return _list(request, authz, detail=False)


@route(router, "GET", BASE + "/detail", policy=policy.SERVERS % "detail")
def list_servers_detail(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's servers with every field."""
    return _list(request, authz, detail=True)
