"""Fixtures for the slow guest tests: the Debian image (built by `make guest-debian`).

The QEMU fixtures (``guest_image``, ``accelerator``, ``qemu_state``) are the
ones tests/agents uses; they are imported here so `make test-guests` can run
this directory alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kumo.common.config import Settings
from kumo.guest.debian import DebianImage, DebianImageError, load_debian_image
from tests.agents.conftest import accelerator, guest_image, qemu_state

__all__ = ["accelerator", "debian_image", "guest_image", "qemu_state"]

#: Deadline for the Debian guest to print cloud-init's "finished" line: ~65 s under
#: TCG on a quiet host, 100-150 s under load (KUMO_DEBIAN_BOOT_DEADLINE raises it).
DEBIAN_BOOT_DEADLINE = float(os.environ.get("KUMO_DEBIAN_BOOT_DEADLINE", "420"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "guest: boots real QEMU guests (run alone: tests/agents)")
    config.addinivalue_line(
        "markers", "network_agent: the test's cloud runs the Linux network data plane"
    )


def debian_dir() -> Path:
    """Where `make guest-debian` put the image (KUMO_DEBIAN_IMAGE_DIR overrides)."""
    override = os.environ.get("KUMO_DEBIAN_IMAGE_DIR")
    return Path(override) if override else Settings().state_dir / "guest-debian"


@pytest.fixture(scope="session")
def debian_image() -> DebianImage:
    """The built Debian guest; the test is skipped, saying how to build it, when absent."""
    try:
        return load_debian_image(debian_dir())
    except DebianImageError as exc:
        pytest.skip(str(exc))
