"""Which accelerator QEMU guests get: KVM when it is proven to work, else TCG.

``/dev/kvm`` existing is not proof: on the nested machines Kumo runs on it can be
present with no hardware virtualisation behind it, and a KVM guest then hangs.
So :func:`detect_accelerator` checks three things in turn — ``/dev/kvm`` opens,
the ``KVM_GET_API_VERSION`` ioctl answers 12, and a probe guest (a 512-byte boot
sector that writes to QEMU's ``isa-debug-exit`` port) actually runs under KVM
within a timeout — and falls back to TCG (emulation) otherwise, saying why.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

KVM_GET_API_VERSION = 0xAE00  # _IO(KVMIO=0xAE, 0x00)
KVM_API_VERSION = 12
# mov dx, 0xf4; mov al, 0x10; out dx, al; hlt; jmp $-1 — QEMU then exits with
# status (0x10 << 1) | 1 = 33, which only happens if the guest CPU really ran.
_PROBE_CODE = bytes([0xBA, 0xF4, 0x00, 0xB0, 0x10, 0xEE, 0xF4, 0xEB, 0xFD])
_PROBE_EXIT_STATUS = 33


@dataclass(frozen=True)
class Accelerator:
    """The accelerator chosen, and why (shown by ``kumo status`` and the hypervisor)."""

    name: str  # "kvm" or "tcg"
    reason: str


def kvm_api_version(device: Path = Path("/dev/kvm")) -> int:
    """``KVM_GET_API_VERSION`` of ``device``; raises OSError when it cannot be asked."""
    fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    try:
        return fcntl.ioctl(fd, KVM_GET_API_VERSION)
    finally:
        os.close(fd)


def probe_boot(qemu: str, accel: str, timeout: float) -> tuple[bool, str]:
    """Boot the probe sector under ``accel``; (it ran, what happened)."""
    image = _PROBE_CODE + b"\0" * (510 - len(_PROBE_CODE)) + b"\x55\xaa"
    with tempfile.TemporaryDirectory(prefix="kumo-kvm-probe-") as tmp:
        disk = Path(tmp) / "probe.img"
        disk.write_bytes(image)
        command = [
            qemu,
            "-accel",
            accel,
            "-M",
            "pc",
            "-m",
            "16",
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-drive",
            f"file={disk},format=raw,if=ide",
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"a probe guest under {accel} did not finish within {timeout:g} s"
        except OSError as exc:
            return False, f"cannot run {qemu}: {exc}"
    if done.returncode == _PROBE_EXIT_STATUS:
        return True, f"a probe guest ran under {accel}"
    detail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    return False, f"a probe guest under {accel} failed: {detail[0]}"


def detect_accelerator(
    qemu: str = "qemu-system-x86_64",
    *,
    wanted: str = "auto",
    device: Path = Path("/dev/kvm"),
    probe_timeout: float = 10.0,
) -> Accelerator:
    """The accelerator to use: ``wanted`` ``kvm``/``tcg`` forces one; ``auto`` proves KVM."""
    if wanted == "tcg":
        return Accelerator("tcg", "TCG chosen by setting")
    try:
        version = kvm_api_version(device)
    except OSError as exc:
        reason = f"{device} is not usable ({exc.strerror or exc})"
    else:
        if version != KVM_API_VERSION:
            reason = f"{device} answers KVM API version {version}, not {KVM_API_VERSION}"
        else:
            ran, what = probe_boot(qemu, "kvm", probe_timeout)
            if ran:
                return Accelerator("kvm", f"KVM API {version}; {what}")
            reason = what
    if wanted == "kvm":
        raise RuntimeError(f"KVM was asked for but does not work here: {reason}")
    return Accelerator("tcg", f"TCG (emulation): {reason}")
