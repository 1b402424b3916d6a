"""A full Debian 12 guest with the real cloud-init, built by ``debootstrap`` (make guest-debian).

The Kumo guest (:mod:`kumo.guest.image`) imitates cloud-init in a few hundred
lines of shell; this image runs the real one, so a test can show that Kumo's
config drive and metadata service work for it exactly as on OpenStack.

:func:`build_debian_image` (as root, the Debian mirror the host's apt uses is
the only network it needs) writes into ``<state_dir>/guest-debian/``:

- ``vmlinuz`` and ``initrd.img``: the chroot's cloud kernel and its initramfs
  (initramfs-tools, with virtio_pci/virtio_blk/ext4 named in
  ``/etc/initramfs-tools/modules`` and checked with ``lsinitramfs``);
- ``root.qcow2``: the root file system (ext4 labelled ``cloudimg-rootfs`` on
  the whole disk, no partition table), made with ``mkfs.ext4 -d`` from the
  chroot and ``qemu-img convert``: nothing is ever mounted;
- ``manifest.json``: what was built from what (suite, mirror, package
  versions, kernel and cloud-init versions), sha256 and size of each file.

It is rebuilt only when a file is missing or does not match the manifest.
Downloaded packages are kept in ``debs/`` so a rebuild needs no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Bumped when the image's contents change, so older builds are redone.
BUILDER_VERSION = "kumo-guest-debian-2"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
ROOT_LABEL = "cloudimg-rootfs"
#: Packages on top of debootstrap's ``minbase`` (dependencies are resolved by debootstrap).
PACKAGES = (
    "linux-image-cloud-amd64",
    "cloud-init",
    # debootstrap does not resolve virtual packages: python3-cryptography needs this one's.
    "python3-cffi-backend",
    "openssh-server",
    "ifupdown",
    "isc-dhcp-client",
    "udev",
    "systemd-sysv",
    "dbus",
    "sudo",
    "ca-certificates",
    "iproute2",
    "e2fsprogs",
    "netbase",
    "procps",
)
#: What the initramfs must carry to find and mount the root disk.
INITRD_MODULES = ("virtio_pci", "virtio_blk", "ext4")
#: The root disk's virtual size (a flavor's root disk must be at least this).
ROOT_SIZE = 2 << 30
#: The kernel command line the image's ``os_command_line`` property carries.
COMMAND_LINE = "root=/dev/vda rw console=ttyS0"
#: cloud-init's data sources, in the order OpenStack images list them.
DATASOURCES = ("ConfigDrive", "OpenStack", "None")
FILES = ("vmlinuz", "initrd.img", "root.qcow2")

Runner = Callable[[Sequence[str]], str]


class DebianImageError(Exception):
    """The Debian image cannot be built or found (what to do next is in the message)."""


@dataclass
class DebianImage:
    """A built Debian guest: its kernel, initrd and root disk."""

    directory: Path
    manifest: dict[str, object] = field(default_factory=dict)
    rebuilt: bool = False

    @property
    def kernel(self) -> Path:
        """The cloud kernel (an ``aki`` image)."""
        return self.directory / "vmlinuz"

    @property
    def initrd(self) -> Path:
        """The initramfs (an ``ari`` image)."""
        return self.directory / "initrd.img"

    @property
    def root_disk(self) -> Path:
        """The root file system as qcow2 (the bootable image)."""
        return self.directory / "root.qcow2"

    @property
    def command_line(self) -> str:
        """The kernel command line to boot it with (this code's: it is not built in)."""
        return COMMAND_LINE

    @property
    def kernel_version(self) -> str:
        """The guest kernel's release."""
        return str(self.manifest.get("kernel_version", ""))


def run_command(command: Sequence[str]) -> str:
    """Run a build step; its stdout, or :class:`DebianImageError` with its output's tail."""
    done = subprocess.run(list(command), capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise DebianImageError(f"{command[0]} failed (exit status {done.returncode}): {tail}")
    return done.stdout


def apt_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The Debian mirror the host's apt uses (deb822 ``.sources`` or ``sources.list``)."""
    files = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file() or path.suffix not in (".list", ".sources"):
            continue
        text = path.read_text(errors="replace")
        uris: list[str] = re.findall(r"^URIs:\s*(\S+)", text, re.MULTILINE)
        uris += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, re.MULTILINE)
        for uri in uris:
            # The main archive, not the security one nor a third-party repository.
            if uri.rstrip("/").endswith("/debian"):
                return str(uri).rstrip("/")
    return DEFAULT_MIRROR


def debootstrap_command(target: Path, mirror: str, cache: Path) -> list[str]:
    """The ``debootstrap`` command line that makes the chroot."""
    return [
        "debootstrap",
        "--variant=minbase",
        f"--cache-dir={cache}",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(target),
        mirror,
    ]


def cloud_config() -> str:
    """``/etc/cloud/cloud.cfg.d/90_kumo.cfg``: where cloud-init looks, and nothing else."""
    return (
        "# Kumo: the config drive first, then the metadata service; no other cloud.\n"
        f"datasource_list: [{', '.join(DATASOURCES)}]\n"
    )


def _write(root: Path, relative: str, text: str, mode: int = 0o644) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def configure_rootfs(root: Path) -> None:
    """Make the chroot a cloud image: no host identity, console on ttyS0, cloud-init's config.

    Only files are written (no chroot, no mount): fstab by label, ifupdown reading
    what cloud-init renders, a serial getty, cloud-init's datasources, an initramfs
    that can mount a virtio root, and no SSH host keys, machine-id, resolv.conf or
    root password carried over from the build.
    """
    _write(root, "etc/fstab", f"LABEL={ROOT_LABEL} / ext4 defaults,errors=remount-ro 0 1\n")
    _write(root, "etc/hostname", "debian\n")
    _write(root, "etc/hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
    _write(
        root,
        "etc/network/interfaces",
        "# cloud-init renders the guest's NICs into interfaces.d/50-cloud-init\n"
        "auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n",
    )
    (root / "etc/network/interfaces.d").mkdir(parents=True, exist_ok=True)
    _write(root, "etc/cloud/cloud.cfg.d/90_kumo.cfg", cloud_config())
    modules = "\n".join(INITRD_MODULES) + "\n"
    _write(root, "etc/initramfs-tools/modules", modules)
    getty = root / "etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
    getty.parent.mkdir(parents=True, exist_ok=True)
    if not getty.is_symlink():
        getty.symlink_to("/lib/systemd/system/serial-getty@.service")
    # Every instance makes its own: cloud-init regenerates SSH host keys, systemd the id.
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    _write(root, "etc/machine-id", "", 0o444)
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.exists() or dbus_id.is_symlink():
        dbus_id.unlink()
    # debootstrap copies the host's resolver settings in; the guest learns its own.
    resolv = root / "etc/resolv.conf"
    if resolv.exists() or resolv.is_symlink():
        resolv.unlink()
    _lock_root_password(root / "etc/shadow")
    for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for path in (root / leftover).glob("*"):
            if path.is_file() and path.name != "lock":
                path.unlink()


def _lock_root_password(shadow: Path) -> None:
    if not shadow.exists():
        return
    lines = shadow.read_text().splitlines()
    for index, line in enumerate(lines):
        fields = line.split(":")
        if fields[0] == "root" and len(fields) > 1:
            fields[1] = "*"  # no password: nobody logs in as root with one
            lines[index] = ":".join(fields)
    shadow.write_text("\n".join(lines) + "\n")


def _kernel_files(root: Path) -> tuple[Path, Path, str]:
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise DebianImageError(f"no kernel in {root}/boot: did debootstrap install it?")
    kernel = kernels[-1]
    version = kernel.name.removeprefix("vmlinuz-")
    initrd = root / "boot" / f"initrd.img-{version}"
    if not initrd.exists():
        raise DebianImageError(f"{initrd} is missing: update-initramfs did not run")
    return kernel, initrd, version


def missing_initrd_modules(listing: str, builtin: str = "") -> list[str]:
    """Which of :data:`INITRD_MODULES` are neither in an ``lsinitramfs`` listing nor built in.

    ``builtin`` is the kernel's ``modules.builtin`` (the cloud kernel builds ext4 in).
    """
    present = {
        re.sub(r"\.ko(\.(xz|zst|gz))?$", "", Path(line).name).replace("-", "_")
        for line in (listing + "\n" + builtin).splitlines()
        if ".ko" in line
    }
    return [module for module in INITRD_MODULES if module not in present]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(path: Path) -> dict[str, object]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _intact(directory: Path, manifest: dict[str, object], *, verify: bool) -> bool:
    files = manifest.get("files")
    if manifest.get("builder") != BUILDER_VERSION or not isinstance(files, dict):
        return False
    for name in FILES:
        meta, path = files.get(name), directory / name
        if not isinstance(meta, dict) or not path.is_file():
            return False
        if path.stat().st_size != meta.get("size"):
            return False
        if verify and _sha256(path) != meta.get("sha256"):
            return False
    return True


def load_debian_image(directory: Path, *, verify: bool = False) -> DebianImage:
    """The Debian image built in ``directory`` (sizes, or with ``verify`` hashes, checked)."""
    manifest = _read_manifest(directory / "manifest.json")
    if not manifest or not _intact(directory, manifest, verify=verify):
        raise DebianImageError(
            f"no Debian guest image in {directory}: build it with `make guest-debian` (as root)"
        )
    return DebianImage(directory, manifest)


def _mounts_under(directory: Path) -> list[str]:
    prefix = str(directory.resolve()) + "/"
    mounts = []
    for line in Path("/proc/mounts").read_text().splitlines():
        mountpoint = line.split()[1].replace("\\040", " ")
        if mountpoint.startswith(prefix):
            mounts.append(mountpoint)
    return mounts


def remove_chroot(directory: Path, runner: Runner = run_command) -> None:
    """Delete a chroot, first unmounting what a failed debootstrap left mounted in it.

    Deleting through a live ``/proc`` or ``/sys`` mount would reach the host's, so
    this refuses when anything stays mounted.
    """
    if not directory.exists():
        return
    for mountpoint in sorted(_mounts_under(directory), key=len, reverse=True):
        runner(["umount", "--lazy", mountpoint])
    left = _mounts_under(directory)
    if left:
        raise DebianImageError(f"still mounted, not deleting {directory}: {', '.join(left)}")
    shutil.rmtree(directory)


def _package_versions(root: Path, runner: Runner) -> dict[str, str]:
    listing = runner(
        [
            "dpkg-query",
            f"--admindir={root / 'var/lib/dpkg'}",
            "-W",
            "-f",
            "${Package} ${Version}\\n",
        ]
    )
    versions = {}
    for line in listing.splitlines():
        name, _, version = line.partition(" ")
        if name:
            versions[name] = version
    return versions


def _make_root_disk(root: Path, directory: Path, runner: Runner) -> int:
    raw = directory / "root.raw"
    raw.unlink(missing_ok=True)
    with raw.open("wb") as stream:
        stream.truncate(ROOT_SIZE)
    # -d fills the file system from the chroot as it is made: no loop mount needed.
    runner(["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-d", str(root), str(raw)])
    partial = directory / ".root.qcow2.part"
    runner(["qemu-img", "convert", "-q", "-c", "-f", "raw", "-O", "qcow2", str(raw), str(partial)])
    raw.unlink()
    os.replace(partial, directory / "root.qcow2")
    return ROOT_SIZE


def check_build_host() -> None:
    """Raise :class:`DebianImageError` unless this host can build the image."""
    if os.geteuid() != 0:
        raise DebianImageError("building the Debian guest needs root (debootstrap, chroot)")
    for tool in ("debootstrap", "mkfs.ext4", "qemu-img", "dpkg-query", "chroot"):
        if shutil.which(tool) is None:
            raise DebianImageError(f"{tool} is not installed: run `make debs`")


def image_from_chroot(
    root: Path,
    directory: Path,
    *,
    mirror: str,
    runner: Runner = run_command,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, object]:
    """Turn a debootstrapped ``root`` into the image files in ``directory``; the manifest.

    Configures the chroot (:func:`configure_rootfs`), regenerates and checks its
    initramfs, copies kernel and initrd out, and makes ``root.qcow2`` from it.
    """
    progress("configuring cloud-init, the console and the initramfs")
    configure_rootfs(root)
    kernel, initrd, version = _kernel_files(root)
    runner(["chroot", str(root), "update-initramfs", "-u", "-k", version])
    listing = runner(["chroot", str(root), "lsinitramfs", f"/boot/{initrd.name}"])
    builtin = root / "lib/modules" / version / "modules.builtin"
    missing = missing_initrd_modules(listing, builtin.read_text() if builtin.exists() else "")
    if missing:
        raise DebianImageError(f"the initramfs lacks {', '.join(missing)}")
    packages = _package_versions(root, runner)
    shutil.copyfile(kernel, directory / "vmlinuz")
    shutil.copyfile(initrd, directory / "initrd.img")
    progress("making the ext4 root disk (mkfs.ext4 -d) and converting it to qcow2")
    virtual_size = _make_root_disk(root, directory, runner)
    return {
        "builder": BUILDER_VERSION,
        "suite": SUITE,
        "mirror": mirror,
        "kernel_version": version,
        "cloud_init_version": packages.get("cloud-init", ""),
        "os_command_line": COMMAND_LINE,
        "root_label": ROOT_LABEL,
        "virtual_size": virtual_size,
        "datasources": list(DATASOURCES),
        "packages": packages,
        "files": {
            name: {"sha256": _sha256(directory / name), "size": (directory / name).stat().st_size}
            for name in FILES
        },
    }


def build_debian_image(
    directory: Path,
    *,
    mirror: str | None = None,
    force: bool = False,
    runner: Runner = run_command,
    progress: Callable[[str], None] = lambda message: None,
    keep_chroot: bool = False,
) -> DebianImage:
    """Build the Debian guest in ``directory`` unless an intact build is already there.

    ``keep_chroot`` leaves ``rootfs/`` in place afterwards (to look into a build).
    """
    directory.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(directory / "manifest.json")
    if not force and manifest and _intact(directory, manifest, verify=True):
        return DebianImage(directory, manifest, rebuilt=False)
    check_build_host()
    mirror = mirror or apt_mirror()
    started = time.monotonic()
    root = directory / "rootfs"
    cache = directory / "debs"
    cache.mkdir(exist_ok=True)
    remove_chroot(root, runner)
    (directory / "manifest.json").unlink(missing_ok=True)
    try:
        progress(f"debootstrap {SUITE} from {mirror} (minutes)")
        runner(debootstrap_command(root, mirror, cache))
        manifest = image_from_chroot(
            root, directory, mirror=mirror, runner=runner, progress=progress
        )
    finally:
        if not keep_chroot:
            remove_chroot(root, runner)
    manifest["build_seconds"] = round(time.monotonic() - started, 1)
    write_manifest(directory, manifest)
    return DebianImage(directory, manifest, rebuilt=True)


def write_manifest(directory: Path, manifest: dict[str, object]) -> None:
    """Write ``manifest.json`` atomically (last: a build without one is no build)."""
    partial = directory / ".manifest.json.part"
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(partial, directory / "manifest.json")
