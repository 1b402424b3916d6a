"""Which accelerator QEMU guests get: KVM when it is proven to work, else TCG.

``/dev/kvm`` existing is not proof: on the nested machines Kumo runs on it can be
present with no working hardware virtualisation behind it. Seen on these machines:
``KVM_GET_API_VERSION`` answers 12 and a real-mode boot sector runs, yet
``-cpu host`` aborts QEMU ("failed to set MSR 0x10a") and a Linux kernel under any
CPU model hangs after "Probing EDD". So :func:`detect_accelerator` checks, in turn,
that ``/dev/kvm`` opens, that the ioctl answers 12, and that a **Linux kernel**
(the Debian cloud kernel the guests boot) runs to its end under KVM with the
guests' own machine type and CPU model within a timeout: given no root file
system it panics ("VFS: Unable to mount root fs"), and with ``panic=-1`` and
``-no-reboot`` QEMU then exits. Anything less falls back to TCG, saying why.
Without a cloud kernel on the host, a boot sector that writes to QEMU's
``isa-debug-exit`` port is the (weaker) probe.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kumo.agents.compute.virt.qemu import host
from kumo.agents.compute.virt.qemu.instance import cpu_model, kernel_command_line, machine_option
from kumo.guest.image import GuestImageError, find_cloud_kernel

KVM_GET_API_VERSION = 0xAE00  # _IO(KVMIO=0xAE, 0x00)
KVM_API_VERSION = 12
# mov dx, 0xf4; mov al, 0x10; out dx, al; hlt; jmp $-1 — QEMU then exits with
# status (0x10 << 1) | 1 = 33, which only happens if the guest CPU really ran.
_PROBE_CODE = bytes([0xBA, 0xF4, 0x00, 0xB0, 0x10, 0xEE, 0xF4, 0xEB, 0xFD])
_PROBE_EXIT_STATUS = 33
#: What a kernel with no root file system prints last, once it has booted.
_KERNEL_PANIC = "Kernel panic"


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


def default_probe_kernel() -> Path | None:
    """The host's Debian cloud kernel (the one guests boot), if installed."""
    try:
        return find_cloud_kernel()[0]
    except GuestImageError:
        return None


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str] | str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"did not finish within {timeout:g} s"
    except OSError as exc:
        return f"could not be run: {exc}"


def _last_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"


def probe_kernel_boot(
    qemu: str, accel: str, timeout: float, *, kernel: Path, machine: str = "microvm"
) -> tuple[bool, str]:
    """Boot ``kernel`` with no root file system under ``accel``; (it ran to its panic, what)."""
    command = [
        qemu,
        "-accel",
        accel,
        "-machine",
        machine_option(machine),
        "-cpu",
        cpu_model(accel),
        "-m",
        "128",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-no-reboot",
        "-serial",
        "stdio",
        "-kernel",
        str(kernel),
        "-append",
        kernel_command_line(machine, accel, host.tsc_khz(), ""),
    ]
    started = time.monotonic()
    done = _run(command, timeout)
    what = f"a Linux kernel ({kernel.name}, {machine}, -cpu {cpu_model(accel)}) under {accel}"
    if isinstance(done, str):
        return False, f"{what} {done}"
    if done.returncode == 0 and _KERNEL_PANIC in done.stdout:
        return True, f"{what} booted in {time.monotonic() - started:.1f} s"
    return False, f"{what} failed: {_last_error(done)}"


def probe_boot(qemu: str, accel: str, timeout: float) -> tuple[bool, str]:
    """Boot the probe sector under ``accel`` with the guests' CPU model; (it ran, what)."""
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
            "-cpu",
            cpu_model(accel),
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
        done = _run(command, timeout)
    if isinstance(done, str):
        return False, f"a probe guest under {accel} {done}"
    if done.returncode == _PROBE_EXIT_STATUS:
        return True, f"a probe guest ran under {accel}"
    return False, f"a probe guest under {accel} failed: {_last_error(done)}"


def detect_accelerator(
    qemu: str = "qemu-system-x86_64",
    *,
    wanted: str = "auto",
    device: Path = Path("/dev/kvm"),
    probe_timeout: float = 10.0,
    kernel: Path | None = None,
    machine: str = "microvm",
) -> Accelerator:
    """The accelerator to use: ``wanted`` ``kvm``/``tcg`` forces one; ``auto`` proves KVM.

    ``kernel`` is the kernel the probe boots (default: the host's cloud kernel).
    """
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
            kernel = kernel or default_probe_kernel()
            if kernel is not None:
                ran, what = probe_kernel_boot(
                    qemu, "kvm", probe_timeout, kernel=kernel, machine=machine
                )
            else:
                ran, what = probe_boot(qemu, "kvm", probe_timeout)
            if ran:
                return Accelerator("kvm", f"KVM API {version}; {what}")
            reason = what
    if wanted == "kvm":
        raise RuntimeError(f"KVM was asked for but does not work here: {reason}")
    return Accelerator("tcg", f"TCG (emulation): {reason}")
