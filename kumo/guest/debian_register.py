"""Register the Debian guest (:mod:`kumo.guest.debian`) in the image service, as Glance images.

Three images, the way OpenStack has always described a kernel-booted guest:
the kernel (``aki``), the ramdisk (``ari``), and the root disk (``qcow2``,
``bare``) whose properties name the other two (``kernel_id``, ``ramdisk_id``),
the kernel command line (``os_command_line``) and ``hw_machine_type=q35``: a
q35 guest carries the "OpenStack Nova" SMBIOS strings cloud-init's OpenStack
data source looks for; microvm has no SMBIOS.

Everything goes through the Image API (``/v2/images``) with a token, so the
same code registers the image in a running cloud or a test's in-process one
(``fastapi.testclient.TestClient`` is an ``httpx.Client``). Registering again
finds the images by name and build hash instead of uploading twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kumo.guest.debian import DebianImage

IMAGE_NAME = "debian-12-cloud-init"
#: Where the Image API lives under the one-port app (``kumo up`` and tests).
IMAGE_PREFIX = "/image"
CHUNK = 1 << 20


class RegistrationError(Exception):
    """The image service refused an image (its answer is in the message)."""


@dataclass
class RegisteredDebian:
    """The ids of the three images."""

    kernel_id: str
    ramdisk_id: str
    image_id: str
    #: False when all three were already there.
    uploaded: bool = True


def _build_hash(image: DebianImage) -> str:
    files = image.manifest.get("files", {})
    root = files.get("root.qcow2", {}) if isinstance(files, dict) else {}
    return str(root.get("sha256", "")) if isinstance(root, dict) else ""


def root_properties(image: DebianImage, kernel_id: str, ramdisk_id: str) -> dict[str, str]:
    """The root disk image's properties (what the compute driver boots it with)."""
    return {
        "kernel_id": kernel_id,
        "ramdisk_id": ramdisk_id,
        "os_command_line": image.command_line,
        "hw_machine_type": "q35",
        "os_type": "linux",
        "os_distro": "debian",
        "os_version": "12",
        "hw_architecture": "x86_64",
        "kumo_debian_build": _build_hash(image),
        "kumo_cloud_init": str(image.manifest.get("cloud_init_version", "")),
    }


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        yield from iter(lambda: stream.read(CHUNK), b"")


class _Images:
    """The few Image API calls registration makes."""

    def __init__(self, client: httpx.Client, token: str, prefix: str) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": token}
        self.base = f"{prefix}/v2/images"

    def _check(self, response: httpx.Response, what: str, *codes: int) -> None:
        if response.status_code not in codes:
            raise RegistrationError(f"{what}: HTTP {response.status_code} {response.text[:500]}")

    def find(self, name: str) -> list[dict[str, Any]]:
        response = self.client.get(self.base, params={"name": name}, headers=self.headers)
        self._check(response, f"listing images named {name}", 200)
        found: list[dict[str, Any]] = response.json().get("images", [])
        return found

    def create(self, body: dict[str, Any], data: Path) -> str:
        response = self.client.post(self.base, json=body, headers=self.headers)
        self._check(response, f"creating image {body.get('name')}", 201)
        image_id = str(response.json()["id"])
        upload = self.client.put(
            f"{self.base}/{image_id}/file",
            content=_chunks(data),
            headers={**self.headers, "Content-Type": "application/octet-stream"},
        )
        self._check(upload, f"uploading {data.name} to {image_id}", 204)
        shown = self.client.get(f"{self.base}/{image_id}", headers=self.headers)
        self._check(shown, f"showing {image_id}", 200)
        if shown.json().get("status") != "active":
            raise RegistrationError(f"image {image_id} is {shown.json().get('status')}, not active")
        return image_id


def register_debian_image(
    client: httpx.Client,
    token: str,
    image: DebianImage,
    *,
    name: str = IMAGE_NAME,
    visibility: str = "public",
    prefix: str = IMAGE_PREFIX,
) -> RegisteredDebian:
    """Upload kernel, ramdisk and root disk (unless this build is already there); their ids."""
    api = _Images(client, token, prefix)
    build = _build_hash(image)
    for existing in api.find(name):
        if existing.get("status") == "active" and existing.get("kumo_debian_build") == build:
            return RegisteredDebian(
                kernel_id=str(existing.get("kernel_id")),
                ramdisk_id=str(existing.get("ramdisk_id")),
                image_id=str(existing["id"]),
                uploaded=False,
            )
    common = {"visibility": visibility, "os_distro": "debian", "kumo_debian_build": build}
    kernel_id = api.create(
        {"name": f"{name}-kernel", "disk_format": "aki", "container_format": "aki", **common},
        image.kernel,
    )
    ramdisk_id = api.create(
        {"name": f"{name}-ramdisk", "disk_format": "ari", "container_format": "ari", **common},
        image.initrd,
    )
    image_id = api.create(
        {
            "name": name,
            "disk_format": "qcow2",
            "container_format": "bare",
            "visibility": visibility,
            "min_disk": max(1, -(-int(str(image.manifest.get("virtual_size", 0))) // (1 << 30))),
            **root_properties(image, kernel_id, ramdisk_id),
        },
        image.root_disk,
    )
    return RegisteredDebian(kernel_id=kernel_id, ramdisk_id=ramdisk_id, image_id=image_id)
