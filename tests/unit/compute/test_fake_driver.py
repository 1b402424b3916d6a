"""The fake virt driver: in memory, labelled, failure injection for tests."""

from __future__ import annotations

import pytest

from kumo.agents.compute.virt.driver import PAUSED, RUNNING, SHUTDOWN, GuestSpec, VirtError
from kumo.agents.compute.virt.fake import FakeDriver


async def test_fake_driver_lifecycle_and_labels() -> None:
    d = FakeDriver("h1", vcpus=4, memory_mb=2048, local_gb=20)
    assert d.hypervisor_type == "fake"
    assert "runs no guest" in (FakeDriver.__doc__ or "")
    res = d.host_resources()
    assert (res.vcpus, res.memory_mb, res.local_gb, res.hypervisor_type) == (4, 2048, 20, "fake")
    await d.spawn(GuestSpec(uuid="u1", name="vm", vcpus=1, memory_mb=512, root_gb=1))
    assert await d.list_instances() == ["u1"]
    await d.pause("u1")
    assert (await d.get_info("u1")).power_state == PAUSED
    await d.power_off("u1")
    assert (await d.get_info("u1")).power_state == SHUTDOWN
    await d.power_on("u1")
    assert (await d.get_info("u1")).power_state == RUNNING
    assert b"u1" in await d.snapshot("u1")
    assert "power_on" in await d.get_console_output("u1")
    await d.destroy("u1")
    await d.destroy("u1")  # destroying twice is fine
    assert await d.list_instances() == []
    with pytest.raises(VirtError):
        await d.get_info("u1")


async def test_fake_driver_failure_injection() -> None:
    d = FakeDriver("h1")
    d.fail["spawn"] = "boom"
    with pytest.raises(VirtError, match="boom"):
        await d.spawn(GuestSpec(uuid="u1", name="vm", vcpus=1, memory_mb=1, root_gb=0))
