"""The QEMU virt driver: real guests, one daemonized QEMU process each."""

from kumo.agents.compute.virt.qemu.driver import AdoptionReport, QemuDriver

__all__ = ["AdoptionReport", "QemuDriver"]
