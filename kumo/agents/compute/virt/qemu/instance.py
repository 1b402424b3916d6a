"""One guest's directory and QEMU command line.

``<state_dir>/instances/<uuid>/`` holds (names as in Nova's libvirt driver where
there is one): ``disk`` (qcow2 overlay on a cached base image, or a blank
qcow2), ``disk.local`` (the flavor's ephemeral disk: a qcow2 overlay on a formatted
base), ``disk.swap`` (its swap disk, likewise), ``disk.config`` (the config drive
ISO), ``disk.rescue`` (while rescued),
``instance.json`` (what to boot: enough to start the guest again with no control
plane), ``qmp.sock``, ``console.sock`` and ``console.log`` (the serial console),
``vnc.sock`` (the display of a q35/pc guest: QEMU's VNC server on a unix socket,
never a TCP port on the host), ``qemu.pid``, and ``memory.state`` while suspended.

Disks are attached in Nova's order: root (``vda``), ephemeral, swap, config drive.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kumo.agents.compute.virt.driver import ImageUnusable

#: Guests that may get volumes hot-plugged need PCI (q35/pc); microvm boots fastest.
MACHINE_TYPES = ("microvm", "q35", "pc")
NAME_PREFIX = "kumo-"


@dataclass
class BootConfig:
    """What a guest boots with; saved as ``instance.json`` so it can be started again."""

    uuid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    machine: str
    accel: str
    kernel: str
    #: Empty: no initrd (a kernel image without a ``ramdisk_id``).
    initrd: str
    kernel_args: str = ""
    rescue: bool = False
    #: Extra QEMU arguments for the guest's NICs (the network data plane's hook).
    nic_args: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> BootConfig:
        """Read ``instance.json``."""
        data: dict[str, Any] = json.loads(path.read_text())
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})

    def save(self, path: Path) -> None:
        """Write ``instance.json`` atomically."""
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        os.replace(temporary, path)


class InstanceDir:
    """The files of one guest."""

    def __init__(self, instances: Path, uuid: str) -> None:
        self.uuid = uuid
        self.path = instances / uuid
        self.disk = self.path / "disk"
        self.ephemeral_disk = self.path / "disk.local"
        self.swap_disk = self.path / "disk.swap"
        self.config_drive = self.path / "disk.config"
        self.rescue_disk = self.path / "disk.rescue"
        self.boot_config = self.path / "instance.json"
        self.qmp = self.path / "qmp.sock"
        self.console_socket = self.path / "console.sock"
        self.console_log = self.path / "console.log"
        self.vnc_socket = self.path / "vnc.sock"
        self.pidfile = self.path / "qemu.pid"
        self.memory_state = self.path / "memory.state"

    def exists(self) -> bool:
        """Whether this guest is defined on the host."""
        return self.boot_config.exists()

    def pid(self) -> int | None:
        """The pid written by QEMU's ``-pidfile``, if any."""
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None


def _device(machine: str, kind: str) -> str:
    # microvm has no PCI bus: its virtio devices sit on virtio-mmio transports.
    return f"virtio-{kind}-device" if machine == "microvm" else f"virtio-{kind}-pci"


def machine_option(machine: str) -> str:
    """QEMU's ``-machine`` value for a machine type (microvm with ACPI, without PCIe)."""
    return "microvm,acpi=on,pcie=off" if machine == "microvm" else machine


def image_machine_type(requested: object, default: str) -> str:
    """The machine type for an image's ``hw_machine_type`` (the host default when unset).

    Versioned QEMU names (``pc-q35-7.2``, ``pc-i440fx-7.2``) map to their family.
    """
    if requested is None or str(requested).strip() == "":
        return default
    value = str(requested).strip().lower()
    if value in MACHINE_TYPES:
        return value
    if value.startswith("pc-q35"):
        return "q35"
    if value.startswith("pc-i440fx"):
        return "pc"
    raise ImageUnusable(
        f"hw_machine_type {requested!r} is not supported here (one of {', '.join(MACHINE_TYPES)})"
    )


def has_display(machine: str) -> bool:
    """Whether guests of this machine type get a VGA display (and a VNC console).

    microvm has no PCI bus for a VGA card: its guests have the serial console only.
    """
    return machine != "microvm"


def cpu_model(accel: str) -> str:
    """The guest CPU: the host's under KVM; under TCG ``max`` (every feature emulated)."""
    return "host" if accel == "kvm" else "max"


def kernel_command_line(machine: str, accel: str, tsc_khz: int | None, extra: str) -> str:
    """The guest kernel's command line.

    ``quiet`` and the switches below cut a TCG boot by seconds: no Spectre
    mitigations (retpolines are slow to emulate), no crypto self-tests, no audit
    or LSMs, a trusted TSC and RDRAND (``-cpu max`` emulates it), one UART.

    A guest with a display writes kernel messages to the VGA console too;
    ``console=tty0`` comes first so that the last one, the serial port, stays
    ``/dev/console`` (where init, the console log and the serial console look).
    """
    args = [
        *(["console=tty0"] if has_display(machine) else []),
        "console=ttyS0",
        "quiet",
        "panic=-1",
        "mitigations=off",
        "cryptomgr.notests",
        "audit=0",
        "apparmor=0",
        "8250.nr_uarts=1",
        "random.trust_cpu=on",
        "tsc=reliable",
        "no_timer_check",
    ]
    if machine == "microvm" and tsc_khz:
        # microvm has no PIT/HPET to calibrate the TSC against: without this it may hang.
        args.append(f"tsc_early_khz={tsc_khz}")
    if extra:
        args.append(extra)
    return " ".join(args)


def _display_args(machine: str, files: InstanceDir) -> list[str]:
    # ``-display none`` keeps QEMU from opening a window; the VNC server is separate
    # and listens on a unix socket only, reached through the console proxy.
    if not has_display(machine):
        return []
    return ["-vga", "std", "-vnc", f"unix:{files.vnc_socket}"]


def qemu_command(
    qemu: str, boot: BootConfig, files: InstanceDir, *, incoming: Path | None = None
) -> list[str]:
    """The full QEMU command line of a guest (daemonized; see the module docstring)."""
    machine = boot.machine
    command = [
        qemu,
        "-name",
        f"guest={NAME_PREFIX}{boot.uuid},debug-threads=off",
        "-uuid",
        boot.uuid,
        "-machine",
        machine_option(machine),
        "-accel",
        boot.accel,
        "-cpu",
        cpu_model(boot.accel),
        "-smp",
        str(boot.vcpus),
        "-m",
        str(boot.memory_mb),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        *_display_args(machine, files),
        "-kernel",
        boot.kernel,
        "-append",
        boot.kernel_args,
    ]
    if boot.initrd:
        command += ["-initrd", boot.initrd]
    if machine != "microvm":
        # How cloud-init recognises an OpenStack guest when it has no config drive.
        command += [
            "-smbios",
            "type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,"
            f"serial={boot.uuid},uuid={boot.uuid},family=Virtual Machine",
        ]
    disks = [(files.disk, "qcow2", False)]
    if boot.rescue:
        disks.insert(0, (files.rescue_disk, "qcow2", False))
    for extra in (files.ephemeral_disk, files.swap_disk):
        if extra.exists():
            disks.append((extra, "qcow2", False))
    if files.config_drive.exists():
        disks.append((files.config_drive, "raw", True))
    for index, (path, fmt, readonly) in enumerate(disks):
        drive = f"if=none,id=disk{index},file={path},format={fmt},cache=writeback,discard=unmap"
        if readonly:
            drive += ",readonly=on"
        command += ["-drive", drive, "-device", f"{_device(machine, 'blk')},drive=disk{index}"]
    command += ["-device", _device(machine, "rng")]
    command += boot.nic_args or ["-nic", "none"]
    command += [
        "-chardev",
        f"socket,id=console,path={files.console_socket},server=on,wait=off,"
        f"logfile={files.console_log},logappend=on",
        "-serial",
        "chardev:console",
        "-qmp",
        f"unix:{files.qmp},server=on,wait=off",
        "-pidfile",
        str(files.pidfile),
        "-daemonize",
    ]
    if incoming is not None:
        command += ["-incoming", f"exec:cat {shlex.quote(str(incoming))}"]
    return command
