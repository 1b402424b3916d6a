"""Tests of the compute agent's QEMU driver, the guest image and the config drive."""
