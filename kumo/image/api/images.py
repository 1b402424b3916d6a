"""/v2/images: create, list, show, JSON-patch update, delete, (de)activate, tags."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.errors import BadRequest, Forbidden, NotFound, UnsupportedMediaType
from kumo.image.api.deps import caller, enforce, enforce_on_image
from kumo.image.api.views import image_view, task_view
from kumo.image.schemas import AnyObject, storable
from kumo.image.service import images, store, tasks
from kumo.image.service.images import (
    LIMIT_DEFAULT,
    LIMIT_MAX,
    SORT_KEYS,
    VISIBILITIES,
    ListQuery,
)

router = APIRouter()

PATCH_TYPES = (
    "application/openstack-images-v2.0-json-patch",
    "application/openstack-images-v2.1-json-patch",
)
IMPORT_METHODS = "glance-direct"


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _enforce_visibility(authz: Authz, target: dict[str, Any], visibility: str | None) -> None:
    if visibility == "public":
        enforce(authz, "publicize_image", target)
    elif visibility == "community":
        enforce(authz, "communitize_image", target)


@route(router, "POST", "/v2/images", policy="add_image", status_code=201)
def create_image(body: AnyObject, request: Request, authz: Authz = AuthzDep) -> JSONResponse:
    """Create an image record (``queued``, no data yet)."""
    new = images.parse_create(body.members(), authz.ctx.project_id)
    owner = new.attributes.get("owner")
    visibility = new.attributes["visibility"]
    target = {"project_id": owner, "owner": owner, "visibility": visibility}
    if not authz.enforcer.check_rule("add_image", authz.creds(), target):
        if owner != authz.ctx.project_id:
            raise Forbidden(f"You are not permitted to create images owned by '{owner}'.")
        raise Forbidden("You are not authorized to perform the requested action: add_image.")
    _enforce_visibility(authz, target, visibility)
    image = images.create_image(_db(request), new, _settings(request).image_count_total)
    return JSONResponse(
        image_view(image),
        status_code=201,
        headers={
            "Location": f"/v2/images/{image.id}",
            "OpenStack-image-import-methods": IMPORT_METHODS,
        },
    )


def _one(params: Any, key: str) -> str | None:
    values = params.getlist(key)
    return values[-1] if values else None


def parse_list_query(params: Any) -> ListQuery:
    """Glance's image list query string, validated."""
    query = ListQuery()
    filters: dict[str, str] = {}
    for key in params:
        if key in ("limit", "marker", "member_status", "tag", "sort", "sort_key", "sort_dir"):
            continue
        if key == "changes-since":
            raise BadRequest('The "changes-since" filter is no longer available on v2.')
        value = _one(params, key)
        if value is not None:
            filters[key] = storable(value)
    visibility = filters.pop("visibility", None)
    if visibility:
        if visibility not in (*VISIBILITIES, "all"):
            raise BadRequest(f"Invalid visibility value: {visibility}")
        query.visibility = visibility
    filters.setdefault("os_hidden", "false")
    filters["os_hidden"] = filters["os_hidden"].lower()
    query.filters = filters
    query.tags = [storable(t.strip()) for t in params.getlist("tag")]
    member_status = _one(params, "member_status") or "accepted"
    if member_status not in ("pending", "accepted", "rejected", "all"):
        raise BadRequest(f"Invalid status: {member_status}")
    query.member_status = member_status
    query.marker = _one(params, "marker")
    limit = _one(params, "limit")
    if limit is not None:
        try:
            number = int(limit)
        except ValueError:
            raise BadRequest("limit param must be an integer") from None
        if number < 0:
            raise BadRequest("limit param must be positive")
        query.limit = min(number, LIMIT_MAX)
    else:
        query.limit = LIMIT_DEFAULT
    query.sort_keys, query.sort_dirs = _sorting(params)
    return query


def _sort_key(key: str) -> str:
    if key not in SORT_KEYS:
        raise BadRequest(
            f"Invalid sort key: {key}. It must be one of the following: {', '.join(SORT_KEYS)}."
        )
    return key


def _sort_dir(direction: str) -> str:
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}")
    return direction


def _sorting(params: Any) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    dirs: list[str] = []
    if "sort" in params:
        if "sort_key" in params or "sort_dir" in params:
            raise BadRequest("Old and new sorting syntax cannot be combined")
        for part in (_one(params, "sort") or "").strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(_sort_key(key.strip()))
            dirs.append(_sort_dir(direction.strip() or "desc"))
    else:
        keys = [_sort_key(k.strip()) for k in params.getlist("sort_key")]
        dirs = [_sort_dir(d.strip()) for d in params.getlist("sort_dir")]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise BadRequest("Number of sort dirs does not match the number of sort keys")
    return keys or ["created_at"], dirs or ["desc"]


@route(router, "GET", "/v2/images", policy="get_images")
def list_images(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List images with Glance's filters, sorting and marker pagination."""
    enforce(authz, "get_images", {"project_id": authz.ctx.project_id})
    query = parse_list_query(request.query_params)
    who = caller(authz)
    page, full = images.list_images(_db(request), who, query)
    body: dict[str, Any] = {
        "images": [image_view(i) for i in page],
        "first": "/v2/images",
        "schema": "/v2/schemas/images",
    }
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    if params:
        body["first"] = f"/v2/images?{urlencode(params)}"
    if full and page:
        body["next"] = "/v2/images?" + urlencode([*params, ("marker", page[-1].id)])
    return body


@route(router, "GET", "/v2/images/", policy="get_image")
@route(router, "DELETE", "/v2/images/", policy="delete_image")
def no_image_id(authz: Authz = AuthzDep) -> None:
    """An empty image id names no image (Glance: 404, not a redirect to the list)."""
    raise NotFound("No image found with ID ")


@route(router, "GET", "/v2/images/{image_id}", policy="get_image")
def show_image(image_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show one image."""
    who = caller(authz)
    image = images.get_image(_db(request), who, image_id)
    member = images.member_status_of(_db(request), image_id, who.project_id)
    enforce_on_image(authz, "get_image", image, who.project_id if member else None)
    return image_view(image)


@route(router, "PATCH", "/v2/images/{image_id}", policy="modify_image")
async def update_image(image_id: str, request: Request, authz: Authz = AuthzDep) -> JSONResponse:
    """Update an image with a JSON-patch document (Glance's media type)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in PATCH_TYPES:
        error = UnsupportedMediaType(
            f"Image PATCH expects Content-Type one of: {', '.join(sorted(PATCH_TYPES))}"
        )
        raise error
    raw = await request.body()
    if not raw:
        raise BadRequest("Body expected in request.")
    try:
        document = json.loads(raw)
    except ValueError:
        raise BadRequest("Malformed JSON in request body.") from None
    draft = 4 if content_type == PATCH_TYPES[0] else 10
    changes = images.parse_patch(storable(document), draft)
    who = caller(authz)
    db = _db(request)
    image = await run_in_threadpool(images.get_image, db, who, image_id)
    enforce_on_image(authz, "modify_image", image)
    for change in changes:
        if change.path == "visibility" and change.op != "remove":
            _enforce_visibility(
                authz,
                {"project_id": image.owner, "owner": image.owner, "visibility": image.visibility},
                change.value,
            )
    updated = await run_in_threadpool(images.update_image, db, who, image_id, changes)
    return JSONResponse(image_view(updated))


@route(router, "DELETE", "/v2/images/{image_id}", policy="delete_image", status_code=204)
def delete_image(image_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete an image and its data (403 when protected)."""
    who = caller(authz)
    db = _db(request)
    image = images.get_image(db, who, image_id)
    enforce_on_image(authz, "delete_image", image)
    location = images.delete_image(db, who, image_id)
    state_dir = _settings(request).state_dir
    if location is not None:
        store.remove(store.store_dir(state_dir) / location)
    store.remove(store.staging_path(state_dir, image_id))
    return Response(status_code=204)


@route(
    router,
    "POST",
    "/v2/images/{image_id}/actions/deactivate",
    policy="deactivate",
    status_code=204,
)
def deactivate_image(image_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Deactivate an active image: its data cannot be downloaded (except by admins)."""
    who = caller(authz)
    image = images.get_image(_db(request), who, image_id)
    enforce_on_image(authz, "deactivate", image)
    images.set_status(_db(request), who, image_id, "deactivated", ("active",))
    return Response(status_code=204)


@route(
    router,
    "POST",
    "/v2/images/{image_id}/actions/reactivate",
    policy="reactivate",
    status_code=204,
)
def reactivate_image(image_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Reactivate a deactivated image."""
    who = caller(authz)
    image = images.get_image(_db(request), who, image_id)
    enforce_on_image(authz, "reactivate", image)
    images.set_status(_db(request), who, image_id, "active", ("deactivated",))
    return Response(status_code=204)


@route(router, "PUT", "/v2/images/{image_id}/tags/{tag}", policy="modify_image", status_code=204)
def add_tag(image_id: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Add a tag to an image."""
    who = caller(authz)
    image = images.get_image(_db(request), who, image_id)
    enforce_on_image(authz, "modify_image", image)
    images.add_tag(_db(request), who, image_id, storable(tag))
    return Response(status_code=204)


@route(router, "DELETE", "/v2/images/{image_id}/tags/{tag}", policy="modify_image", status_code=204)
def delete_tag(image_id: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Remove a tag from an image."""
    who = caller(authz)
    image = images.get_image(_db(request), who, image_id)
    enforce_on_image(authz, "modify_image", image)
    images.delete_tag(_db(request), who, image_id, tag)
    return Response(status_code=204)


@route(router, "GET", "/v2/images/{image_id}/tasks", policy="get_image")
def list_image_tasks(image_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The import tasks of an image (API 2.12)."""
    who = caller(authz)
    image = images.get_image(_db(request), who, image_id)
    enforce_on_image(authz, "get_image", image)
    return {"tasks": [task_view(t) for t in tasks.for_image(_db(request), image_id)]}
