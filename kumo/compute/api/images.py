"""/images: Nova's proxy to the image API (up to microversion 2.35, then 404).

Nova keeps no image data: each request goes to Glance with the caller's token and
the answer is rewritten into Nova's shape (:mod:`kumo.compute.service.image_proxy`).
Nova has no policy rule of its own here (Glance decides); the routes are registered
under ``os_compute_api:images`` with Nova's effective default, any authenticated user.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.common.schemas import RequestModel
from kumo.compute.api.versions import compute_version
from kumo.compute.schemas.servers import check_metadata
from kumo.compute.service import image_proxy

router = APIRouter()
BASE = "/v2.1/images"
RULE = "os_compute_api:images"
#: Nova's image list filters → Glance's.
FILTERS = {"name": "name", "server": "instance_uuid", "type": "image_type"}


class MetadataBody(RequestModel):
    """``{"metadata": {...}}`` of POST/PUT ``/images/{id}/metadata``."""

    metadata: dict[str, str]


class MetaBody(RequestModel):
    """``{"meta": {key: value}}`` of PUT ``/images/{id}/metadata/{key}``."""

    meta: dict[str, str]


def _proxy(request: Request) -> image_proxy.ImageProxy:
    state = request.app.state
    proxy = getattr(state, "image_proxy", None)
    if proxy is None:
        proxy = image_proxy.GlanceImageProxy(state.settings)
        state.image_proxy = proxy
    result: image_proxy.ImageProxy = proxy
    return result


def _check_version(request: Request) -> None:
    # Nova removed the proxy at 2.36: later microversions get 404 like any unknown URL.
    if compute_version(request) >= Version(2, 36):
        raise NotFound("The resource could not be found.")


def _view(request: Request, image: dict[str, Any], *, detail: bool) -> dict[str, Any]:
    base = service_base(request)
    image_base = base.rsplit("/compute", 1)[0] + "/image"
    return image_proxy.image_view(image, base, image_base, detail=detail)


async def _get(request: Request, authz: Authz, image_id: str) -> dict[str, Any]:
    try:
        return await _proxy(request).get(authz.ctx, image_id)
    except NotFound:
        raise NotFound("Image not found.") from None


def _since(value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid filter field: changes-since: {value}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


async def _list(request: Request, authz: Authz, *, detail: bool) -> dict[str, Any]:
    _check_version(request)
    q = request.query_params
    params: dict[str, Any] = {}
    for nova, glance in FILTERS.items():
        if nova in q:
            params[glance] = q[nova].rstrip("/").rsplit("/", 1)[-1] if nova == "server" else q[nova]
    if "status" in q:
        params["status"] = q["status"].lower()
    for key in ("limit", "marker"):
        if key in q:
            params[key] = q[key]
    try:
        images = await _proxy(request).list_images(authz.ctx, params)
    except NotFound:
        raise BadRequest("marker not found") from None
    # Glance has no filter for these: applied here, on the page Glance gave.
    for nova, field in (("minRam", "min_ram"), ("minDisk", "min_disk")):
        if nova in q:
            try:
                least = int(q[nova])
            except ValueError:
                raise BadRequest(f"Invalid filter field: {nova}.") from None
            images = [i for i in images if int(i.get(field) or 0) >= least]
    if "changes-since" in q:
        since = _since(q["changes-since"])
        images = [i for i in images if _since(str(i.get("updated_at") or "")) >= since]
    return {"images": [_view(request, i, detail=detail) for i in images]}


@route(router, "GET", BASE, policy=RULE)
async def list_images(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Images visible to the caller: id, name and links."""
    return await _list(request, authz, detail=False)


@route(router, "GET", BASE + "/detail", policy=RULE)
async def list_images_detail(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Images visible to the caller, with status, sizes and metadata."""
    return await _list(request, authz, detail=True)


@route(router, "GET", BASE + "/{image_id}", policy=RULE)
async def show_image(image_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One image in Nova's shape."""
    _check_version(request)
    return {"image": _view(request, await _get(request, authz, image_id), detail=True)}


@route(router, "DELETE", BASE + "/", policy=RULE, status_code=204)
async def delete_image_without_id(authz: Authz = AuthzDep) -> Response:
    """An empty image id: 404 as in Nova (instead of a redirect to the list)."""
    raise NotFound("Image not found.")


@route(router, "DELETE", BASE + "/{image_id}", policy=RULE, status_code=204)
async def delete_image(image_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete the image in the image API."""
    _check_version(request)
    try:
        await _proxy(request).delete(authz.ctx, image_id)
    except NotFound:
        raise NotFound("Image not found.") from None
    return Response(status_code=204)


@route(router, "GET", BASE + "/{image_id}/metadata", policy=RULE)
async def show_metadata(image_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The image's custom properties."""
    _check_version(request)
    return {"metadata": image_proxy.metadata_of(await _get(request, authz, image_id))}


async def _write(
    request: Request, authz: Authz, image_id: str, props: dict[str, str], *, replace: bool
) -> dict[str, str]:
    _check_version(request)
    try:
        check_metadata(props)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    image = await _get(request, authz, image_id)
    remove = [k for k in image_proxy.metadata_of(image) if k not in props] if replace else []
    updated = await _proxy(request).set_properties(authz.ctx, image_id, props, remove)
    return image_proxy.metadata_of(updated)


@route(router, "POST", BASE + "/{image_id}/metadata", policy=RULE)
async def update_metadata(
    image_id: str, body: MetadataBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Add or change some properties; all of them back."""
    return {"metadata": await _write(request, authz, image_id, body.metadata, replace=False)}


@route(router, "PUT", BASE + "/{image_id}/metadata", policy=RULE)
async def replace_metadata(
    image_id: str, body: MetadataBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Replace every custom property."""
    return {"metadata": await _write(request, authz, image_id, body.metadata, replace=True)}


@route(router, "GET", BASE + "/{image_id}/metadata/{key}", policy=RULE)
async def show_meta(
    image_id: str, key: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One property."""
    _check_version(request)
    metadata = image_proxy.metadata_of(await _get(request, authz, image_id))
    if key not in metadata:
        raise NotFound("Image has no metadata with the given key")  # Nova's wording
    return {"meta": {key: metadata[key]}}


@route(router, "PUT", BASE + "/{image_id}/metadata/{key}", policy=RULE)
async def set_meta(
    image_id: str, key: str, body: MetaBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Set one property (the body's single key must be the URL's)."""
    if key not in body.meta:
        raise BadRequest("Request body and URI mismatch")
    if len(body.meta) > 1:
        raise BadRequest("Request body contains too many items")
    metadata = await _write(request, authz, image_id, body.meta, replace=False)
    return {"meta": {key: metadata.get(key, body.meta[key])}}


@route(router, "DELETE", BASE + "/{image_id}/metadata/{key}", policy=RULE, status_code=204)
async def delete_meta(
    image_id: str, key: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Remove one property."""
    _check_version(request)
    image = await _get(request, authz, image_id)
    if key not in image_proxy.metadata_of(image):
        raise NotFound("Image has no metadata with the given key")
    await _proxy(request).set_properties(authz.ctx, image_id, {}, [key])
    return Response(status_code=204)
