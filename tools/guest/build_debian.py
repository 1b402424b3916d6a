"""`make guest-debian`: build the Debian guest with the real cloud-init (as root, minutes).

Writes ``<state_dir>/guest-debian/`` (kernel, initrd, root.qcow2, manifest.json);
does nothing when an intact build is already there (``--force`` rebuilds).
``--register`` then uploads it to the running cloud (`kumo up`) as the public
images ``debian-12-cloud-init`` (+ ``-kernel``, ``-ramdisk``), once.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console

from kumo.common.config import Settings
from kumo.guest.debian import DebianImage, DebianImageError, build_debian_image
from kumo.guest.debian_register import RegistrationError, register_debian_image

console = Console(highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Build (or find up to date) the Debian guest image; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--directory", type=Path, help="default: <state_dir>/guest-debian")
    parser.add_argument("--mirror", help="default: the Debian mirror the host's apt uses")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--keep-chroot", action="store_true", help="keep rootfs/ afterwards")
    parser.add_argument(
        "--register", action="store_true", help="upload it to the running cloud (kumo up)"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    directory = args.directory or settings.state_dir / "guest-debian"
    started = time.monotonic()
    try:
        image = build_debian_image(
            directory,
            mirror=args.mirror,
            force=args.force,
            keep_chroot=args.keep_chroot,
            progress=lambda message: console.print(f"[cyan]>[/cyan] {message}"),
        )
    except DebianImageError as exc:
        console.print(f"[red]Cannot build the Debian guest:[/red] {exc}")
        return 1
    what = "built" if image.rebuilt else "up to date"
    console.print(f"Debian guest {what} in {time.monotonic() - started:.1f} s: {directory}")
    console.print(f"  kernel      {image.kernel_version}")
    console.print(f"  cloud-init  {image.manifest.get('cloud_init_version')}")
    console.print(f"  cmdline     {image.command_line}")
    files = image.manifest.get("files", {})
    if isinstance(files, dict):
        for name, meta in sorted(files.items()):
            console.print(f"  {name:<11} {meta['size']:>12,} bytes  sha256 {meta['sha256'][:16]}…")
    return register(settings, image) if args.register else 0


def register(settings: Settings, image: DebianImage) -> int:
    """Upload the image to the cloud `kumo up` runs, as admin; 0 also when no cloud runs."""
    from kumo.cli.state import StateDir
    from kumo.cli.up import healthy

    if not healthy(settings):
        console.print(f"No cloud answers at {settings.public_url}: not registered (`make up`).")
        return 0
    auth = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": StateDir(settings).admin_password(),
                    }
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
        }
    }
    with httpx.Client(base_url=settings.public_url, timeout=600) as client:
        issued = client.post("/identity/v3/auth/tokens", json=auth)
        if issued.status_code != 201:
            console.print(f"[red]Cannot log in as admin:[/red] HTTP {issued.status_code}")
            return 1
        try:
            done = register_debian_image(client, issued.headers["X-Subject-Token"], image)
        except RegistrationError as exc:
            console.print(f"[red]The image service refused the Debian guest:[/red] {exc}")
            return 1
    what = "uploaded" if done.uploaded else "already registered"
    console.print(f"Registered ({what}): image {done.image_id}")
    console.print(f"  kernel_id {done.kernel_id}  ramdisk_id {done.ramdisk_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
