"""``kumo up``'s guest image steps: build it, and register it as the public image ``kumo-guest``.

The QEMU driver boots every guest with the Kumo kernel and initramfs of
``<state_dir>/guest/`` (direct kernel boot); the image the servers API boots is
the guest's root disk. ``kumo-guest`` is that disk: a blank qcow2 the guest's
init formats on first boot to keep its instance state (``/var/lib/cloud``:
which per-instance scripts already ran), so a reboot is not a first boot.
Its properties name the kernel it runs with.
"""

from __future__ import annotations

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
    """Register ``kumo-guest`` (public, active qcow2) unless it exists; its id, or None.

    None when ``qemu-img`` is missing (then no guest can run here anyway).
    """
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
