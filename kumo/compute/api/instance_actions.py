"""/servers/{id}/os-instance-actions: what was done to a server, with its events.

Events carry the boot journey's steps (:mod:`kumo.compute.journey`). As in Nova,
admins see every event field; others see events from 2.51 on, without the
traceback; ``hostId`` from 2.62 for everybody, ``host`` for admins, ``details``
from 2.84 for admins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute.api.paging import after_marker, non_negative_int
from kumo.compute.api.server_common import load_server, target
from kumo.compute.api.server_views import host_id, naive_time
from kumo.compute.api.versions import compute_version
from kumo.compute.db.instance_actions import InstanceAction, InstanceActionEvent
from kumo.compute.service import instance_actions

router = APIRouter()
BASE = "/v2.1/servers/{server_id}/os-instance-actions"
RULE = "os_compute_api:os-instance-actions:%s"
V = Version


def _action_view(action: InstanceAction, version: Version) -> dict[str, Any]:
    view = {
        "action": action.action,
        "instance_uuid": action.instance_uuid,
        "request_id": action.request_id,
        "user_id": action.user_id,
        "project_id": action.project_id,
        "start_time": naive_time(action.start_time),
        "message": action.message,
    }
    if version >= V(2, 58):
        view["updated_at"] = naive_time(action.updated_at)
    return view


def _time(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@route(router, "GET", BASE, policy=RULE % "list")
def list_instance_actions(
    server_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """The server's actions, newest first (≥2.58: paged and filtered by time)."""
    version = compute_version(request)
    params = request.query_params
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id, read_deleted=version >= V(2, 21))
        actions = instance_actions.list_actions(s, instance.uuid)
    body: dict[str, Any] = {}
    if version >= V(2, 58):
        if "changes-since" in params:
            since = _time(params["changes-since"], "changes-since")
            actions = [a for a in actions if a.updated_at >= since]
        if "changes-before" in params and version >= V(2, 66):
            before = _time(params["changes-before"], "changes-before")
            if "changes-since" in params and before < _time(params["changes-since"], "x"):
                raise BadRequest(
                    "The value of changes-since must be less than or equal to changes-before."
                )
            actions = [a for a in actions if a.updated_at <= before]
        actions = after_marker(actions, [a.request_id for a in actions], params.get("marker"))
        limit = non_negative_int(params, "limit")
        if limit is not None:
            actions = actions[:limit]
            if actions and len(actions) == limit:
                args = [(k, v) for k, v in params.multi_items() if k != "marker"]
                args.append(("marker", actions[-1].request_id))
                href = (
                    f"{service_base(request)}/v2.1/servers/{server_id}/os-instance-actions"
                    f"?{urlencode(args)}"
                )
                body["links"] = [{"rel": "next", "href": href}]
    body["instanceActions"] = [_action_view(a, version) for a in actions]
    return body


@route(router, "GET", BASE + "/{request_id}", policy=RULE % "show")
def show_instance_action(
    server_id: str, request_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One action with its events, as much of them as the caller may see."""
    version = compute_version(request)
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id, read_deleted=version >= V(2, 21))
        try:
            action = instance_actions.find_action(s, instance.uuid, request_id)
        except NotFound:
            raise NotFound(f"Action {request_id} not found") from None
        events = instance_actions.list_events(s, action.id)
    tgt = target(instance)
    full = authz.allows(tgt, rule=RULE % "events")
    show_events = full or version >= V(2, 51)
    view = _action_view(action, version)
    if show_events:
        details = version >= V(2, 84) and authz.allows(tgt, rule=RULE % "events:details")
        project = action.project_id or instance.project_id
        view["events"] = [
            _event_view(e, version, project, full=full, details=details) for e in events
        ]
    return {"instanceAction": view}


def _event_view(
    event: InstanceActionEvent, version: Version, project_id: str, *, full: bool, details: bool
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "event": event.event,
        "start_time": naive_time(event.start_time),
        "finish_time": naive_time(event.finish_time),
        "result": event.result,
    }
    if full:
        view["traceback"] = event.traceback
        if version >= V(2, 62):
            view["host"] = event.host or ""
    if version >= V(2, 62):
        view["hostId"] = host_id(event.host, project_id)
    if details:
        view["details"] = event.details
    return view
