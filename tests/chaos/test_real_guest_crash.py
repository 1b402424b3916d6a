"""A real guest's build killed just after QEMU started: restart, and nothing is left (make chaos).

`kumo up` with ``virt_driver = "qemu"`` boots one real guest; the process running
the compute agent SIGKILLs itself at the test-only fault point
``qemu_guest_started`` (QEMU runs, the database still says spawning); the
supervisor restarts it on the same state directory. Then the server must be in
ERROR with the "interrupted" fault, its QEMU process killed and its instance
directory (overlay, config drive) removed by the startup reconcile, the base
image cache free of partial files, and the database consistent (allocation and
ports freed). The fast slice of ``tools/chaos/real_guests.py``.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from kumo.agents.compute.virt.qemu import QemuDriver
from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.compute.virt.qemu.driver import AdoptionReport
from kumo.compute.reconcile import INTERRUPTED
from tools.chaos import guests
from tools.chaos.harness import Api, start, wait_for
from tools.chaos.scenarios import settle_consistency
from tools.tempest.cloud import KUMO

POINT = "qemu_guest_started"
#: TCG boots take 20-60 s here (more under load); the first build also probes the accelerator.
FIRE_DEADLINE = 240.0

NEEDS_KUMO = pytest.mark.skipif(not KUMO.exists(), reason="needs the venv's `kumo` command")
NEEDS_QEMU = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("qemu-system-x86_64", "qemu-img", "genisoimage")),
    reason="QEMU tools are not installed (make debs)",
)


def test_init_host_removes_what_a_killed_agent_left_half_made(tmp_path: Path) -> None:
    """A cut download and an instance dir with no instance.json go; work in flight stays."""
    base, instances = tmp_path / "_base", tmp_path / "instances"
    base.mkdir()
    instances.mkdir()
    cut = base / ".image-a.part"
    cut.write_bytes(b"half")
    cut.chmod(0o444)
    half = instances / "6a1f3a52-0c4e-4f5e-9b1e-0000000000d1"
    half.mkdir()
    (half / "disk").write_bytes(b"")
    whole = instances / "6a1f3a52-0c4e-4f5e-9b1e-0000000000d2"
    whole.mkdir()
    (whole / "instance.json").write_text("{}")
    driver = QemuDriver(
        tmp_path, host_name="h", accelerator=Accelerator("tcg", "test"), guest_image_dir=tmp_path
    )
    # This driver's own work in flight: a download and a spawn, each under its lock.
    in_flight = base / ".image-b.part"
    in_flight.write_bytes(b"")
    spawning = instances / "6a1f3a52-0c4e-4f5e-9b1e-0000000000d3"
    spawning.mkdir()

    async def restart() -> AdoptionReport:
        image_lock = driver.images._locks.setdefault("image-b", asyncio.Lock())
        async with image_lock, driver._lock(spawning.name):
            return await driver.init_host()

    report = asyncio.run(restart())

    assert sorted(report.removed) == sorted([str(cut), str(half)])
    assert not cut.exists() and not half.exists()
    assert whole.is_dir() and in_flight.exists() and spawning.is_dir()
    assert report.stopped == [whole.name]


@NEEDS_KUMO
@NEEDS_QEMU
def test_kill_just_after_qemu_started_leaves_error_and_no_guest() -> None:
    cloud = start({"KUMO_FAULT_INJECTION": f"{POINT}:kill"}, virt="qemu")
    api = Api(cloud)
    try:
        api.wait_healthy()
        api.login()
        old_pid = cloud.role_pid()
        r = api.create_server("crash-real")
        assert r.status_code == 202, r.text
        sid = r.json()["server"]["id"]
        wait_for(f"{POINT} to fire", lambda: cloud.fired(POINT), FIRE_DEADLINE)
        # The guest runs on after the agent died (QEMU is daemonized), until the reconcile.
        assert len(guests.qemu_pids(cloud.state_dir).get(sid, [])) == 1
        wait_for(
            "the role to be restarted",
            lambda: (pid := cloud.role_pid()) is not None and pid != old_pid,
            120,
        )
        api.wait_healthy(120)
        api.login()

        server = api.settled(sid, 120)
        assert server is not None, "the interrupted build vanished"
        assert server["status"] == "ERROR", server["status"]
        assert server["fault"]["message"].startswith(INTERRUPTED), server["fault"]
        # The reconcile destroys the guest: no QEMU process, no instance directory.
        assert guests.settle_host(cloud.database_url(), cloud.state_dir) == []
        assert sid not in guests.qemu_pids(cloud.state_dir)
        assert sid not in guests.instance_dirs(cloud.state_dir)
        assert guests.partial_cache_files(cloud.state_dir) == []
        assert (cloud.state_dir / "_base").is_dir(), "the base image was never cached"
        assert settle_consistency(cloud.database_url()) == []

        r = api.delete_server(sid)
        assert r.status_code == 204, r.text
        wait_for("the crashed server to be deleted", lambda: api.server(sid) is None, 60)
        assert settle_consistency(cloud.database_url()) == []
    finally:
        api.close()
        cloud.stop()
    assert not guests.qemu_pids(cloud.state_dir), "a guest outlived `kumo down --purge`"
