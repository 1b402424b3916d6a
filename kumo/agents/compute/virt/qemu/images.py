"""Base images cached once per host, and the per-guest qcow2 overlays on them.

An image is downloaded once (by an :class:`ImageSource` the agent provides: the
image service client), verified against the hash the image service recorded
(``os_hash_algo``/``os_hash_value``, else the md5 ``checksum``), inspected with
``qemu-img info`` and refused when its real format differs from ``disk_format``
(CVE-2024-40767) or when it names a backing file or data file (CVE-2024-32498),
and kept read-only under ``<state_dir>/_base/<image id>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

from kumo.agents.compute.virt.driver import VirtError

DISK_FORMATS = ("qcow2", "raw")


class ImageSource(Protocol):
    """Where image data comes from (the image service, in the agent)."""

    async def download(self, image_id: str, destination: Path) -> None:
        """Write the image's data to ``destination``."""


async def run(*command: str, timeout: float = 600.0) -> str:
    """Run a command; its stdout, or :class:`VirtError` with its stderr."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError as exc:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise VirtError(f"{command[0]} did not finish within {timeout:g} s") from exc
    if process.returncode != 0:
        message = err.decode(errors="replace").strip() or f"exit status {process.returncode}"
        raise VirtError(f"{' '.join(command[:2])} failed: {message}")
    return out.decode(errors="replace")


def _hash_file(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def expected_hash(image: dict[str, Any]) -> tuple[str, str] | None:
    """(algorithm, hex digest) the image service recorded for ``image``, if any."""
    algorithm, value = image.get("os_hash_algo"), image.get("os_hash_value")
    if algorithm and value:
        return str(algorithm), str(value)
    if image.get("checksum"):
        return "md5", str(image["checksum"])
    return None


async def image_info(path: Path) -> dict[str, Any]:
    """``qemu-img info --output=json`` of ``path``."""
    info: dict[str, Any] = json.loads(
        await run("qemu-img", "info", "--output=json", "-U", str(path))
    )
    return info


def check_image_safe(info: dict[str, Any], disk_format: str) -> None:
    """Refuse an image whose format lies or that points at other files."""
    real = info.get("format")
    if real != disk_format:
        raise VirtError(f"image data is {real}, but its disk_format says {disk_format}")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise VirtError("image has a backing file; refusing it")
    data = info.get("format-specific", {}).get("data", {})
    if isinstance(data, dict) and data.get("data-file"):
        raise VirtError("image names an external data file; refusing it")


class ImageCache:
    """Read-only base images under ``<state_dir>/_base``, fetched once, verified by hash."""

    def __init__(self, directory: Path, source: ImageSource | None) -> None:
        self.directory = directory
        self.source = source
        self._locks: dict[str, asyncio.Lock] = {}

    def _paths(self, image_id: str) -> tuple[Path, Path]:
        if not image_id or "/" in image_id or image_id.startswith("."):
            raise VirtError(f"invalid image id {image_id!r}")
        return self.directory / image_id, self.directory / f"{image_id}.json"

    async def fetch(self, image: dict[str, Any]) -> Path:
        """The cached, verified base image file of ``image`` (downloaded if needed)."""
        image_id = str(image.get("id", ""))
        path, record = self._paths(image_id)
        disk_format = str(image.get("disk_format", ""))
        if disk_format not in DISK_FORMATS:
            raise VirtError(f"disk_format {disk_format!r} cannot be a root disk")
        wanted = expected_hash(image)
        async with self._locks.setdefault(image_id, asyncio.Lock()):
            if path.exists() and record.exists():
                known = json.loads(record.read_text())
                if wanted is None or known.get("hash") == list(wanted):
                    return path
                path.chmod(0o600)
                path.unlink()  # the image behind this id changed: fetch it again
            if self.source is None:
                raise VirtError(f"image {image_id} is not cached and no image source is set")
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.part")
            await self.source.download(image_id, partial)
            if wanted is not None:
                actual = await asyncio.to_thread(_hash_file, partial, wanted[0])
                if actual != wanted[1]:
                    partial.unlink(missing_ok=True)
                    raise VirtError(
                        f"image {image_id} data does not match its {wanted[0]} hash "
                        f"(got {actual[:16]}…, expected {wanted[1][:16]}…)"
                    )
            try:
                check_image_safe(await image_info(partial), disk_format)
            except VirtError:
                partial.unlink(missing_ok=True)
                raise
            partial.chmod(0o444)
            os.replace(partial, path)
            record.write_text(json.dumps({"hash": list(wanted) if wanted else None}))
            return path


async def create_overlay(
    disk: Path, size_gb: int, base: Path | None, base_format: str = "qcow2"
) -> None:
    """A qcow2 ``disk`` of ``size_gb`` GiB: an overlay on ``base``, or blank.

    A size of 0 keeps the base image's size (Nova's ``root_gb=0``); 1 GiB when blank.
    """
    if base is not None and size_gb > 0:
        virtual_size = int((await image_info(base)).get("virtual-size", 0))
        if virtual_size > size_gb << 30:
            raise VirtError(
                f"the image's virtual size ({virtual_size >> 20} MiB) is larger "
                f"than the flavor's root disk ({size_gb} GiB)"
            )
    command = ["qemu-img", "create", "-q", "-f", "qcow2"]
    if base is not None:
        command += ["-F", base_format, "-b", str(base)]
    command += [str(disk)]
    if size_gb > 0 or base is None:
        command += [f"{max(size_gb, 1)}G"]
    await run(*command)
