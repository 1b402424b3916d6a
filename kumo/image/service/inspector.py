"""Is the uploaded data really what the image claims, and is it safe to hand to qemu?

Glance learned the hard way (CVE-2022-47951, CVE-2024-32498, CVE-2024-40767)
that a disk image can point outside itself: a qcow2 with a backing file or an
external data file, a VMDK whose descriptor names a flat extent such as
``/etc/passwd``. Anything that later opens it with qemu (``qemu-img convert``,
a hypervisor) reads the named file. So after every upload:

1. our own header parser finds the real format from its magic bytes and checks
   the format's dangerous features *without* qemu (qemu could follow the
   references while merely opening the file);
2. only when that passes, ``qemu-img info --output=json -f <format>`` is run on
   the stored file (no network, under a timeout and memory/CPU limits) as a
   second opinion, and to learn the virtual size.

Either finding a problem kills the image.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: qemu-img's name for each Glance disk format it understands.
QEMU_FORMATS = {
    "raw": "raw",
    "qcow2": "qcow2",
    "vmdk": "vmdk",
    "vhd": "vpc",
    "vhdx": "vhdx",
    "vdi": "vdi",
    "iso": "raw",
    "ploop": "parallels",
    "ami": "raw",
    "ari": "raw",
    "aki": "raw",
}
#: Formats whose content is plain bytes: any data is acceptable, but not a
#: disk format with a header in disguise.
RAW_LIKE = {"raw", "ami", "ari", "aki"}
#: VMDK subformats that keep every extent inside the file itself.
SAFE_VMDK_TYPES = {"monolithicSparse", "streamOptimized"}
QEMU_IMG_TIMEOUT = 30
#: qemu-img's own limits, as Glance's ``prlimit`` wrapper sets them.
QEMU_IMG_ADDRESS_SPACE = 1 << 30
QEMU_IMG_CPU_SECONDS = 30

QCOW2_INCOMPAT_DATA_FILE = 1 << 2


class UnsafeImage(Exception):
    """The data is not what it claims or references something outside itself."""


@dataclass
class Inspection:
    """What the data turned out to be."""

    format: str
    virtual_size: int | None


def detect_format(path: Path) -> str:
    """The format named by the file's magic bytes (``raw`` when none matches)."""
    with path.open("rb") as f:
        head = f.read(0x9006)
        size = f.seek(0, 2)
        footer = b""
        if size >= 512:
            f.seek(size - 512)
            footer = f.read(512)
    if head[:4] == b"QFI\xfb":
        return "qcow2"
    if head[:4] == b"KDMV" or head.startswith(b"# Disk DescriptorFile"):
        return "vmdk"
    if head[:8] == b"vhdxfile":
        return "vhdx"
    if head[:8] == b"conectix" or footer[:8] == b"conectix":
        return "vhd"
    if len(head) >= 0x44 and struct.unpack("<I", head[0x40:0x44])[0] == 0xBEDA107F:
        return "vdi"
    if head[:16] in (b"WithoutFreeSpace", b"WithouFreSpacExt"):
        return "ploop"
    if head[:4] == b"QED\x00":
        return "qed"
    if head[:6] == b"LUKS\xba\xbe":
        return "luks"
    if any(head[off : off + 5] == b"CD001" for off in (0x8001, 0x8801, 0x9001)):
        return "iso"
    return "raw"


def _check_qcow2(path: Path) -> None:
    with path.open("rb") as f:
        header = f.read(104)
    if len(header) < 72:
        raise UnsafeImage("the qcow2 header is truncated")
    version = struct.unpack(">I", header[4:8])[0]
    backing_offset = struct.unpack(">Q", header[8:16])[0]
    if backing_offset != 0:
        raise UnsafeImage("the qcow2 image has a backing file")
    if version >= 3 and len(header) >= 80:
        incompatible = struct.unpack(">Q", header[72:80])[0]
        if incompatible & QCOW2_INCOMPAT_DATA_FILE:
            raise UnsafeImage("the qcow2 image has an external data file")


_EXTENT = re.compile(r'^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+(\S+)(?:\s+"([^"]*)")?', re.MULTILINE)
_CREATE_TYPE = re.compile(r'^\s*createType\s*=\s*"([^"]*)"', re.MULTILINE)


def _vmdk_descriptor(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(512)
        if head[:4] == b"KDMV":
            # SparseExtentHeader: descriptorOffset and descriptorSize in sectors.
            offset, length = struct.unpack("<QQ", head[28:44])
            if offset == 0 or length == 0:
                raise UnsafeImage("the sparse VMDK has no embedded descriptor")
            if length > 2048:
                raise UnsafeImage("the VMDK descriptor is implausibly large")
            f.seek(offset * 512)
            raw = f.read(length * 512)
        else:
            f.seek(0)
            raw = f.read(64 * 1024)
    return raw.split(b"\x00", 1)[0].decode("utf-8", "replace")


def _check_vmdk(path: Path) -> None:
    descriptor = _vmdk_descriptor(path)
    found = _CREATE_TYPE.search(descriptor)
    create_type = found.group(1) if found else "unknown"
    if create_type not in SAFE_VMDK_TYPES:
        raise UnsafeImage(
            f"the VMDK subformat {create_type!r} is not allowed (its extents live in other files)"
        )
    extents = _EXTENT.findall(descriptor)
    if len(extents) != 1 or extents[0][1] != "SPARSE":
        raise UnsafeImage("the VMDK descriptor names extents outside the image")


def check_header(path: Path, disk_format: str) -> str:
    """Our own inspection: the detected format, or :class:`UnsafeImage`."""
    detected = detect_format(path)
    if disk_format in RAW_LIKE:
        # An ISO is plain bytes too; anything with a disk header is not.
        if detected not in ("raw", "iso"):
            raise UnsafeImage(
                f"the data is a {detected} image, not {disk_format} as the image claims"
            )
        return detected
    if detected != disk_format:
        raise UnsafeImage(f"the data is {detected}, not {disk_format} as the image claims")
    if detected == "qcow2":
        _check_qcow2(path)
    elif detected == "vmdk":
        _check_vmdk(path)
    elif detected in ("qed", "luks"):
        raise UnsafeImage(f"{detected} images are not accepted")
    return detected


def qemu_img_info(path: Path, qemu_format: str) -> dict[str, object]:
    """``qemu-img info --output=json -f <format>`` under a timeout and resource limits."""
    qemu_img = shutil.which("qemu-img")
    if qemu_img is None:
        raise UnsafeImage("qemu-img is not installed, so the image cannot be inspected")
    cmd = [qemu_img, "info", "--output=json", "-f", qemu_format, str(path)]
    prlimit = shutil.which("prlimit")
    if prlimit:
        cmd = [
            prlimit,
            f"--as={QEMU_IMG_ADDRESS_SPACE}",
            f"--cpu={QEMU_IMG_CPU_SECONDS}",
            "--",
            *cmd,
        ]
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            timeout=QEMU_IMG_TIMEOUT,
            check=False,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise UnsafeImage("qemu-img info timed out on the image") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnsafeImage(f"qemu-img cannot read the image: {reason[-1] if reason else '?'}")
    info = json.loads(done.stdout)
    assert isinstance(info, dict)
    return info


def _check_qemu_info(info: dict[str, object], qemu_format: str) -> None:
    if info.get("format") != qemu_format:
        raise UnsafeImage(f"qemu-img sees {info.get('format')}, not {qemu_format}")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise UnsafeImage("the image has a backing file")
    specific = info.get("format-specific")
    data = specific.get("data", {}) if isinstance(specific, dict) else {}
    if isinstance(data, dict):
        if data.get("data-file"):
            raise UnsafeImage("the image has an external data file")
        create_type = data.get("create-type")
        if qemu_format == "vmdk" and create_type not in SAFE_VMDK_TYPES:
            raise UnsafeImage(f"the VMDK subformat {create_type!r} is not allowed")
        extents = data.get("extents")
        if qemu_format == "vmdk" and isinstance(extents, list) and len(extents) > 1:
            raise UnsafeImage("the VMDK has more than one extent")


def inspect(path: Path, disk_format: str) -> Inspection:
    """Check the stored data against ``disk_format``; raise :class:`UnsafeImage` if unsafe."""
    detected = check_header(path, disk_format)
    qemu_format = QEMU_FORMATS.get(disk_format)
    if qemu_format is None:
        # Formats qemu does not read (e.g. 'ova' payloads): our check is all there is.
        return Inspection(detected, None)
    info = qemu_img_info(path, qemu_format)
    _check_qemu_info(info, qemu_format)
    virtual = info.get("virtual-size")
    return Inspection(detected, virtual if isinstance(virtual, int) else None)
