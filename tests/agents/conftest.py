"""Fixtures for real-guest tests: the guest image (built once), drivers, and cleanup.

Every QEMU process a test starts runs with its pidfile under that test's own
state directory; the ``qemu_state`` fixture kills exactly those processes at
the end, pass or fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kumo.agents.compute.virt.qemu import QemuDriver, process
from kumo.agents.compute.virt.qemu.accel import Accelerator, detect_accelerator
from kumo.guest.image import GuestImage, GuestImageError, build_guest_image

QEMU = "qemu-system-x86_64"
#: Deadline for a guest to print its "finished" line (TCG on a busy 2-core host);
#: KUMO_GUEST_BOOT_DEADLINE raises it on a machine loaded by other work.
BOOT_DEADLINE = float(os.environ.get("KUMO_GUEST_BOOT_DEADLINE", "60"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "guest: boots real QEMU guests (run alone: tests/agents)")


def _missing_tools() -> str | None:
    for tool in (QEMU, "qemu-img", "genisoimage"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make debs)"
    return None


@pytest.fixture(scope="session")
def guest_image(tmp_path_factory: pytest.TempPathFactory) -> GuestImage:
    """The Kumo guest image, built once per test session."""
    missing = _missing_tools()
    if missing:
        pytest.skip(missing)
    try:
        return build_guest_image(tmp_path_factory.mktemp("guest-image"))
    except GuestImageError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def accelerator() -> Accelerator:
    """KVM if it is proven to work here, else TCG (detected once per session)."""
    return detect_accelerator(QEMU, probe_timeout=5)


def kill_guests_under(directory: Path) -> list[int]:
    """SIGKILL every Kumo guest QEMU whose pidfile lies under ``directory``."""
    killed = []
    for guest in process.running_guests():
        if guest.pidfile.startswith(str(directory) + "/"):
            process.kill(guest.pid)
            killed.append(guest.pid)
    return killed


@pytest.fixture
def qemu_state(tmp_path: Path) -> Iterator[Path]:
    """A state directory whose guests are all killed when the test ends."""
    # Short path: unix socket paths (qmp.sock) are limited to 107 bytes.
    state = Path(f"/tmp/kq-{tmp_path.name[-20:]}-{time.monotonic_ns() % 10**6}")
    state.mkdir()
    try:
        yield state
    finally:
        kill_guests_under(state.resolve())
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def make_driver(
    qemu_state: Path, guest_image: GuestImage, accelerator: Accelerator
) -> Callable[..., QemuDriver]:
    """A QEMU driver on the test's state directory (call again for a "restarted" one)."""

    def make(**options: object) -> QemuDriver:
        settings: dict[str, object] = {
            "host_name": "test-host",
            "guest_image_dir": guest_image.directory,
            "accelerator": accelerator,
            "shutdown_timeout": 30.0,
        }
        settings.update(options)
        state = settings.pop("state_dir", qemu_state)
        return QemuDriver(state, **settings)  # type: ignore[arg-type]

    return make


async def wait_for_console(
    driver: QemuDriver,
    uuid: str,
    text: str,
    *,
    count: int = 1,
    deadline: float = BOOT_DEADLINE,
) -> str:
    """Poll the guest's console until ``text`` appears ``count`` times; the console."""
    end = time.monotonic() + deadline
    console = ""
    while time.monotonic() < end:
        console = await driver.get_console_output(uuid)
        if console.count(text) >= count:
            return console
        await asyncio.sleep(0.25)
    raise AssertionError(
        f"{text!r} did not appear {count}x within {deadline:g} s; console ends:\n{console[-3000:]}"
    )
