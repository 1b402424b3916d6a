"""Looking up the image a server boots from, through the image API (as Nova asks Glance).

The lookup is a swappable async callable kept on the compute app's state
(``image_lookup``): the default asks the image API over HTTP with the user's
token; tests and the all-in-one process may put a cheaper one there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from kumo.common.clients.base import ServiceSession
from kumo.common.clients.image import ImageClient
from kumo.common.config import Settings
from kumo.common.context import RequestContext
from kumo.common.errors import BadRequest, NotFound

#: (caller, image id) → the image's metadata; raises NotFound for an unknown image.
ImageLookup = Callable[[RequestContext, str], Awaitable[dict[str, Any]]]


def glance_lookup(settings: Settings) -> ImageLookup:
    """An :data:`ImageLookup` calling the image API with the caller's token."""
    session: ServiceSession | None = None

    async def lookup(ctx: RequestContext, image_id: str) -> dict[str, Any]:
        nonlocal session
        if session is None:
            session = ServiceSession(settings)
        return await ImageClient(session).get_image(image_id, user_token=ctx.token_id)

    return lookup


async def bootable_image(lookup: ImageLookup, ctx: RequestContext, image_ref: str) -> str:
    """The image id of ``image_ref`` (an id or an href) if it exists and is active.

    400 with Nova's messages otherwise ("Can not find requested image",
    "Image … is not active.").
    """
    image = await bootable_image_meta(lookup, ctx, image_ref)
    return str(image["id"])


async def bootable_image_meta(
    lookup: ImageLookup, ctx: RequestContext, image_ref: str
) -> dict[str, Any]:
    """Like :func:`bootable_image`, but the image's metadata (with ``id`` always set)."""
    image_id = image_ref.rstrip("/").rsplit("/", 1)[-1]
    try:
        image = await lookup(ctx, image_id)
    except NotFound:
        raise BadRequest("Can not find requested image") from None
    status = str(image.get("status", "active"))
    if status != "active":
        raise BadRequest(f"Image {image_id} is not active.")
    return {**image, "id": image_id}


def check_image_fits_flavor(image: dict[str, Any], memory_mb: int, root_gb: int) -> None:
    """400 when the flavor is smaller than the image needs (Nova's ``_check_requested_image``).

    ``min_ram`` is compared with the flavor's memory; the disk checks (``min_disk`` and the
    image's size) apply only when the flavor has a root disk (``root_gb`` 0 means the
    disk is sized from the image).
    """
    min_ram = int(image.get("min_ram") or 0)
    if min_ram > memory_mb:
        raise BadRequest("Flavor's memory is too small for requested image.")
    if root_gb == 0:
        return
    flavor_bytes = root_gb * 1024**3
    min_disk = int(image.get("min_disk") or 0)
    if min_disk > root_gb:
        raise BadRequest(
            "Flavor's disk is too small for requested image. Flavor disk is "
            f"{flavor_bytes} bytes, minimum size is {min_disk * 1024**3} bytes."
        )
    size = int(image.get("size") or 0)
    if size > flavor_bytes:
        raise BadRequest(
            "Flavor's disk is too small for requested image. Flavor disk is "
            f"{flavor_bytes} bytes, image is {size} bytes."
        )


class ImageStore(Protocol):
    """Where snapshots and backups are recorded: the image API (tests use a fake)."""

    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Create a queued image record (``POST /v2/images``); ``body`` may carry ``id``."""

    async def backups(
        self, ctx: RequestContext, instance_uuid: str, backup_type: str
    ) -> list[dict[str, Any]]:
        """The backups of ``instance_uuid`` with this ``backup_type``, newest first."""

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        """Delete an image (a rotated-out backup); a missing one is fine."""


class GlanceImageStore:
    """:class:`ImageStore` over the image API, with the caller's token (as Nova does)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: ServiceSession | None = None

    @property
    def session(self) -> ServiceSession:
        """The service session (made on first use: the catalog may not be up earlier)."""
        if self._session is None:
            self._session = ServiceSession(self.settings)
        return self._session

    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Create a queued image record."""
        return await ImageClient(self.session).create_image(body, user_token=ctx.token_id)

    async def backups(
        self, ctx: RequestContext, instance_uuid: str, backup_type: str
    ) -> list[dict[str, Any]]:
        """Backups of the instance, newest first (filtered here too, to be safe)."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] | None = {
            "instance_uuid": instance_uuid,
            "image_type": "backup",
            "backup_type": backup_type,
            "sort_key": "created_at",
            "sort_dir": "desc",
            "limit": 1000,
        }
        path = "/v2/images"
        for _ in range(20):  # pages; a server has few backups
            resp = await self.session.request(
                "GET", "image", path, params=params, user_token=ctx.token_id, what="image list"
            )
            page = resp.json()
            found.extend(page.get("images", []))
            nxt = page.get("next")
            if not nxt:
                break
            # glance's "next" is "/v2/images?marker=…" (the query carries the filters)
            path, params = "/v2" + str(nxt).removeprefix("/v2"), None
        mine = [
            i
            for i in found
            if i.get("instance_uuid") == instance_uuid
            and i.get("image_type") == "backup"
            and i.get("backup_type") == backup_type
        ]
        return sorted(mine, key=lambda i: str(i.get("created_at", "")), reverse=True)

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        """Delete an image."""
        await ImageClient(self.session).delete_image(image_id, user_token=ctx.token_id)


#: Properties of the base image a snapshot does not inherit (Nova's non-inheritable list).
NOT_INHERITED = {
    "id", "name", "status", "size", "virtual_size", "checksum", "os_hash_algo",
    "os_hash_value", "created_at", "updated_at", "file", "schema", "self", "direct_url",
    "locations", "owner", "visibility", "protected", "tags", "os_hidden", "stores",
    "image_type", "instance_uuid", "backup_type", "base_image_ref", "user_id",
    "image_location", "image_state", "owner_id", "container_format", "disk_format",
    "min_ram", "min_disk", "os_glance_importing_to_stores", "os_glance_failed_import",
}  # fmt: skip


#: The disk format each hypervisor type's driver uploads (``VirtDriver.snapshot_format``):
#: the image API checks the data against the declared format, so it must match.
SNAPSHOT_DISK_FORMATS = {"fake": "raw"}
DEFAULT_SNAPSHOT_DISK_FORMAT = "qcow2"


def snapshot_disk_format(hypervisor_type: str | None) -> str:
    """The disk format a snapshot taken on this hypervisor type will have."""
    return SNAPSHOT_DISK_FORMATS.get(hypervisor_type or "", DEFAULT_SNAPSHOT_DISK_FORMAT)


def snapshot_body(
    image_id: str,
    name: str,
    instance_uuid: str,
    user_id: str,
    base: dict[str, Any] | None,
    image_type: str,
    metadata: dict[str, str],
    backup_type: str | None = None,
    disk_format: str = DEFAULT_SNAPSHOT_DISK_FORMAT,
) -> dict[str, Any]:
    """The image record Nova creates for a snapshot/backup (``_create_image``).

    It inherits the base image's formats, minimums and custom properties, and records
    where it comes from (``instance_uuid``, ``image_type``, ``base_image_ref``).
    """
    base = base or {}
    body: dict[str, Any] = {
        k: v for k, v in base.items() if k not in NOT_INHERITED and isinstance(v, str)
    }
    body.update(
        {
            "id": image_id,
            "name": name,
            "container_format": "bare",
            "disk_format": disk_format,
            "min_ram": int(base.get("min_ram") or 0),
            "min_disk": int(base.get("min_disk") or 0),
            "instance_uuid": instance_uuid,
            "user_id": user_id,
            "image_type": image_type,
        }
    )
    if base.get("id"):
        body["base_image_ref"] = str(base["id"])
    if backup_type is not None:
        body["backup_type"] = backup_type
    body.update({k: str(v) for k, v in metadata.items()})
    return body
