"""Nova's image proxy (``/images``, deprecated at 2.36): Glance images in Nova's shape.

Nova answers these requests by asking Glance with the caller's token and rewriting the
image: ``minRam``/``minDisk``, an upper-case ``status`` with a ``progress``, custom
properties as ``metadata``, and the snapshot's ``server`` when it has one.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from kumo.common.clients.base import ServiceSession
from kumo.common.config import Settings
from kumo.common.context import RequestContext

#: Glance status → Nova's (and the progress Nova shows with it).
STATUS = {
    "active": ("ACTIVE", 100),
    "queued": ("SAVING", 25),
    "saving": ("SAVING", 50),
    "importing": ("SAVING", 50),
    "uploading": ("SAVING", 50),
    "deleted": ("DELETED", 0),
    "pending_delete": ("DELETED", 0),
    "killed": ("ERROR", 0),
}

#: Glance's own attributes: everything else on an image is a custom property (metadata).
BASE_ATTRIBUTES = {
    "id", "name", "status", "visibility", "protected", "checksum", "os_hash_algo",
    "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk",
    "disk_format", "container_format", "created_at", "updated_at", "tags", "file",
    "schema", "self", "direct_url", "locations", "os_hidden", "stores",
}  # fmt: skip


class ImageProxy(Protocol):
    """The Glance calls the proxy needs (tests use a fake)."""

    async def get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        """One image (NotFound when missing)."""

    async def list_images(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Images visible to the caller (``limit``/``marker`` and Glance filters)."""

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        """Delete an image (NotFound / Forbidden as Glance answers)."""

    async def set_properties(
        self, ctx: RequestContext, image_id: str, props: dict[str, str], remove: list[str]
    ) -> dict[str, Any]:
        """Add/replace ``props`` and remove ``remove`` on the image; the updated image."""


def _seg(value: str) -> str:
    """One path segment, percent-encoded: the id comes from the caller's URL and may
    hold ``/``, ``?``, control characters or non-ASCII (`make fuzz` found 500s)."""
    return quote(value, safe="")


def _pointer(key: str) -> str:
    """The JSON pointer of a top-level property (RFC 6901 escapes ``~`` and ``/``)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


class GlanceImageProxy:
    """:class:`ImageProxy` over the image API, with the caller's token."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: ServiceSession | None = None

    @property
    def session(self) -> ServiceSession:
        """The service session (made on first use)."""
        if self._session is None:
            self._session = ServiceSession(self.settings)
        return self._session

    async def get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        """``GET /v2/images/{id}``."""
        resp = await self.session.request(
            "GET", "image", f"/v2/images/{_seg(image_id)}", user_token=ctx.token_id, what="image"
        )
        image: dict[str, Any] = resp.json()
        return image

    async def list_images(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """``GET /v2/images`` (one page)."""
        resp = await self.session.request(
            "GET", "image", "/v2/images", params=params, user_token=ctx.token_id, what="images"
        )
        images: list[dict[str, Any]] = resp.json().get("images", [])
        return images

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        """``DELETE /v2/images/{id}``."""
        await self.session.request(
            "DELETE", "image", f"/v2/images/{_seg(image_id)}", user_token=ctx.token_id, what="image"
        )

    async def set_properties(
        self, ctx: RequestContext, image_id: str, props: dict[str, str], remove: list[str]
    ) -> dict[str, Any]:
        """``PATCH /v2/images/{id}`` with a JSON patch."""
        image = await self.get(ctx, image_id)
        ops: list[dict[str, Any]] = [
            {"op": "replace" if k in image else "add", "path": _pointer(k), "value": v}
            for k, v in props.items()
        ]
        ops += [{"op": "remove", "path": _pointer(k)} for k in remove if k in image]
        if not ops:
            return image
        resp = await self.session.request(
            "PATCH",
            "image",
            f"/v2/images/{_seg(image_id)}",
            json=ops,
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
            user_token=ctx.token_id,
            what="image update",
        )
        updated: dict[str, Any] = resp.json()
        return updated


def metadata_of(image: dict[str, Any]) -> dict[str, str]:
    """The image's custom properties (Nova's image ``metadata``)."""
    return {k: str(v) for k, v in image.items() if k not in BASE_ATTRIBUTES and v is not None}


def _time(value: Any) -> str:
    # Glance: "2026-11-29T19:00:00Z"; Nova shows the same ISO form without fractions.
    text = str(value or "")
    return text.split(".")[0].removesuffix("Z") + "Z" if text else text


def image_view(
    image: dict[str, Any], compute_base: str, image_base: str, *, detail: bool
) -> dict[str, Any]:
    """Nova's view of a Glance image (``detail`` for show and ``/images/detail``)."""
    image_id = str(image["id"])
    links = [
        {"rel": "self", "href": f"{compute_base}/v2.1/images/{image_id}"},
        {"rel": "bookmark", "href": f"{compute_base}/images/{image_id}"},
        {
            "rel": "alternate",
            "type": "application/vnd.openstack.image",
            "href": f"{image_base}/images/{image_id}",
        },
    ]
    out: dict[str, Any] = {"id": image_id, "name": image.get("name"), "links": links}
    if not detail:
        return out
    status, progress = STATUS.get(str(image.get("status")), ("UNKNOWN", 0))
    metadata = metadata_of(image)
    out.update(
        {
            "status": status,
            "progress": progress,
            "minRam": int(image.get("min_ram") or 0),
            "minDisk": int(image.get("min_disk") or 0),
            "created": _time(image.get("created_at")),
            "updated": _time(image.get("updated_at")),
            "metadata": metadata,
            "OS-EXT-IMG-SIZE:size": image.get("size"),
        }
    )
    if server_id := metadata.get("instance_uuid"):
        out["server"] = {
            "id": server_id,
            "links": [
                {"rel": "self", "href": f"{compute_base}/v2.1/servers/{server_id}"},
                {"rel": "bookmark", "href": f"{compute_base}/servers/{server_id}"},
            ],
        }
    return out
