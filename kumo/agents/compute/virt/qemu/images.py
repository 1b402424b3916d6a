"""Base images cached once per host, and the per-guest qcow2 overlays on them.

An image is downloaded once (by an :class:`ImageSource` the agent provides: the
image service client), verified against the hash the image service recorded
(``os_hash_algo``/``os_hash_value``, else the md5 ``checksum``), inspected with
``qemu-img info`` and refused when its real format differs from ``disk_format``
(CVE-2024-40767) or when it names a backing file or data file (CVE-2024-32498),
and kept read-only under ``<state_dir>/_base/<image id>``.

Kernel (``aki``) and ramdisk (``ari``) images are cached the same way, hash
verified, but not handed to ``qemu-img``: they are files QEMU loads, not disks.
Machine images (``ami``) are disks of whatever real format they hold (raw or
qcow2, as Nova's ``fetch_to_raw`` accepts them), still refused when they point
at other files.

Ephemeral and swap disks follow Nova's libvirt driver: a formatted raw base per
size and file system (``ephemeral_<GiB>_<md5(fs)[:7]>``, ``swap_<MiB>``) is made
once under ``_base`` and every guest gets a qcow2 overlay on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kumo.agents.compute.virt.driver import ImageUnusable, VirtError
from kumo.common.faults import fault_point

DISK_FORMATS = ("qcow2", "raw")
#: Formats whose data the driver can boot as the root disk (ami: raw or qcow2 inside).
ROOT_FORMATS = (*DISK_FORMATS, "ami")
#: Formats whose data is a kernel or an initrd, loaded by QEMU as files.
BOOT_FILE_FORMATS = {"kernel": ("aki", "raw"), "ramdisk": ("ari", "raw")}
#: Nova's file system for an ephemeral disk by image ``os_type`` (else vfat).
DEFAULT_FS_BY_OS_TYPE = {"linux": "ext4", "windows": "ntfs"}
DEFAULT_EPHEMERAL_FS = "vfat"
EPHEMERAL_LABEL = "ephemeral0"


class ImageSource(Protocol):
    """Where image data comes from (the image service, in the agent)."""

    async def download(self, image_id: str, destination: Path) -> None:
        """Write the image's data to ``destination``."""


@runtime_checkable
class ImageLookup(Protocol):
    """Image metadata by id (the image service, in the agent): for kernel and ramdisk images."""

    async def get_image(self, image_id: str) -> dict[str, Any]:
        """The image's metadata, as ``GET /v2/images/{id}`` returns it."""


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
        raise ImageUnusable(f"image data is {real}, but its disk_format says {disk_format}")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise ImageUnusable("image has a backing file; refusing it")
    data = info.get("format-specific", {}).get("data", {})
    if isinstance(data, dict) and data.get("data-file"):
        raise ImageUnusable("image names an external data file; refusing it")


class ImageCache:
    """Read-only base images under ``<state_dir>/_base``, fetched once, verified by hash."""

    def __init__(self, directory: Path, source: ImageSource | None) -> None:
        self.directory = directory
        self.source = source
        self._locks: dict[str, asyncio.Lock] = {}

    def busy(self, image_id: str) -> bool:
        """Whether this cache is fetching ``image_id`` now (its partial file is in use)."""
        lock = self._locks.get(image_id)
        return lock is not None and lock.locked()

    def _paths(self, image_id: str) -> tuple[Path, Path]:
        if not image_id or "/" in image_id or image_id.startswith("."):
            raise VirtError(f"invalid image id {image_id!r}")
        return self.directory / image_id, self.directory / f"{image_id}.json"

    async def fetch(self, image: dict[str, Any]) -> Path:
        """The cached, verified base image file of ``image`` (downloaded if needed)."""
        disk_format = str(image.get("disk_format", ""))
        if disk_format not in DISK_FORMATS:
            raise VirtError(f"disk_format {disk_format!r} cannot be a root disk")
        path, _ = await self._fetch(image, disk_format)
        return path

    async def fetch_disk(self, image: dict[str, Any]) -> tuple[Path, str]:
        """(cached base file, its real qemu format) of a root disk image (raw, qcow2, ami)."""
        disk_format = str(image.get("disk_format", ""))
        if disk_format not in ROOT_FORMATS:
            raise ImageUnusable(f"disk_format {disk_format!r} cannot be a root disk")
        return await self._fetch(image, disk_format)

    async def fetch_boot_file(self, image: dict[str, Any], role: str) -> Path:
        """The cached, hash-verified data of a kernel (``aki``) or ramdisk (``ari``) image."""
        disk_format = str(image.get("disk_format", ""))
        if disk_format not in BOOT_FILE_FORMATS[role]:
            raise ImageUnusable(
                f"image {image.get('id')} has disk_format {disk_format!r}; a {role} image "
                f"must be {' or '.join(BOOT_FILE_FORMATS[role])}"
            )
        path, _ = await self._fetch(image, None)
        return path

    async def _fetch(self, image: dict[str, Any], disk_format: str | None) -> tuple[Path, str]:
        """Download once, verify the hash and (for disks) the format; (path, real format).

        ``disk_format`` None: a boot file, not inspected; ``ami``: raw or qcow2 data.
        """
        image_id = str(image.get("id", ""))
        path, record = self._paths(image_id)
        wanted = expected_hash(image)
        async with self._locks.setdefault(image_id, asyncio.Lock()):
            if path.exists() and record.exists():
                known = json.loads(record.read_text())
                if wanted is None or known.get("hash") == list(wanted):
                    return path, str(known.get("format") or disk_format or "raw")
                path.chmod(0o600)
                path.unlink()  # the image behind this id changed: fetch it again
            if self.source is None:
                raise VirtError(f"image {image_id} is not cached and no image source is set")
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.part")
            await self.source.download(image_id, partial)
            fault_point("qemu_base_image_downloaded")  # test-only crash point (make chaos)
            if wanted is not None:
                actual = await asyncio.to_thread(_hash_file, partial, wanted[0])
                if actual != wanted[1]:
                    partial.unlink(missing_ok=True)
                    raise VirtError(
                        f"image {image_id} data does not match its {wanted[0]} hash "
                        f"(got {actual[:16]}…, expected {wanted[1][:16]}…)"
                    )
            real = "raw"
            if disk_format is not None:
                try:
                    info = await image_info(partial)
                    real = str(info.get("format"))
                    if disk_format == "ami":
                        # Nova accepts any safe format for ami and converts it; raw or qcow2 here.
                        if real not in DISK_FORMATS:
                            raise ImageUnusable(
                                f"ami image data is {real}; only raw or qcow2 can boot here"
                            )
                        check_image_safe(info, real)
                    else:
                        check_image_safe(info, disk_format)
                except VirtError:
                    partial.unlink(missing_ok=True)
                    raise
            partial.chmod(0o444)
            os.replace(partial, path)
            record.write_text(
                json.dumps({"hash": list(wanted) if wanted else None, "format": real})
            )
            return path, real

    async def ephemeral_base(self, size_gb: int, fs: str) -> Path:
        """The formatted raw base of an ephemeral disk (``ephemeral_<GiB>_<hash>``), made once.

        Formatted as Nova's ``privsep.fs.mkfs`` does it, labelled ``ephemeral0``.
        """
        if size_gb <= 0:
            raise VirtError(f"ephemeral disk size must be positive, not {size_gb}")
        tool = shutil.which(f"mkfs.{fs}")
        args = [tool] if tool else []
        if not tool and fs in ("vfat", "msdos") and shutil.which("busybox"):
            # No dosfstools: busybox's mkdosfs makes the same FAT file system.
            args = ["busybox", "mkdosfs"]
        if fs not in ("ext2", "ext3", "ext4", "vfat", "msdos", "xfs", "btrfs", "ntfs") or not args:
            raise VirtError(
                f"cannot make an ephemeral disk with file system {fs!r} on this host "
                f"(mkfs.{fs} is missing; vfat needs dosfstools, ext4 e2fsprogs)"
            )
        name = f"ephemeral_{size_gb}_{ephemeral_extension(fs)}"
        if fs in ("ext3", "ext4", "ntfs"):
            args.append("-F")  # the target is a file, not a block device: don't ask
        args += ["-n" if fs in ("vfat", "msdos") else "-L", EPHEMERAL_LABEL]
        return await self._formatted_base(name, size_gb << 30, args)

    async def swap_base(self, swap_mb: int) -> Path:
        """The ``mkswap``-formatted raw base of a swap disk (``swap_<MiB>``), made once."""
        if swap_mb <= 0:
            raise VirtError(f"swap size must be positive, not {swap_mb}")
        tool = shutil.which("mkswap")
        if tool is None:
            raise VirtError("cannot make a swap disk: mkswap (util-linux) is missing")
        return await self._formatted_base(f"swap_{swap_mb}", swap_mb << 20, [tool])

    async def _formatted_base(self, name: str, size: int, mkfs: list[str]) -> Path:
        path = self.directory / name
        async with self._locks.setdefault(name, asyncio.Lock()):
            if path.exists():
                return path
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{name}.part")
            with partial.open("wb") as stream:
                stream.truncate(size)  # sparse: only what mkfs writes takes space
            try:
                await run(*mkfs, str(partial))
            except VirtError:
                partial.unlink(missing_ok=True)
                raise
            partial.chmod(0o444)
            os.replace(partial, path)
            return path


_IMAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def boot_image_id(image: dict[str, Any], key: str) -> str | None:
    """The ``kernel_id``/``ramdisk_id`` property of a machine image, checked to be an id."""
    value = image.get(key)
    if value is None or str(value).strip() == "":
        return None
    if not _IMAGE_ID.match(str(value)):
        raise ImageUnusable(f"image property {key} {str(value)[:80]!r} is not an image id")
    return str(value)


def check_boot_image(image: dict[str, Any], role: str, project_id: str) -> None:
    """Refuse a kernel/ramdisk image that is not active or not visible to the guest's project.

    The agent reads it with its service token, which sees every image, so the
    visibility Glance would apply to the user is applied here: the project's own
    images, and public or community ones.
    """
    image_id = image.get("id")
    if image.get("status") not in (None, "active"):
        raise ImageUnusable(f"{role.capitalize()} image {image_id} is not active.")
    visible = image.get("visibility") in (None, "public", "community")
    if not visible and project_id and image.get("owner") != project_id:
        raise ImageUnusable(f"{role.capitalize()} image {image_id} could not be found.")


def ephemeral_fs(os_type: str | None, default: str | None = None) -> str:
    """The ephemeral disk's file system: the setting, else by ``os_type`` (Nova's rule)."""
    if default:
        return default
    return DEFAULT_FS_BY_OS_TYPE.get(str(os_type or "").lower(), DEFAULT_EPHEMERAL_FS)


def ephemeral_extension(fs: str) -> str:
    """The suffix of an ephemeral base's name: md5 of its file system, 7 digits (as Nova)."""
    return hashlib.md5(fs.encode(), usedforsecurity=False).hexdigest()[:7]


#: Virtual sizes of base images already inspected, by path and the stat fields a
#: rewrite or replacement changes: a base is read-only once cached, and running
#: ``qemu-img info`` on it for every guest costs each boot a process start.
_VIRTUAL_SIZES: dict[tuple[str, int, int, int, int, int], int] = {}
#: File times tick coarsely: a base changed less than this long ago is inspected again.
_SETTLED_NS = 2_000_000_000


async def base_virtual_size(base: Path) -> int:
    """The virtual size in bytes of base image ``base`` (``qemu-img info``, remembered)."""
    st = base.stat()
    key = (str(base), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    size = _VIRTUAL_SIZES.get(key)
    if size is None:
        size = int((await image_info(base)).get("virtual-size", 0))
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS:
            _VIRTUAL_SIZES[key] = size
    return size


async def create_overlay(
    disk: Path, size_gb: int, base: Path | None, base_format: str = "qcow2"
) -> None:
    """A qcow2 ``disk`` of ``size_gb`` GiB: an overlay on ``base``, or blank.

    A size of 0 keeps the base image's size (Nova's ``root_gb=0``); 1 GiB when blank.
    """
    if base is not None and size_gb > 0:
        virtual_size = await base_virtual_size(base)
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
