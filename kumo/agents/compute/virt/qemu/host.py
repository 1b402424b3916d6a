"""What this host offers guests: real CPUs, memory and disk, and the QEMU version."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path


def memory_mb() -> int:
    """Total memory of the host in MiB (``MemTotal`` of ``/proc/meminfo``)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def disk_gb(path: Path) -> int:
    """Size in GiB of the file system holding ``path`` (its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).total >> 30


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_model() -> str:
    """The host CPU's model name."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def tsc_khz() -> int | None:
    """The host TSC frequency in kHz, for microvm guests' ``tsc_early_khz``."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("cpu MHz"):
            return int(float(line.split(":", 1)[1]) * 1000)
    return None


def qemu_version(qemu: str) -> tuple[int, int, int]:
    """(major, minor, micro) of ``qemu --version``; zeros when it cannot be run."""
    try:
        done = subprocess.run([qemu, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return (0, 0, 0)
    match = re.search(r"version (\d+)\.(\d+)\.(\d+)", done.stdout)
    if not match:
        return (0, 0, 0)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)))
