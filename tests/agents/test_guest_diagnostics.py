"""Diagnostics of a real guest: QMP query-cpus-fast/query-blockstats and /proc, per state."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable

import pytest

from kumo.agents.compute.virt.driver import DiagnosticsUnavailable, GuestSpec
from kumo.agents.compute.virt.qemu import QemuDriver
from tests.agents.conftest import wait_for_console

pytestmark = pytest.mark.guest

FINISHED = "Cloud-init v. kumo finished at"


async def test_running_paused_and_stopped_guest(make_driver: Callable[..., QemuDriver]) -> None:
    driver = make_driver()
    uuid = str(uuidlib.uuid4())
    await driver.spawn(GuestSpec(uuid=uuid, name="diag", vcpus=2, memory_mb=256, root_gb=1))
    await wait_for_console(driver, uuid, FINISHED)
    diag = await driver.diagnostics(uuid)
    assert diag.state == "running"
    assert diag.hypervisor in ("kvm", "qemu") and diag.hypervisor_os == "linux"
    assert [c["id"] for c in diag.cpu_details] == [0, 1]
    # Booting took CPU time on at least one vCPU thread (measured, not made up).
    assert sum(c["time"] or 0 for c in diag.cpu_details) > 0
    assert diag.memory_details["maximum"] == 256
    assert (diag.memory_details["used"] or 0) > 0
    assert diag.disk_details, "QEMU reported no block devices"
    # The guest read its config drive (and disks) while booting.
    assert sum(d["read_bytes"] or 0 for d in diag.disk_details) > 0
    assert diag.config_drive is True and (diag.uptime or 0) >= 0
    await driver.pause(uuid)
    assert (await driver.diagnostics(uuid)).state == "paused"
    await driver.unpause(uuid)
    await driver.power_off(uuid)
    with pytest.raises(DiagnosticsUnavailable):
        await driver.diagnostics(uuid)
