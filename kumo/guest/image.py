"""The Kumo guest image: a Debian cloud kernel and a busybox + dropbear initramfs.

Built offline from installed Debian packages only (``linux-image-cloud-amd64``,
``busybox-static``, ``dropbear-bin``): :func:`build_guest_image` writes
``vmlinuz``, ``initramfs.img`` and ``manifest.json`` (sha256 of each, kernel
version, the modules loaded) into ``<state_dir>/guest/``. It is idempotent: the
inputs are fingerprinted, and when the manifest says the outputs were built from
the same inputs (and they still hash right) nothing is rebuilt.

The initramfs carries busybox with every applet linked, dropbear with the
shared libraries ``ldd`` names, the virtio / ISO 9660 / VFAT / ACPI button
modules with a load order resolved from ``modules.dep``, and the files under
``kumo/guest/rootfs/`` (``/init`` and its helpers).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from kumo.guest import cpio

#: Bumped whenever the layout of the initramfs changes, so old builds are redone.
BUILDER_VERSION = "kumo-guest-1"
ROOTFS = Path(__file__).resolve().parent / "rootfs"
#: Kernel modules the guest needs (their dependencies are added from modules.dep).
WANTED_MODULES = (
    "virtio_pci",
    "virtio_mmio",
    "virtio_blk",
    "virtio_net",
    "virtio_rng",
    "isofs",
    "vfat",
    "nls_cp437",
    "nls_ascii",
    "button",
    "evdev",
)
DROPBEAR_BINARIES = ("/usr/sbin/dropbear", "/usr/bin/dropbearkey")
BUSYBOX = Path("/bin/busybox")
DEBIAN_PACKAGES = ("linux-image-cloud-amd64", "busybox-static", "dropbear-bin")
_GUEST_DIRS = (
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "etc",
    "etc/dropbear",
    "lib",
    "lib/modules",
    "lib64",
    "proc",
    "sys",
    "dev",
    "run",
    "tmp",
    "root",
    "mnt",
    "var",
    "var/lib",
    "var/lib/cloud",
    "var/log",
)


class GuestImageError(Exception):
    """The guest image cannot be built here (a Debian package is missing, …)."""


@dataclass
class GuestImage:
    """Where a built guest image is, and what it is."""

    directory: Path
    kernel: Path
    initramfs: Path
    manifest: dict[str, object] = field(default_factory=dict)
    rebuilt: bool = False

    @property
    def kernel_version(self) -> str:
        """The guest kernel's release (``uname -r`` in the guest)."""
        return str(self.manifest.get("kernel_version", ""))


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version_key(version: str) -> list[int]:
    return [int(part) for part in re.findall(r"\d+", version)]


def find_cloud_kernel(boot: Path = Path("/boot")) -> tuple[Path, str]:
    """The newest Debian cloud kernel installed: its vmlinuz and its version."""
    kernels = sorted(
        boot.glob("vmlinuz-*-cloud-amd64"),
        key=lambda path: _version_key(path.name.removeprefix("vmlinuz-")),
    )
    if not kernels:
        raise GuestImageError(
            "no Debian cloud kernel in /boot: install it with "
            "`apt-get install linux-image-cloud-amd64` (make debs)"
        )
    kernel = kernels[-1]
    return kernel, kernel.name.removeprefix("vmlinuz-")


def module_load_order(modules_dir: Path, wanted: tuple[str, ...]) -> list[str]:
    """Relative paths of ``wanted`` modules and their dependencies, dependencies first.

    Read from ``modules.dep`` (whose dependency lists are already transitive);
    modules that are built into the kernel or absent are skipped.
    """
    deps: dict[str, list[str]] = {}
    by_name: dict[str, str] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        module, _, rest = line.partition(":")
        deps[module] = rest.split()
        name = re.sub(r"\.ko(\.(xz|zst|gz))?$", "", Path(module).name)
        by_name[name.replace("-", "_")] = module
    order: list[str] = []

    def visit(module: str, seen: frozenset[str]) -> None:
        if module in order or module in seen:
            return
        for dependency in reversed(deps.get(module, [])):
            visit(dependency, seen | {module})
        order.append(module)

    for name in wanted:
        found = by_name.get(name.replace("-", "_"))
        if found is not None:
            visit(found, frozenset())
    return order


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".zst":
        raise GuestImageError(f"zstd-compressed module {path} is not supported")
    return data


def shared_libraries(binary: str) -> list[str]:
    """The shared libraries (absolute paths, the loader too) that ``binary`` needs."""
    done = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GuestImageError(f"ldd {binary} failed: {done.stderr.strip() or done.stdout.strip()}")
    libraries = []
    for line in done.stdout.splitlines():
        match = re.search(r"(/\S+)\s+\(0x", line)
        if match:
            libraries.append(match.group(1))
    return libraries


def busybox_applets(busybox: Path) -> list[str]:
    """Install paths of every busybox applet (``bin/sh``, ``usr/bin/wget``, …)."""
    done = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise GuestImageError(f"{busybox} --list-full failed: {done.stderr.strip()}")
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


@dataclass
class _Inputs:
    kernel: Path
    kernel_version: str
    modules: list[str]
    modules_dir: Path
    files: dict[str, Path]  # guest path -> host path (binaries and libraries)
    rootfs: dict[str, Path]  # guest path -> file under kumo/guest/rootfs
    applets: list[str]

    def fingerprint(self) -> str:
        digest = hashlib.sha256(BUILDER_VERSION.encode())
        sources = [
            ("kernel", self.kernel),
            *((f"module:{m}", self.modules_dir / m) for m in self.modules),
            *sorted(self.files.items()),
            *sorted(self.rootfs.items()),
        ]
        for name, path in sources:
            digest.update(f"{name}\0{sha256_file(path)}\0".encode())
        digest.update("\0".join(self.applets).encode())
        return digest.hexdigest()


def _gather_inputs() -> _Inputs:
    kernel, version = find_cloud_kernel()
    modules_dir = Path("/lib/modules") / version
    if not (modules_dir / "modules.dep").exists():
        raise GuestImageError(f"{modules_dir}/modules.dep is missing (reinstall the kernel)")
    if not BUSYBOX.exists() or "statically linked" not in _file_kind(BUSYBOX):
        raise GuestImageError("a static busybox is needed: apt-get install busybox-static")
    files: dict[str, Path] = {"bin/busybox": BUSYBOX}
    for binary in DROPBEAR_BINARIES:
        if not Path(binary).exists():
            raise GuestImageError(f"{binary} is missing: apt-get install dropbear-bin")
        files[binary.lstrip("/")] = Path(binary)
        for library in shared_libraries(binary):
            files[library.lstrip("/")] = Path(library)
    rootfs = {
        str(path.relative_to(ROOTFS)): path for path in sorted(ROOTFS.rglob("*")) if path.is_file()
    }
    return _Inputs(
        kernel=kernel,
        kernel_version=version,
        modules=module_load_order(modules_dir, WANTED_MODULES),
        modules_dir=modules_dir,
        files=files,
        rootfs=rootfs,
        applets=busybox_applets(BUSYBOX),
    )


def _file_kind(path: Path) -> str:
    # A static ELF has no PT_INTERP program header; ldd says so in words.
    done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
    return "statically linked" if "not a dynamic executable" in done.stdout + done.stderr else ""


def _initramfs(inputs: _Inputs) -> bytes:
    entries: dict[str, cpio.Entry] = {}

    def add_dirs(path: str) -> None:
        parent = os.path.dirname(path)
        while parent and parent not in entries:
            entries[parent] = cpio.directory(parent)
            parent = os.path.dirname(parent)

    for directory in _GUEST_DIRS:
        add_dirs(directory + "/x")
        entries[directory] = cpio.directory(directory, 0o1777 if directory == "tmp" else 0o755)
    entries["root"] = cpio.directory("root", 0o700)
    entries["dev/console"] = cpio.chardev("dev/console", 5, 1)
    entries["dev/null"] = cpio.chardev("dev/null", 1, 3, 0o666)
    for guest_path, host_path in inputs.files.items():
        add_dirs(guest_path)
        entries[guest_path] = cpio.regular(guest_path, host_path.resolve().read_bytes(), 0o755)
    for applet in inputs.applets:
        if applet not in entries:
            add_dirs(applet)
            entries[applet] = cpio.symlink(applet, "/bin/busybox")
    load_order = []
    for module in inputs.modules:
        name = re.sub(r"\.(xz|gz|zst)$", "", Path(module).name)
        entries[f"lib/modules/{name}"] = cpio.regular(
            f"lib/modules/{name}", _module_bytes(inputs.modules_dir / module)
        )
        load_order.append(name)
    entries["lib/modules/kumo-load-order"] = cpio.regular(
        "lib/modules/kumo-load-order", ("\n".join(load_order) + "\n").encode()
    )
    entries["etc/kumo-release"] = cpio.regular(
        "etc/kumo-release", f"{BUILDER_VERSION} ({inputs.kernel_version})\n".encode()
    )
    for guest_path, host_path in inputs.rootfs.items():
        add_dirs(guest_path)
        data = host_path.read_bytes()
        perm = 0o755 if data.startswith(b"#!") else 0o644
        if guest_path == "etc/shadow":
            perm = 0o600
        entries[guest_path] = cpio.regular(guest_path, data, perm)
    ordered = sorted(entries.values(), key=lambda entry: entry.path)
    return gzip.compress(cpio.archive(ordered), compresslevel=6, mtime=0)


def _read_manifest(path: Path) -> dict[str, object]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


#: sha256 of output files already hashed, by path and the stat fields any rewrite,
#: replacement or chmod changes: every guest spawn checks the image, and hashing its
#: ~30 MB again each time costs a busy host tens of milliseconds per boot.
_HASHED: dict[tuple[str, int, int, int, int, int], str] = {}
#: File times tick coarsely (a few ms): a file changed less than this long ago could
#: change again without its stat changing, so its hash is not remembered (as git's
#: "racily clean" index entries are re-read).
_SETTLED_NS = 2_000_000_000


def _output_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    digest = _HASHED.get(key)
    if digest is None:
        digest = sha256_file(path)
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _SETTLED_NS:
            _HASHED[key] = digest
    return digest


def _outputs_intact(directory: Path, manifest: dict[str, object]) -> bool:
    files = manifest.get("files")
    if not isinstance(files, dict):
        return False
    for name in ("vmlinuz", "initramfs.img"):
        meta = files.get(name)
        path = directory / name
        if not isinstance(meta, dict) or not path.exists():
            return False
        if _output_sha256(path) != meta.get("sha256"):
            return False
    return True


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _package_versions() -> dict[str, str]:
    versions = {}
    for package in DEBIAN_PACKAGES:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        versions[package] = done.stdout.strip() if done.returncode == 0 else "not installed"
    return versions


def build_guest_image(directory: Path, *, force: bool = False) -> GuestImage:
    """Build (or find up to date) the guest image in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    inputs = _gather_inputs()
    fingerprint = inputs.fingerprint()
    manifest_path = directory / "manifest.json"
    manifest = _read_manifest(manifest_path)
    kernel, initramfs = directory / "vmlinuz", directory / "initramfs.img"
    if (
        not force
        and manifest.get("inputs_sha256") == fingerprint
        and _outputs_intact(directory, manifest)
    ):
        return GuestImage(directory, kernel, initramfs, manifest, rebuilt=False)
    _write_atomic(kernel, inputs.kernel.read_bytes())
    _write_atomic(initramfs, _initramfs(inputs))
    manifest = {
        "builder": BUILDER_VERSION,
        "inputs_sha256": fingerprint,
        "kernel_version": inputs.kernel_version,
        "kernel_source": str(inputs.kernel),
        "modules": [re.sub(r"\.(xz|gz|zst)$", "", Path(m).name) for m in inputs.modules],
        "debian_packages": _package_versions(),
        "files": {
            name: {
                "sha256": sha256_file(directory / name),
                "size": (directory / name).stat().st_size,
            }
            for name in ("vmlinuz", "initramfs.img")
        },
    }
    _write_atomic(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return GuestImage(directory, kernel, initramfs, manifest, rebuilt=True)


def load_guest_image(directory: Path) -> GuestImage:
    """The guest image already built in ``directory`` (verified against its manifest)."""
    manifest = _read_manifest(directory / "manifest.json")
    if not manifest or not _outputs_intact(directory, manifest):
        raise GuestImageError(f"no intact guest image in {directory}: run `kumo image build` first")
    return GuestImage(directory, directory / "vmlinuz", directory / "initramfs.img", manifest)
