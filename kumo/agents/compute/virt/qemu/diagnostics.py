"""A running guest's statistics, read from QEMU (QMP) and the host's ``/proc`` and ``/sys``.

- CPUs: QMP ``query-cpus-fast`` gives each vCPU's host thread; its ``utime + stime``
  in ``/proc/<pid>/task/<tid>/stat`` is the vCPU's time (reported in ns, as libvirt).
- Disks: QMP ``query-blockstats`` (bytes, operations, failed operations).
- Memory: the guest's size (maximum) and the QEMU process's resident set (used), MiB.
- NICs: the counters of each guest tap in ``/sys/class/net``, turned round to the
  guest's view (what the tap sends, the guest receives).
- Uptime: seconds since the QEMU process started.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from kumo.agents.compute.virt.qemu.instance import BootConfig

#: Guest-side NIC counter → the host tap's counter file it is read from.
NIC_COUNTERS = {
    "rx_octets": "tx_bytes",
    "rx_errors": "tx_errors",
    "rx_drop": "tx_dropped",
    "rx_packets": "tx_packets",
    "tx_octets": "rx_bytes",
    "tx_errors": "rx_errors",
    "tx_drop": "rx_dropped",
    "tx_packets": "rx_packets",
}
_IFNAME = re.compile(r"ifname=([^,]+)")
_MAC = re.compile(r"mac=([0-9a-fA-F:]{17})")


def _ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _stat_fields(path: Path) -> list[str]:
    # Fields after the parenthesised command name (which may hold spaces).
    return path.read_text().rsplit(")", 1)[-1].split()


def thread_cpu_ns(pid: int, tid: int) -> int | None:
    """A thread's user + system CPU time in ns (None when it is gone)."""
    try:
        fields = _stat_fields(Path(f"/proc/{pid}/task/{tid}/stat"))
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of stat; 3 is the first after the name.
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1_000_000_000 // _ticks()


def uptime_of(pid: int) -> int | None:
    """Seconds since process ``pid`` started."""
    try:
        start_ticks = int(_stat_fields(Path(f"/proc/{pid}/stat"))[19])
        host_up = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, int(host_up - start_ticks / _ticks()))


def rss_mib(pid: int) -> int | None:
    """The resident set of ``pid`` in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        return None
    return None


def cpu_details(pid: int, cpus: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per vCPU of ``query-cpus-fast``."""
    return [
        {
            "id": int(cpu.get("cpu-index", n)),
            "time": thread_cpu_ns(pid, int(cpu["thread-id"])) if "thread-id" in cpu else None,
            "utilisation": None,  # one sample has no rate; libvirt leaves it out too
        }
        for n, cpu in enumerate(cpus)
    ]


def disk_details(blockstats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per block device of ``query-blockstats`` (empty drives left out)."""
    disks = []
    for entry in blockstats:
        stats = entry.get("stats") or {}
        name = entry.get("device") or entry.get("qdev") or entry.get("node-name") or ""
        disks.append(
            {
                "name": str(name),
                "read_bytes": stats.get("rd_bytes"),
                "read_requests": stats.get("rd_operations"),
                "write_bytes": stats.get("wr_bytes"),
                "write_requests": stats.get("wr_operations"),
                "errors_count": int(stats.get("failed_rd_operations", 0))
                + int(stats.get("failed_wr_operations", 0))
                + int(stats.get("failed_flush_operations", 0)),
            }
        )
    return disks


def nic_details(boot: BootConfig, sys_net: Path = Path("/sys/class/net")) -> list[dict[str, Any]]:
    """One entry per tap NIC of the guest's command line, counted from the guest's side."""
    taps = [m.group(1) for arg in boot.nic_args if (m := _IFNAME.search(arg))]
    macs = [m.group(1).lower() for arg in boot.nic_args if (m := _MAC.search(arg))]
    nics = []
    for index, tap in enumerate(taps):
        stats = sys_net / tap / "statistics"
        nic: dict[str, Any] = {
            "name": tap,
            "mac_address": macs[index] if index < len(macs) else None,
            "rx_rate": None,
            "tx_rate": None,
        }
        for ours, theirs in NIC_COUNTERS.items():
            try:
                nic[ours] = int((stats / theirs).read_text())
            except (OSError, ValueError):
                nic[ours] = None  # the tap is gone (guest stopping) or not made (not root)
        nics.append(nic)
    return nics
