"""Image data for the QEMU driver's base-image cache, from the image API.

The driver's :class:`~kumo.agents.compute.virt.qemu.images.ImageCache` calls
:meth:`ServiceImageSource.download` once per image and host and verifies the
hash the image service recorded; this only streams ``GET /v2/images/{id}/file``
to a file, with the service token (admin + service roles may read any image,
as nova-compute's service user may in Glance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kumo.common import errors
from kumo.common.clients.base import ServiceSession, raise_for_status

CHUNK = 1 << 20


class ServiceImageSource:
    """Downloads image data through a :class:`ServiceSession`."""

    def __init__(self, session: ServiceSession) -> None:
        self.session = session

    async def get_image(self, image_id: str) -> dict[str, Any]:
        """The metadata of image ``image_id`` (the kernel or ramdisk a machine image names)."""
        response = await self.session.request(
            "GET", "image", f"/v2/images/{image_id}", what="image"
        )
        image: dict[str, Any] = response.json()
        return image

    async def download(self, image_id: str, destination: Path) -> None:
        """Write the data of image ``image_id`` to ``destination`` (streamed)."""
        url = await self.session.endpoint("image") + f"/v2/images/{image_id}/file"
        headers = {"X-Auth-Token": await self.session.token()}
        try:
            async with self.session._client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_status(response, "image download")
                if response.status_code == 204:
                    raise errors.Conflict(f"image {image_id} has no data")
                with destination.open("wb") as stream:
                    async for chunk in response.aiter_bytes(CHUNK):
                        stream.write(chunk)
        except errors.KumoError:
            destination.unlink(missing_ok=True)
            raise
        except Exception as exc:
            destination.unlink(missing_ok=True)
            raise errors.ServiceUnavailable(f"image service unreachable: {exc}") from exc
