"""The QEMU driver's NIC hook: one tap per port, values validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from kumo.agents.compute.virt.driver import GuestSpec, VirtError
from kumo.agents.compute.virt.qemu import nics
from kumo.agents.compute.virt.qemu.instance import BootConfig, InstanceDir, qemu_command
from kumo.agents.network.taps import mentions_tap

PORT_A = {"id": "0b6f2f8a-1c4d-4e5f-8a9b-0c1d2e3f4a5b", "mac_address": "FA:16:3E:00:00:01"}
PORT_B = {"id": "9e8d7c6b-5a49-4838-a726-150f4e3d2c1b", "mac_address": "fa:16:3e:00:00:02"}


def _guest(*ports: dict[str, str]) -> GuestSpec:
    return GuestSpec(uuid="u-1", name="g", vcpus=1, memory_mb=256, root_gb=1, ports=list(ports))


@pytest.fixture(autouse=True)
def _taps_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nics, "can_make_taps", lambda: True)


def test_one_tap_nic_per_port_in_order() -> None:
    args = nics.tap_nic_args(_guest(PORT_A, PORT_B), "microvm")
    assert args == [
        "-netdev",
        "tap,id=net0,ifname=ktp-0b6f2f8a1c4,script=no,downscript=no",
        "-device",
        "virtio-net-device,netdev=net0,mac=fa:16:3e:00:00:01",
        "-netdev",
        "tap,id=net1,ifname=ktp-9e8d7c6b5a4,script=no,downscript=no",
        "-device",
        "virtio-net-device,netdev=net1,mac=fa:16:3e:00:00:02",
    ]
    assert nics.tap_nic_args(_guest(PORT_A), "q35")[3].startswith("virtio-net-pci,")


def test_no_ports_no_nic() -> None:
    assert nics.tap_nic_args(_guest(), "microvm") == []


@pytest.mark.parametrize(
    "port",
    [
        {"id": PORT_A["id"], "mac_address": "fa:16:3e:00:00:01,romfile=/etc/shadow"},
        {"id": PORT_A["id"], "mac_address": ""},
        {"id": "x,script=/bin/evil", "mac_address": PORT_A["mac_address"]},
        {"mac_address": PORT_A["mac_address"]},
    ],
)
def test_bad_ports_are_refused_not_written_into_the_command(port: dict[str, str]) -> None:
    with pytest.raises(VirtError):
        nics.tap_nic_args(_guest(port), "microvm")


def test_without_tap_rights_the_guest_boots_without_nics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nics, "can_make_taps", lambda: False)
    assert nics.tap_nic_args(_guest(PORT_A), "microvm") == []


def test_nic_args_replace_nic_none_in_the_command(tmp_path: Path) -> None:
    boot = BootConfig(
        uuid="u-1",
        name="g",
        vcpus=1,
        memory_mb=256,
        root_gb=1,
        machine="microvm",
        accel="tcg",
        kernel="k",
        initrd="i",
        nic_args=nics.tap_nic_args(_guest(PORT_A), "microvm"),
    )
    command = qemu_command("qemu-system-x86_64", boot, InstanceDir(tmp_path, "u-1"))
    assert "none" not in [command[i + 1] for i, a in enumerate(command) if a == "-nic"]
    assert "tap,id=net0,ifname=ktp-0b6f2f8a1c4,script=no,downscript=no" in command


def test_monitor_lines_about_taps() -> None:
    assert mentions_tap("14: ktp-0b6f2f8a1c4: <BROADCAST,MULTICAST> mtu 1500 state DOWN")
    assert mentions_tap("Deleted 14: ktp-0b6f2f8a1c4: <BROADCAST,MULTICAST> mtu 1500")
    assert not mentions_tap("3: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500")
    assert not mentions_tap("7: kbr-0b6f2f8a1c4: <BROADCAST,MULTICAST,UP> mtu 1500")


def test_the_driver_kumo_runs_gives_guests_tap_nics(tmp_path: Path) -> None:
    from kumo.agents.compute.virt.qemu import QemuDriver
    from kumo.common.config import Settings

    driver = QemuDriver.from_settings(Settings(state_dir=tmp_path), "host-1")
    assert driver.nic_hook is nics.tap_nic_args
