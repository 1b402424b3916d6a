"""Parts of the QEMU driver that need no running guest: KVM detection, images, commands."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from kumo.agents.compute.virt.driver import VirtError
from kumo.agents.compute.virt.qemu import process
from kumo.agents.compute.virt.qemu.accel import (
    default_probe_kernel,
    detect_accelerator,
    kvm_api_version,
    probe_boot,
    probe_kernel_boot,
)
from kumo.agents.compute.virt.qemu.images import ImageCache, create_overlay
from kumo.agents.compute.virt.qemu.instance import BootConfig, InstanceDir, qemu_command
from kumo.agents.compute.virt.qemu.metadata import decode_user_data, sanitize_hostname

pytestmark = pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-img") is None,
    reason="QEMU is not installed (make debs)",
)


def test_missing_kvm_device_falls_back_to_tcg(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        kvm_api_version(tmp_path / "kvm")
    chosen = detect_accelerator(device=tmp_path / "kvm")
    assert chosen.name == "tcg"
    assert "not usable" in chosen.reason


def test_tcg_can_be_forced() -> None:
    assert detect_accelerator(wanted="tcg").name == "tcg"


def test_probe_boot_runs_under_tcg() -> None:
    ran, what = probe_boot("qemu-system-x86_64", "tcg", timeout=30)
    assert ran, what


@pytest.mark.parametrize("machine", ["microvm", "q35"])
def test_kernel_probe_boots_the_cloud_kernel_to_its_panic_under_tcg(machine: str) -> None:
    # The KVM probe is this same boot under kvm: a kernel that reaches its
    # "no root file system" panic proves the accelerator runs real guests.
    kernel = default_probe_kernel()
    if kernel is None:
        pytest.skip("no Debian cloud kernel in /boot (make debs)")
    ran, what = probe_kernel_boot("qemu-system-x86_64", "tcg", 60, kernel=kernel, machine=machine)
    assert ran, what
    assert "booted in" in what and machine in what


def test_kernel_probe_that_hangs_or_breaks_is_not_proof(tmp_path: Path) -> None:
    kernel = default_probe_kernel()
    if kernel is None:
        pytest.skip("no Debian cloud kernel in /boot (make debs)")
    ran, what = probe_kernel_boot("qemu-system-x86_64", "tcg", 0.05, kernel=kernel)
    assert not ran and "did not finish within" in what
    garbage = tmp_path / "vmlinuz"
    garbage.write_bytes(b"\x7fELF not a kernel" * 64)
    ran, what = probe_kernel_boot("qemu-system-x86_64", "tcg", 30, kernel=garbage)
    assert not ran and "failed" in what


def test_session_accelerator_was_proven(accelerator: object) -> None:
    from kumo.agents.compute.virt.qemu.accel import Accelerator

    assert isinstance(accelerator, Accelerator)
    assert accelerator.name in ("kvm", "tcg")
    if accelerator.name == "kvm":
        assert "booted in" in accelerator.reason or "probe guest ran" in accelerator.reason


class _Source:
    def __init__(self, data: dict[str, Path]) -> None:
        self.data = data
        self.downloads = 0

    async def download(self, image_id: str, destination: Path) -> None:
        self.downloads += 1
        shutil.copyfile(self.data[image_id], destination)


def _qcow2(path: Path, *extra: str) -> Path:
    command = ["qemu-img", "create", "-q", "-f", "qcow2", *extra, str(path), "64M"]
    subprocess.run(command, check=True)
    return path


def _sha512(path: Path) -> str:
    return hashlib.sha512(path.read_bytes()).hexdigest()


async def test_image_cache_fetches_once_and_verifies_the_hash(tmp_path: Path) -> None:
    image = _qcow2(tmp_path / "img.qcow2")
    source = _Source({"img": image})
    cache = ImageCache(tmp_path / "_base", source)
    record = {"id": "img", "disk_format": "qcow2", "os_hash_algo": "sha512"}
    record["os_hash_value"] = _sha512(image)
    first = await cache.fetch(record)
    second = await cache.fetch(record)
    assert first == second
    assert source.downloads == 1
    assert first.stat().st_mode & 0o777 == 0o444
    with pytest.raises(VirtError, match="does not match"):
        await ImageCache(tmp_path / "_other", source).fetch({**record, "os_hash_value": "0" * 128})


async def test_image_cache_refuses_format_lies_and_backing_files(tmp_path: Path) -> None:
    raw = tmp_path / "raw.img"
    raw.write_bytes(b"\0" * 65536)
    backed = _qcow2(tmp_path / "backed.qcow2", "-F", "raw", "-b", str(raw))
    source = _Source({"raw": raw, "backed": backed})
    cache = ImageCache(tmp_path / "_base", source)
    with pytest.raises(VirtError, match="disk_format says qcow2"):
        await cache.fetch({"id": "raw", "disk_format": "qcow2"})
    with pytest.raises(VirtError, match="backing file"):
        await cache.fetch({"id": "backed", "disk_format": "qcow2"})
    assert not (tmp_path / "_base" / "backed").exists()


async def test_overlay_is_backed_by_the_base_with_the_flavor_size(tmp_path: Path) -> None:
    base = _qcow2(tmp_path / "base")
    await create_overlay(tmp_path / "disk", 2, base)
    info = subprocess.run(
        ["qemu-img", "info", "--output=json", str(tmp_path / "disk")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert '"backing-filename-format": "qcow2"' in info
    assert '"virtual-size": 2147483648' in info
    with pytest.raises(VirtError, match="larger"):
        big = tmp_path / "big"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(big), "3G"], check=True)
        await create_overlay(tmp_path / "disk2", 2, big)


def _boot(machine: str) -> BootConfig:
    return BootConfig(
        uuid="u1", name="n", vcpus=2, memory_mb=256, root_gb=1, machine=machine,
        accel="tcg", kernel="/k", initrd="/i", kernel_args="console=ttyS0",
    )  # fmt: skip


def test_microvm_command_uses_virtio_mmio_and_daemonizes(tmp_path: Path) -> None:
    files = InstanceDir(tmp_path, "u1")
    command = qemu_command("qemu-system-x86_64", _boot("microvm"), files)
    joined = " ".join(command)
    assert "virtio-blk-device,drive=disk0" in joined
    assert "-daemonize" in command
    assert command[command.index("-pidfile") + 1] == str(files.pidfile)
    assert command[command.index("-nic") + 1] == "none"
    assert process.guest_uuid(command) == "u1"
    assert "-smbios" not in command


def test_q35_command_uses_pci_and_says_openstack_nova(tmp_path: Path) -> None:
    files = InstanceDir(tmp_path, "u1")
    joined = " ".join(qemu_command("qemu-system-x86_64", _boot("q35"), files))
    assert "virtio-blk-pci,drive=disk0" in joined
    assert "product=OpenStack Nova" in joined


def test_hostnames_and_user_data() -> None:
    assert sanitize_hostname("My Server_1!", "u") == "my-server-1"
    assert sanitize_hostname("!!!", "u") == "server-u"
    assert decode_user_data("IyEvYmluL3NoCg==") == b"#!/bin/sh\n"
    assert decode_user_data(None) is None


def test_host_resources_are_the_real_machines(tmp_path: Path) -> None:
    import os

    from kumo.agents.compute.virt.qemu import QemuDriver
    from kumo.agents.compute.virt.qemu.accel import Accelerator

    driver = QemuDriver(
        tmp_path, host_name="h1", accelerator=Accelerator("tcg", "TCG chosen by setting")
    )
    resources = driver.host_resources()
    assert resources.vcpus == len(os.sched_getaffinity(0))
    total_kib = int(Path("/proc/meminfo").read_text().split()[1])
    assert resources.memory_mb == total_kib // 1024
    assert resources.local_gb > 0
    assert resources.hypervisor_type == "QEMU"
    assert resources.hypervisor_version >= 1_000_000  # QEMU major version * 10^6 + …
    assert resources.hypervisor_hostname == "h1"
    assert resources.cpu_info["accelerator"] == "tcg"


def test_network_data_is_static_when_the_port_says_so_else_dhcp() -> None:
    from kumo.agents.compute.virt.driver import GuestSpec
    from kumo.agents.compute.virt.qemu.metadata import network_data

    spec = GuestSpec(uuid="u", name="n", vcpus=1, memory_mb=128, root_gb=1)
    spec.ports = [
        {"id": "p1", "mac_address": "fa:16:3e:00:00:01", "ip_address": "10.0.0.5",
         "netmask": "255.255.255.0", "gateway": "10.0.0.1", "dns_nameservers": ["10.0.0.2"]},
        {"id": "p2", "mac_address": "fa:16:3e:00:00:02"},
        {"id": "p3"},
    ]  # fmt: skip
    data = network_data(spec)
    links, networks = data["links"], data["networks"]
    assert isinstance(links, list) and isinstance(networks, list)
    assert [link["ethernet_mac_address"] for link in links] == [
        "fa:16:3e:00:00:01",
        "fa:16:3e:00:00:02",
    ]
    assert networks[0]["type"] == "ipv4"
    anywhere = "0.0.0.0"  # noqa: S104 - the default route's destination
    assert networks[0]["routes"] == [
        {"network": anywhere, "netmask": anywhere, "gateway": "10.0.0.1"}
    ]
    assert networks[1]["type"] == "ipv4_dhcp"
    assert networks[1]["link"] == links[1]["id"]
    assert data["services"] == [{"type": "dns", "address": "10.0.0.2"}]
