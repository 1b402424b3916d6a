"""/v2/images/{id}/file, /stage and /import: image data in and out, streamed.

Uploads are written to the store chunk by chunk as they arrive (the service's
1 MiB body limit does not apply to these paths; the owner's byte quota does),
then inspected (:mod:`kumo.image.service.inspector`): data that is not what
``disk_format`` claims, or that points outside itself, kills the image.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.errors import BadRequest, Conflict, Forbidden, KumoError, OverQuota
from kumo.image.api.deps import caller, enforce_on_image
from kumo.image.db.models import Image
from kumo.image.schemas import AnyObject
from kumo.image.service import images, inspector, store, tasks

log = logging.getLogger(__name__)
router = APIRouter()

#: Paths whose bodies are image data, exempt from the JSON body limit.
DATA_PATH = re.compile(r"/v2/images/[^/]+/(file|stage)/?$")


def is_data_path(path: str) -> bool:
    """True for the upload paths (streamed, bounded by quota rather than body size)."""
    return DATA_PATH.search(path) is not None


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class ImageRejected(KumoError):
    """The uploaded data failed inspection; the image is killed."""

    status = 400
    title = "Bad Request"
    code = "ImageRejected"


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "application/octet-stream")
    if content_type.split(";")[0].strip() != "application/octet-stream":
        raise BadRequest(f"Content-Type must be application/octet-stream, not {content_type!r}.")


async def _receive(request: Request, final: Path, remaining: int | None) -> store.Stored:
    declared = request.headers.get("content-length")
    if (
        remaining is not None
        and declared is not None
        and declared.isdigit()
        and int(declared) > remaining
    ):
        raise store.TooMuchData(remaining)
    chunks: AsyncIterator[bytes] = request.stream()
    return await store.receive(chunks, final, remaining)


def _quota_error(size_mib: int) -> OverQuota:
    return OverQuota(
        "Denying attempt to upload image because it exceeds the quota: "
        f"image_size_total is {size_mib} MiB"
    )


@route(router, "PUT", "/v2/images/{image_id}/file", policy="upload_image", status_code=204)
async def upload(image_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Upload an image's data (queued → saving → active, or killed when unsafe)."""
    _check_content_type(request)
    db, settings, who = _db(request), _settings(request), caller(authz)
    image = await run_in_threadpool(images.get_image, db, who, image_id)
    enforce_on_image(authz, "upload_image", image)
    image, remaining = await run_in_threadpool(
        images.begin_upload, db, who, image_id, "saving", settings.image_size_total
    )
    await _store_and_activate(request, db, settings, image, remaining, staged=None)
    return Response(status_code=204)


async def _store_and_activate(
    request: Request | None,
    db: Database,
    settings: Settings,
    image: Image,
    remaining: int | None,
    staged: Path | None,
) -> None:
    final = store.data_path(settings.state_dir, image.id)
    try:
        if staged is not None:
            stored = await run_in_threadpool(_adopt_staged, staged, final)
            if remaining is not None and stored.size > remaining:
                raise store.TooMuchData(remaining)
        else:
            assert request is not None
            stored = await _receive(request, final, remaining)
    except store.TooMuchData:
        store.remove(final)
        await run_in_threadpool(images.fail_upload, db, image.id, "queued", "over quota")
        raise _quota_error(settings.image_size_total) from None
    except BaseException:
        # The client went away or the disk failed: the image may be uploaded again.
        await run_in_threadpool(images.fail_upload, db, image.id, "queued", "upload failed")
        raise
    disk_format = image.disk_format or "raw"
    container_format = image.container_format or "bare"
    virtual_size: int | None = None
    if container_format == "bare":
        try:
            found = await run_in_threadpool(inspector.inspect, stored.path, disk_format)
            virtual_size = found.virtual_size
        except inspector.UnsafeImage as exc:
            reason = f"Image {image.id} rejected: {exc}"
            log.warning("%s; the image is killed", reason)
            store.remove(stored.path)
            await run_in_threadpool(images.fail_upload, db, image.id, "killed", str(exc))
            raise ImageRejected(f"Image format check failed: {exc}. The image is killed.") from None
    done = await run_in_threadpool(
        lambda: images.finish_upload(
            db,
            image.id,
            size=stored.size,
            checksum=stored.checksum,
            os_hash_algo=store.HASH_ALGO,
            os_hash_value=stored.os_hash_value,
            virtual_size=virtual_size,
            location=stored.path.name,
        )
    )
    if done is None:
        # Deleted while uploading: drop the orphaned data.
        store.remove(stored.path)
        raise Conflict(f"Image {image.id} was deleted during the upload.")


def _adopt_staged(staged: Path, final: Path) -> store.Stored:
    """Move staged data into the store, hashing it on the way."""
    import hashlib

    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.new(store.HASH_ALGO)
    size = 0
    with staged.open("rb") as f:
        while data := f.read(1 << 20):
            md5.update(data)
            sha.update(data)
            size += len(data)
    final.parent.mkdir(parents=True, exist_ok=True)
    staged.replace(final)
    return store.Stored(final, size, md5.hexdigest(), sha.hexdigest())


@route(router, "PUT", "/v2/images/{image_id}/stage", policy="upload_image", status_code=204)
async def stage(image_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Stage data for a ``glance-direct`` import (queued → uploading)."""
    _check_content_type(request)
    db, settings, who = _db(request), _settings(request), caller(authz)
    image = await run_in_threadpool(images.get_image, db, who, image_id)
    enforce_on_image(authz, "upload_image", image)
    image, remaining = await run_in_threadpool(
        images.begin_upload, db, who, image_id, "uploading", settings.image_size_total
    )
    path = store.staging_path(settings.state_dir, image_id)
    try:
        stored = await _receive(request, path, remaining)
    except store.TooMuchData:
        await run_in_threadpool(images.fail_upload, db, image_id, "queued", "over quota")
        raise _quota_error(settings.image_size_total) from None
    except BaseException:
        await run_in_threadpool(images.fail_upload, db, image_id, "queued", "staging failed")
        raise
    await run_in_threadpool(images.finish_staging, db, image_id, stored.size)
    return Response(status_code=204)


@route(router, "POST", "/v2/images/{image_id}/import", policy="upload_image", status_code=202)
async def import_image(
    image_id: str, body: AnyObject, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Import staged data (``glance-direct``); ``web-download`` and others are disabled."""
    method = body.members().get("method")
    if not isinstance(method, dict):
        raise BadRequest("Import request requires a 'method' field.")
    name = method.get("name")
    if not name:
        raise BadRequest("Import request requires a 'name' field.")
    if name != "glance-direct":
        if name in ("web-download", "glance-download", "copy-image"):
            raise BadRequest(
                f"Import method {name} is disabled on this cloud; the enabled methods are: "
                "glance-direct."
            )
        raise BadRequest(f"Unknown import method name '{name}'.")
    db, settings, who = _db(request), _settings(request), caller(authz)
    image = await run_in_threadpool(images.get_image, db, who, image_id)
    enforce_on_image(authz, "upload_image", image)
    image = await run_in_threadpool(images.begin_import, db, who, image_id)
    staged = store.staging_path(settings.state_dir, image_id)
    remaining = await run_in_threadpool(_remaining_for, db, image, settings.image_size_total)
    task_id = await run_in_threadpool(
        lambda: tasks.start_import(
            db,
            image_id,
            owner=authz.ctx.project_id,
            user_id=authz.ctx.user_id,
            request_id=getattr(request.state, "request_id", None),
            method=method,
        )
    )
    # Glance imports in a background task and answers 202 at once; the file
    # store's import is a rename plus an inspection, so it completes before
    # the answer and the client's poll finds the final status straight away.
    try:
        await _store_and_activate(None, db, settings, image, remaining, staged=staged)
    except ImageRejected as exc:
        # Killed; the image status and the failed task tell the client.
        await run_in_threadpool(tasks.finish, db, task_id, "failure", exc.message)
    except OverQuota as exc:
        await run_in_threadpool(images.fail_upload, db, image_id, "killed", "over quota")
        await run_in_threadpool(tasks.finish, db, task_id, "failure", exc.message)
    else:
        await run_in_threadpool(tasks.finish, db, task_id, "success")
    return Response(status_code=202)


def _remaining_for(db: Database, image: Image, size_mib: int) -> int | None:
    if size_mib < 0 or image.owner is None:
        return None
    with db.reader() as session:
        used = images.bytes_used(session, image.owner, excluding=image.id)
    return max(0, size_mib * 1024 * 1024 - used)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """A single ``Range: bytes=a-b`` as (start, end inclusive); None when unsatisfiable."""
    found = _RANGE.match(header.strip())
    if not found or (not found.group(1) and not found.group(2)):
        return None
    first, last = found.group(1), found.group(2)
    if not first:
        length = int(last)
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end


@route(
    router,
    "GET",
    "/v2/images/{image_id}/file",
    policy="download_image",
    # Bytes, not JSON, and 204 without a body when there is no data (as Glance): the
    # document said JSON, which `make fuzz` flagged on every download.
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The image data."},
        204: {"description": "The image has no data."},
    },
)
def download(image_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Download an image's data, whole or a byte range."""
    db, settings, who = _db(request), _settings(request), caller(authz)
    image = images.get_image(db, who, image_id)
    member = images.member_status_of(db, image_id, who.project_id)
    enforce_on_image(authz, "download_image", image, who.project_id if member else None)
    if image.status == "deactivated" and not who.is_admin:
        raise Forbidden(
            "The requested image has been deactivated. Image data download is forbidden."
        )
    if image.location is None or image.status not in ("active", "deactivated"):
        return Response(status_code=204)
    path = store.store_dir(settings.state_dir) / image.location
    if not path.exists():
        raise Conflict(f"The data of image {image_id} is missing from the store.")
    size = path.stat().st_size
    headers: dict[str, Any] = {
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
    }
    if image.checksum:
        headers["Content-MD5"] = image.checksum
    range_header = request.headers.get("range")
    if range_header is not None:
        bounds = _parse_range(range_header, size)
        if bounds is None:
            return Response(
                status_code=416,
                headers={"Content-Range": f"bytes */{size}"},
                content=b"",
            )
        start, end = bounds
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(end - start + 1)
        # A part of the data: its checksum would not match, so leave it out.
        headers.pop("Content-MD5", None)
        return StreamingResponse(
            store.read_range(path, start, end - start + 1), status_code=206, headers=headers
        )
    headers["Content-Length"] = str(size)
    return StreamingResponse(store.read_range(path, 0, size), headers=headers)
