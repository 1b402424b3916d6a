"""Parsing a guest's statistics: QMP blockstats, tap counters turned to the guest's view."""

from __future__ import annotations

import os
from pathlib import Path

from kumo.agents.compute.virt.qemu import diagnostics
from kumo.agents.compute.virt.qemu.instance import BootConfig
from kumo.compute.api.server_diagnostics import legacy_view, standard_view


def _boot(nic_args: list[str]) -> BootConfig:
    return BootConfig(
        uuid="u", name="n", vcpus=1, memory_mb=64, root_gb=1, machine="pc", accel="tcg",
        kernel="k", initrd="", nic_args=nic_args,
    )  # fmt: skip


def test_tap_counters_are_the_guests_view(tmp_path: Path) -> None:
    stats = tmp_path / "ktp-abc" / "statistics"
    stats.mkdir(parents=True)
    counters = {"rx_bytes": 10, "tx_bytes": 20, "rx_packets": 1, "tx_packets": 2,
                "rx_errors": 0, "tx_errors": 0, "rx_dropped": 3, "tx_dropped": 4}  # fmt: skip
    for name, value in counters.items():
        (stats / name).write_text(f"{value}\n")
    boot = _boot(
        ["-netdev", "tap,id=net0,ifname=ktp-abc,script=no", "-device",
         "virtio-net-pci,netdev=net0,mac=FA:16:3E:00:00:01",
         "-netdev", "tap,id=net1,ifname=ktp-gone,script=no", "-device",
         "virtio-net-pci,netdev=net1,mac=fa:16:3e:00:00:02"]
    )  # fmt: skip
    first, gone = diagnostics.nic_details(boot, tmp_path)
    # What the tap sent, the guest received.
    assert (first["rx_octets"], first["tx_octets"]) == (20, 10)
    assert (first["rx_drop"], first["tx_drop"]) == (4, 3)
    assert first["mac_address"] == "fa:16:3e:00:00:01" and first["name"] == "ktp-abc"
    assert gone["rx_octets"] is None and gone["mac_address"] == "fa:16:3e:00:00:02"


def test_blockstats_and_this_process() -> None:
    stats = [
        {"device": "", "qdev": "/machine/peripheral/disk0", "stats": {
            "rd_bytes": 5, "wr_bytes": 6, "rd_operations": 1, "wr_operations": 2,
            "failed_rd_operations": 1, "failed_wr_operations": 2}},
    ]  # fmt: skip
    [disk] = diagnostics.disk_details(stats)
    assert disk == {
        "name": "/machine/peripheral/disk0", "read_bytes": 5, "read_requests": 1,
        "write_bytes": 6, "write_requests": 2, "errors_count": 3,
    }  # fmt: skip
    pid = os.getpid()
    assert (diagnostics.rss_mib(pid) or 0) > 0
    assert diagnostics.uptime_of(pid) is not None
    [cpu] = diagnostics.cpu_details(pid, [{"cpu-index": 0, "thread-id": pid}])
    assert cpu["id"] == 0 and isinstance(cpu["time"], int) and cpu["time"] > 0
    assert diagnostics.thread_cpu_ns(pid, 2**22 + 7) is None


def test_views_standard_and_legacy() -> None:
    diag = {
        "state": "running", "hypervisor": "qemu", "hypervisor_os": "linux", "uptime": 5,
        "config_drive": True, "memory_details": {"maximum": 256, "used": 100},
        "cpu_details": [{"id": 0, "time": 7, "utilisation": None}],
        "disk_details": [{"name": "vda", "read_bytes": 1, "read_requests": 2,
                          "write_bytes": 3, "write_requests": 4, "errors_count": 0}],
        "nic_details": [{"name": "ktp-a", "mac_address": "fa:16:3e:00:00:01", "rx_octets": 9,
                         "rx_errors": 0, "rx_drop": 0, "rx_packets": 1, "rx_rate": None,
                         "tx_octets": 8, "tx_errors": 0, "tx_drop": 0, "tx_packets": 1,
                         "tx_rate": None}],
    }  # fmt: skip
    view = standard_view(diag)
    assert (view["num_cpus"], view["num_disks"], view["num_nics"]) == (1, 1, 1)
    assert "name" not in view["disk_details"][0] and view["driver"] == "libvirt"
    legacy = legacy_view(diag)
    assert legacy["cpu0_time"] == 7 and legacy["memory"] == 256 * 1024
    assert legacy["memory-rss"] == 100 * 1024 and legacy["vda_read_req"] == 2
    assert legacy["ktp-a_rx"] == 9 and legacy["ktp-a_tx"] == 8
