"""What a guest boots from, read from its image, and the flavor's extra local disks.

Nova's libvirt driver boots an image whose properties name ``kernel_id`` (and
``ramdisk_id``) with those images' data as kernel and initrd (the AMI/AKI/ARI
model) and ``os_command_line`` on the kernel command line; any other image boots
the Kumo guest kernel and initramfs built on this host (``kumo image build``).
``hw_machine_type`` picks the machine over the host's default.

The flavor's ephemeral disk (``disk.local``) and swap disk (``disk.swap``) are
qcow2 overlays on formatted bases made once per host (see :class:`ImageCache`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from kumo.agents.compute.virt.driver import GuestSpec, ImageUnusable, VirtError
from kumo.agents.compute.virt.qemu.images import (
    ImageCache,
    ImageLookup,
    boot_image_id,
    check_boot_image,
    create_overlay,
    ephemeral_fs,
)
from kumo.agents.compute.virt.qemu.instance import InstanceDir, image_machine_type
from kumo.common import errors
from kumo.guest.image import GuestImageError, load_guest_image

#: Nova's kernel command line for a kernel image without ``os_command_line``
#: (its console switches are already in :func:`kernel_command_line`).
DEFAULT_KERNEL_IMAGE_ARGS = "root=/dev/vda"


@dataclass
class BootSource:
    """Kernel, initrd (None: none), machine type and extra kernel arguments of a guest."""

    kernel: Path
    initrd: Path | None
    machine: str
    extra_args: str


async def _boot_image(
    lookup: ImageLookup | None, image_id: str, role: str, project_id: str
) -> dict[str, object]:
    if lookup is None:
        raise VirtError(f"cannot look up {role} image {image_id}: no image service is set")
    what = f"{role.capitalize()} image {image_id}"
    try:
        image = await lookup.get_image(image_id)
    except VirtError:
        raise
    except errors.NotFound as exc:
        raise ImageUnusable(f"{what} could not be found.") from exc
    except Exception as exc:  # the image service is down or failing: another try may work
        message = str(getattr(exc, "message", "") or exc)
        raise VirtError(f"{what} could not be read: {message}") from exc
    check_boot_image(image, role, project_id)
    return image


async def boot_source(
    guest: GuestSpec,
    *,
    images: ImageCache,
    lookup: ImageLookup | None,
    guest_image_dir: Path,
    default_machine: str,
) -> BootSource:
    """What ``guest`` boots: its image's kernel/ramdisk images, else the local Kumo guest."""
    machine = image_machine_type(guest.image.get("hw_machine_type"), default_machine)
    extra = str(guest.image.get("os_command_line") or "").strip()
    kernel_id = boot_image_id(guest.image, "kernel_id")
    ramdisk_id = boot_image_id(guest.image, "ramdisk_id")
    if kernel_id is None:
        if ramdisk_id is not None:
            raise ImageUnusable("the image names a ramdisk_id but no kernel_id")
        try:
            local = await asyncio.to_thread(load_guest_image, guest_image_dir)
        except GuestImageError as exc:
            raise VirtError(str(exc)) from exc
        return BootSource(local.kernel, local.initramfs, machine, extra)
    kernel_image = await _boot_image(lookup, kernel_id, "kernel", guest.project_id)
    kernel = await images.fetch_boot_file(kernel_image, "kernel")
    initrd = None
    if ramdisk_id is not None:
        ramdisk_image = await _boot_image(lookup, ramdisk_id, "ramdisk", guest.project_id)
        initrd = await images.fetch_boot_file(ramdisk_image, "ramdisk")
    return BootSource(kernel, initrd, machine, extra or DEFAULT_KERNEL_IMAGE_ARGS)


async def make_local_disks(
    guest: GuestSpec, files: InstanceDir, images: ImageCache, default_fs: str | None = None
) -> None:
    """The flavor's ephemeral (``disk.local``) and swap (``disk.swap``) disks, if it has them.

    The ephemeral file system follows Nova: ``default_fs`` when set, else by the
    image's ``os_type`` (ext4 for linux), else vfat.
    """
    if guest.ephemeral_gb > 0:
        fs = ephemeral_fs(guest.image.get("os_type"), default_fs)
        base = await images.ephemeral_base(guest.ephemeral_gb, fs)
        await create_overlay(files.ephemeral_disk, 0, base, "raw")
    if guest.swap_mb > 0:
        base = await images.swap_base(guest.swap_mb)
        await create_overlay(files.swap_disk, 0, base, "raw")
