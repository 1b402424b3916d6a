"""The compute agent's wiring without booting guests: driver choice, power-state sync."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kumo.agents.compute.manager import ComputeManager
from kumo.agents.compute.virt.driver import RUNNING, SHUTDOWN, GuestSpec
from kumo.agents.compute.virt.fake import FakeDriver
from kumo.agents.compute.virt.qemu import QemuDriver
from kumo.common.config import Settings
from kumo.compute import runtime
from kumo.guest.image import GuestImage


def _settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(state_dir=tmp_path, service_password="x", **changes)


def test_auto_picks_fake_without_a_guest_image(tmp_path: Path) -> None:
    driver, why = runtime.resolve_virt_driver(_settings(tmp_path))
    assert driver == "fake"
    assert "kumo image build" in why
    assert isinstance(runtime.make_driver(_settings(tmp_path), "h"), FakeDriver)


def test_auto_picks_qemu_with_the_guest_image(tmp_path: Path, guest_image: GuestImage) -> None:
    (tmp_path / "guest").symlink_to(guest_image.directory)
    settings = _settings(tmp_path)
    assert runtime.resolve_virt_driver(settings)[0] == "qemu"
    driver = runtime.make_driver(settings, "h")
    assert isinstance(driver, QemuDriver)
    assert driver.machine == settings.qemu_machine_type


def test_explicit_and_unknown_drivers(tmp_path: Path) -> None:
    assert runtime.resolve_virt_driver(_settings(tmp_path, virt_driver="qemu"))[0] == "qemu"
    assert runtime.resolve_virt_driver(_settings(tmp_path, virt_driver="fake"))[0] == "fake"
    with pytest.raises(ValueError, match="unknown virt_driver"):
        runtime.resolve_virt_driver(_settings(tmp_path, virt_driver="xen"))


class _Conductor:
    """The conductor calls sync_power_states makes, over one in-memory instance."""

    def __init__(self, view: dict[str, Any]) -> None:
        self.view = view
        self.changes: list[dict[str, Any]] = []

    async def instance_view(self, uuid: str) -> dict[str, Any]:
        return dict(self.view)

    async def set_state(self, uuid: str, **changes: Any) -> dict[str, Any]:
        self.changes.append(changes)
        return {}


def _agent(tmp_path: Path, conductor: _Conductor, driver: FakeDriver) -> ComputeManager:
    return ComputeManager(
        "h",
        driver,
        conductor,  # type: ignore[arg-type]
        _settings(tmp_path),
        placement=None,  # type: ignore[arg-type]
        image=None,  # type: ignore[arg-type]
        network=None,  # type: ignore[arg-type]
    )


def test_power_sync_marks_a_guest_that_stopped_by_itself_shutoff(tmp_path: Path) -> None:
    driver = FakeDriver("h")
    asyncio.run(driver.spawn(GuestSpec(uuid="u1", name="a", vcpus=1, memory_mb=64, root_gb=1)))
    asyncio.run(driver.power_off("u1"))
    view = {"uuid": "u1", "host": "h", "vm_state": "active", "task_state": None, "power_state": 1}
    conductor = _Conductor(view)
    asyncio.run(_agent(tmp_path, conductor, driver).sync_power_states())
    assert conductor.changes == [
        {
            "vm_state": "stopped",
            "power_state": SHUTDOWN,
            "expected_task_state": None,
            "expected_vm_state": "active",
        }
    ]


def test_power_sync_leaves_busy_and_matching_servers_alone(tmp_path: Path) -> None:
    driver = FakeDriver("h")
    asyncio.run(driver.spawn(GuestSpec(uuid="u1", name="a", vcpus=1, memory_mb=64, root_gb=1)))
    for view in (
        {"host": "h", "vm_state": "active", "task_state": None, "power_state": RUNNING},
        {"host": "h", "vm_state": "active", "task_state": "rebooting", "power_state": 4},
        {"host": "other", "vm_state": "active", "task_state": None, "power_state": 4},
    ):
        conductor = _Conductor(view)
        asyncio.run(_agent(tmp_path, conductor, driver).sync_power_states())
        assert conductor.changes == [], view


def test_guest_spec_carries_what_the_guest_needs(tmp_path: Path) -> None:
    agent = _agent(tmp_path, _Conductor({}), FakeDriver("h"))
    view = {
        "uuid": "u1",
        "display_name": "My Server_1",
        "hostname": None,
        "project_id": "p1",
        "key_name": "k",
        "key_data": "ssh-ed25519 AAAA x",
        "user_data": "ZWNobyBoaQ==",
        "metadata": {"a": "b"},
        "config_drive": "",
        "flavor": {"vcpus": 2, "memory_mb": 256, "root_gb": 1, "ephemeral_gb": 1, "swap": 64,
                   "name": "m1.x"},
    }  # fmt: skip
    spec = agent._guest(view, {"id": "img"}, [{"id": "p", "mac_address": "fa:16:3e:00:00:01"}])
    assert spec.hostname == "my-server-1"
    assert (spec.project_id, spec.key_name, spec.flavor_name) == ("p1", "k", "m1.x")
    assert (spec.vcpus, spec.memory_mb, spec.ephemeral_gb, spec.swap_mb) == (2, 256, 1, 64)
    assert spec.config_drive is True  # force_config_drive defaults to true
    assert spec.user_data == "ZWNobyBoaQ=="
    assert spec.ports[0]["mac_address"] == "fa:16:3e:00:00:01"
    agent.settings = _settings(tmp_path, force_config_drive=False)
    assert agent._guest(view, {}, []).config_drive is False
    assert agent._guest(dict(view, config_drive="True"), {}, []).config_drive is True
