"""/os-aggregates: host aggregates (admin only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute.api.versions import compute_version
from kumo.compute.schemas import params
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service import aggregates
from kumo.compute.service.aggregates import AggregateInfo

router = APIRouter()

BASE = "/v2.1/os-aggregates"
ACTIONS = {
    "add_host": "os_compute_api:os-aggregates:add_host",
    "remove_host": "os_compute_api:os-aggregates:remove_host",
    "set_metadata": "os_compute_api:os-aggregates:set_metadata",
}


def _time(value: Any) -> str | None:
    return None if value is None else str(value.replace(tzinfo=None).isoformat())


def _view(info: AggregateInfo, version: Version, *, full: bool = True) -> dict[str, Any]:
    agg = info.aggregate
    view: dict[str, Any] = {
        "id": agg.id,
        "name": agg.name,
        "availability_zone": info.availability_zone,
        "created_at": _time(agg.created_at),
        "updated_at": _time(agg.updated_at),
        "deleted_at": None,
        "deleted": False,
    }
    if full:
        view["hosts"] = info.hosts
        view["metadata"] = info.metadata
    if version >= Version(2, 41):
        view["uuid"] = agg.uuid
    return view


def _id(aggregate_id: str) -> int:
    try:
        return int(aggregate_id)
    except ValueError:
        raise BadRequest(f"Invalid aggregate id {aggregate_id}: must be an integer.") from None


def _zone(value: Any) -> str | None:
    if value is None:
        return None
    return params.name("availability_zone", value)


@route(router, "GET", BASE, policy="os_compute_api:os-aggregates:index")
def list_aggregates(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every aggregate."""
    authz.enforce()
    version = compute_version(request)
    with request.app.state.db.reader() as s:
        return {"aggregates": [_view(a, version) for a in aggregates.list_aggregates(s)]}


@route(router, "POST", BASE, policy="os_compute_api:os-aggregates:create")
def create_aggregate(body: JsonBody, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Create an aggregate, optionally setting its availability zone."""
    authz.enforce()
    data = body.data()
    agg = params.obj(data, "aggregate")
    params.only(data, ["aggregate"], "body")
    params.only(agg, ["name", "availability_zone"], "aggregate")
    params.require(agg, ["name"], "aggregate")
    name = params.name("name", agg["name"])
    zone = _zone(agg.get("availability_zone"))
    with request.app.state.db.writer() as s:
        info = aggregates.create_aggregate(s, name, zone)
    return {"aggregate": _view(info, compute_version(request), full=False)}


@route(router, "GET", BASE + "/{aggregate_id}", policy="os_compute_api:os-aggregates:show")
def show_aggregate(aggregate_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One aggregate with its hosts and metadata."""
    authz.enforce()
    with request.app.state.db.reader() as s:
        info = aggregates.get_aggregate(s, _id(aggregate_id))
    return {"aggregate": _view(info, compute_version(request))}


@route(router, "PUT", BASE + "/{aggregate_id}", policy="os_compute_api:os-aggregates:update")
def update_aggregate(
    aggregate_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Rename an aggregate and/or change its availability zone."""
    authz.enforce()
    data = body.data()
    agg = params.obj(data, "aggregate")
    params.only(data, ["aggregate"], "body")
    params.only(agg, ["name", "availability_zone"], "aggregate")
    if not agg:
        raise params.invalid("aggregate", agg, "{} does not have enough properties")
    name = params.name("name", agg["name"]) if "name" in agg else None
    with request.app.state.db.writer() as s:
        info = aggregates.update_aggregate(
            s,
            _id(aggregate_id),
            name=name,
            availability_zone=_zone(agg.get("availability_zone")),
            set_zone="availability_zone" in agg,
        )
    return {"aggregate": _view(info, compute_version(request))}


@route(router, "DELETE", BASE + "/{aggregate_id}", policy="os_compute_api:os-aggregates:delete")
def delete_aggregate(aggregate_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete an empty aggregate (Nova answers 200)."""
    authz.enforce()
    with request.app.state.db.writer() as s:
        aggregates.delete_aggregate(s, _id(aggregate_id))
    return Response(status_code=200)


@route(
    router,
    "POST",
    BASE + "/{aggregate_id}/action",
    policy="os_compute_api:os-aggregates:add_host",
)
def aggregate_action(
    aggregate_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """``add_host``, ``remove_host`` or ``set_metadata``."""
    data = body.data()
    if len(data) != 1 or next(iter(data)) not in ACTIONS:
        raise BadRequest(
            "Invalid request body: expected one of add_host, remove_host, set_metadata."
        )
    action = next(iter(data))
    authz.enforce(rule=ACTIONS[action])
    args = params.obj(data, action)
    agg_id = _id(aggregate_id)
    with request.app.state.db.writer() as s:
        if action == "set_metadata":
            params.only(args, ["metadata"], action)
            params.require(args, ["metadata"], action)
            meta = args["metadata"]
            if not isinstance(meta, dict):
                raise params.invalid("metadata", meta, f"{meta!r} is not of type 'object'")
            values: dict[str, str | None] = {}
            for key, value in meta.items():
                params.string("metadata key", key, 1, 255)
                if value is not None:
                    value = params.string(key, value, 0, 255)
                values[key] = value
            if "availability_zone" in values and values["availability_zone"] is not None:
                _zone(values["availability_zone"])
            info = aggregates.set_metadata(s, agg_id, values)
        else:
            params.only(args, ["host"], action)
            params.require(args, ["host"], action)
            host = params.string("host", args["host"], 1, 255)
            if action == "add_host":
                info = aggregates.add_host(s, agg_id, host)
            else:
                info = aggregates.remove_host(s, agg_id, host)
    return {"aggregate": _view(info, compute_version(request))}


@route(router, "POST", BASE + "/{aggregate_id}/images", policy="compute:aggregates:images")
def cache_images(
    aggregate_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Ask the aggregate's hosts to pre-cache images (≥2.81); accepted, nothing to do here.

    Kumo's hosts fetch images on demand, so the request is validated and accepted (202)
    like Nova, which also answers before any host acts on it.
    """
    if compute_version(request) < Version(2, 81):
        raise NotFound("The resource could not be found.")
    authz.enforce()
    data = body.data()
    params.only(data, ["cache"], "body")
    params.require(data, ["cache"], "body")
    cache = data["cache"]
    if not isinstance(cache, list) or not cache:
        raise params.invalid("cache", cache, "cache must be a non-empty list")
    for item in cache:
        if not isinstance(item, dict) or set(item) != {"id"} or not isinstance(item["id"], str):
            raise params.invalid("cache", item, "each entry must be {'id': <image id>}")
    with request.app.state.db.reader() as s:
        aggregates.get_aggregate(s, _id(aggregate_id))
    return Response(status_code=202)
