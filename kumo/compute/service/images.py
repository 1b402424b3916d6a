"""Looking up the image a server boots from, through the image API (as Nova asks Glance).

The lookup is a swappable async callable kept on the compute app's state
(``image_lookup``): the default asks the image API over HTTP with the user's
token; tests and the all-in-one process may put a cheaper one there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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
    image_id = image_ref.rstrip("/").rsplit("/", 1)[-1]
    try:
        image = await lookup(ctx, image_id)
    except NotFound:
        raise BadRequest("Can not find requested image") from None
    status = str(image.get("status", "active"))
    if status != "active":
        raise BadRequest(f"Image {image_id} is not active.")
    return image_id
