"""Virt drivers: how the compute agent runs guests (``fake`` now, QEMU later)."""
