"""`kumo image build` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kumo.cli.main import main
from kumo.guest.image import GuestImage


def test_kumo_image_build_writes_the_state_dirs_guest_image(
    guest_image: GuestImage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KUMO_STATE_DIR", str(tmp_path))
    assert main(["image", "build"]) == 0
    assert "Guest image built" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "guest" / "manifest.json").read_text())
    assert manifest == json.loads((guest_image.directory / "manifest.json").read_text())
    assert main(["image", "build"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_qemu_driver_from_settings_uses_the_state_dir(tmp_path: Path) -> None:
    from kumo.agents.compute.virt.qemu import QemuDriver
    from kumo.common.config import Settings

    driver = QemuDriver.from_settings(Settings(state_dir=tmp_path), "host-1")
    assert driver.instances_dir == tmp_path.resolve() / "instances"
    assert driver.guest_image_dir == tmp_path.resolve() / "guest"
    assert driver.machine == "microvm"
    assert driver.hypervisor_type == "QEMU"
