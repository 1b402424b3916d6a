"""`kumo image build`: build the Kumo guest image (kernel + initramfs) offline."""

from __future__ import annotations

import time

from rich.console import Console

from kumo.common.config import Settings
from kumo.guest.image import GuestImageError, build_guest_image

console = Console(highlight=False)


def image_build(settings: Settings, *, force: bool = False) -> int:
    """Build ``<state_dir>/guest/`` from installed Debian packages; 0 on success."""
    directory = settings.state_dir / "guest"
    started = time.monotonic()
    try:
        with console.status("Building the guest image from Debian packages…"):
            image = build_guest_image(directory, force=force)
    except GuestImageError as exc:
        console.print(f"[red]Cannot build the guest image:[/red] {exc}")
        return 1
    elapsed = time.monotonic() - started
    what = "built" if image.rebuilt else "up to date"
    files = image.manifest.get("files", {})
    console.print(f"Guest image {what} in {elapsed:.1f} s: {directory}")
    console.print(f"  kernel  {image.kernel_version}")
    if isinstance(files, dict):
        for name, meta in sorted(files.items()):
            console.print(f"  {name:<14} {meta['size']:>10,} bytes  sha256 {meta['sha256'][:16]}…")
    return 0
