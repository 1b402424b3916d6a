"""The image API, as the compute agent uses it: image metadata and snapshot upload.

Calls carry the *user's* token when one is given (booklet steps 18–21: Glance
validates it), else the service token.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kumo.common import errors
from kumo.common.clients.base import ServiceSession, raise_for_status


class ImageClient:
    """Glance v2 through a service session."""

    def __init__(self, session: ServiceSession) -> None:
        self.session = session

    async def get_image(self, image_id: str, *, user_token: str | None = None) -> dict[str, Any]:
        """The image's metadata (``GET /v2/images/{id}``)."""
        response = await self.session.request(
            "GET", "image", f"/v2/images/{image_id}", user_token=user_token, what="image"
        )
        image: dict[str, Any] = response.json()
        return image

    async def create_image(
        self, body: dict[str, Any], *, user_token: str | None = None
    ) -> dict[str, Any]:
        """Create an image record (``POST /v2/images``), queued for data."""
        response = await self.session.request(
            "POST", "image", "/v2/images", json=body, user_token=user_token, what="image create"
        )
        image: dict[str, Any] = response.json()
        return image

    async def upload(self, image_id: str, data: bytes, *, user_token: str | None = None) -> None:
        """Upload the image's data (``PUT /v2/images/{id}/file``)."""
        url = await self.session.endpoint("image") + f"/v2/images/{image_id}/file"
        headers = {
            "X-Auth-Token": user_token or await self.session.token(),
            "Content-Type": "application/octet-stream",
        }
        try:
            response = await self.session._client.put(url, content=data, headers=headers)
        except Exception as exc:
            raise errors.ServiceUnavailable(f"image service unreachable: {exc}") from exc
        raise_for_status(response, "image upload")

    async def delete_image(self, image_id: str, *, user_token: str | None = None) -> None:
        """Delete an image (a failed snapshot's record)."""
        with contextlib.suppress(errors.NotFound):
            await self.session.request(
                "DELETE", "image", f"/v2/images/{image_id}", user_token=user_token
            )
