"""``kumo up``'s guest image steps: build it, and register it in the image service.

Registered twice over, as OpenStack clouds offer images (both boot):

- ``kumo-guest``: one bootable disk. The QEMU driver boots an image that names no
  kernel with the Kumo kernel and initramfs of ``<state_dir>/guest/`` (direct
  kernel boot); the image is the guest's root disk, a blank qcow2 the guest's
  init formats on first boot to keep its instance state (``/var/lib/cloud``:
  which per-instance scripts already ran), so a reboot is not a first boot.
- ``kumo-guest-kernel`` (``aki``), ``kumo-guest-ramdisk`` (``ari``) and
  ``kumo-guest-ami`` (``ami``, a small blank raw disk) whose ``kernel_id`` and
  ``ramdisk_id`` properties name the other two: Nova's AMI/AKI/ARI model, booted
  with the kernel and initrd downloaded from the image service.

The ids are fixed (uuid5 of the name), so registering again is a no-op; when the
guest image was rebuilt, the kernel and ramdisk images get the new data.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import uuid
from pathlib import Path

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.guest.image import GuestImage, GuestImageError, build_guest_image

log = logging.getLogger(__name__)

GUEST_IMAGE_NAME = "kumo-guest"
#: The same id in every cloud: registering twice is a no-op, and tools can find it.
GUEST_IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kumo:image:" + GUEST_IMAGE_NAME))
#: Virtual size of the root disk: fits the smallest devstack flavors (1 GiB root).
DISK_VIRTUAL_SIZE = 1 << 30
KERNEL_IMAGE_NAME = "kumo-guest-kernel"
RAMDISK_IMAGE_NAME = "kumo-guest-ramdisk"
AMI_IMAGE_NAME = "kumo-guest-ami"
KERNEL_IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kumo:image:" + KERNEL_IMAGE_NAME))
RAMDISK_IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kumo:image:" + RAMDISK_IMAGE_NAME))
AMI_IMAGE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kumo:image:" + AMI_IMAGE_NAME))
#: The machine image's root disk: blank raw (an ami is raw data), grown by the flavor.
AMI_DISK_SIZE = 4 << 20


def guest_dir(settings: Settings) -> Path:
    """Where the guest kernel and initramfs are built."""
    return settings.state_dir / "guest"


def ensure_guest_image(settings: Settings) -> tuple[GuestImage | None, str]:
    """Build the guest image (idempotent, fast when up to date); (image or None, what happened)."""
    try:
        image = build_guest_image(guest_dir(settings))
    except (GuestImageError, OSError, subprocess.SubprocessError) as exc:
        return None, f"guest image not built: {exc}"
    return image, "built" if image.rebuilt else "up to date"


def _blank_qcow2(path: Path) -> bytes:
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(path), str(DISK_VIRTUAL_SIZE)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path.read_bytes()


def register_guest_image(settings: Settings, db: Database, guest: GuestImage) -> str | None:
    """Register ``kumo-guest`` and the kernel/ramdisk/machine images; kumo-guest's id, or None.

    None when ``qemu-img`` is missing (then no guest can run here anyway).
    """
    disk = _register_disk_image(settings, db, guest)
    register_machine_images(settings, db, guest)
    return disk


def _register_disk_image(settings: Settings, db: Database, guest: GuestImage) -> str | None:
    """Register ``kumo-guest`` (public, active qcow2) unless it exists; its id, or None."""
    from kumo.image.db.models import Image
    from kumo.image.service import store
    from kumo.image.service.bootstrap import add_public_image

    with db.reader() as session:
        if session.get(Image, GUEST_IMAGE_ID) is not None:
            return GUEST_IMAGE_ID
    if shutil.which("qemu-img") is None:
        log.warning("qemu-img is missing: the %s image is not registered", GUEST_IMAGE_NAME)
        return None
    path = store.data_path(settings.state_dir, GUEST_IMAGE_ID)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    data = _blank_qcow2(partial)
    partial.replace(path)
    properties = {
        "os_distro": "kumo",
        "os_type": "linux",
        "hw_architecture": "x86_64",
        "kumo_guest": "true",
        "kumo_guest_kernel": guest.kernel_version,
        "description": "Kumo guest: Debian cloud kernel + busybox/dropbear initramfs; "
        "reads the config drive, runs user_data",
    }
    add_public_image(
        db,
        image_id=GUEST_IMAGE_ID,
        name=GUEST_IMAGE_NAME,
        data=data,
        location=path.name,
        virtual_size=DISK_VIRTUAL_SIZE,
        properties=properties,
    )
    log.info("registered the guest image %s (%s)", GUEST_IMAGE_NAME, GUEST_IMAGE_ID)
    return GUEST_IMAGE_ID


def _store(settings: Settings, image_id: str, data: bytes) -> Path:
    from kumo.image.service import store

    path = store.data_path(settings.state_dir, image_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)
    return path


def _refresh(settings: Settings, db: Database, image_id: str, data: bytes) -> bool:
    """Give a registered built-in image new data when the build changed; whether it existed.

    The compute hosts' image cache sees the new hash and fetches the image again.
    """
    from kumo.common.db import utcnow
    from kumo.image.db.models import Image
    from kumo.image.service import store

    digest = hashlib.new(store.HASH_ALGO, data).hexdigest()
    with db.writer() as session:
        image = session.get(Image, image_id)
        if image is None:
            return False
        if image.os_hash_value == digest:
            return True
        image.location = _store(settings, image_id, data).name
        image.size = image.virtual_size = len(data)
        image.checksum = hashlib.md5(data, usedforsecurity=False).hexdigest()
        image.os_hash_algo, image.os_hash_value = store.HASH_ALGO, digest
        image.updated_at = utcnow()
    log.info("built-in image %s has new data (the guest image was rebuilt)", image_id)
    return True


def register_machine_images(settings: Settings, db: Database, guest: GuestImage) -> str:
    """Register ``kumo-guest-kernel`` (aki), ``-ramdisk`` (ari) and ``-ami``; the ami's id.

    Idempotent; the kernel and ramdisk follow the guest image when it was rebuilt.
    """
    from kumo.image.service.bootstrap import add_public_image

    common = {
        "os_distro": "kumo",
        "os_type": "linux",
        "hw_architecture": "x86_64",
        "kumo_guest": "true",
        "kumo_guest_kernel": guest.kernel_version,
    }
    zeros = bytes(AMI_DISK_SIZE)
    parts: tuple[tuple[str, str, str, bytes, dict[str, str]], ...] = (
        (KERNEL_IMAGE_ID, KERNEL_IMAGE_NAME, "aki", guest.kernel.read_bytes(), {}),
        (RAMDISK_IMAGE_ID, RAMDISK_IMAGE_NAME, "ari", guest.initramfs.read_bytes(), {}),
        (
            AMI_IMAGE_ID,
            AMI_IMAGE_NAME,
            "ami",
            zeros,
            {
                "kernel_id": KERNEL_IMAGE_ID,
                "ramdisk_id": RAMDISK_IMAGE_ID,
                "description": "Kumo guest as a machine image: booted with the "
                f"{KERNEL_IMAGE_NAME} kernel and {RAMDISK_IMAGE_NAME} initrd",
            },
        ),
    )
    for image_id, name, kind, data, extra in parts:
        if _refresh(settings, db, image_id, data):
            continue
        path = _store(settings, image_id, data)
        add_public_image(
            db,
            image_id=image_id,
            name=name,
            data=data,
            location=path.name,
            virtual_size=len(data),
            properties={**common, **extra},
            disk_format=kind,
            container_format=kind,
        )
        log.info("registered the guest image %s (%s, %s)", name, kind, image_id)
    return AMI_IMAGE_ID
