"""The test-only fault points: off unless named, ``raise`` raises, ``kill`` kills once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kumo.common import faults
from kumo.common.config import Settings


@pytest.fixture(autouse=True)
def _disarm() -> Iterator[None]:
    yield
    faults.configure("", None)


def test_every_journey_step_is_a_point() -> None:
    assert "step_12_scheduler_cast_build" in faults.POINTS
    assert "step_28_compute_spawn_guest" in faults.POINTS
    assert set(faults.EXTRA_POINTS) <= set(faults.POINTS)


def test_the_setting_is_documented_as_test_only() -> None:
    field = Settings.model_fields["fault_injection"]
    assert field.default == ""
    assert "TESTS ONLY" in (field.description or "")


def test_unarmed_points_do_nothing() -> None:
    faults.configure("", None)
    faults.fault_point("step_12_scheduler_cast_build")
    faults.fault_point(None)


def test_raise_fires_only_at_the_named_point() -> None:
    faults.configure("step_28_compute_spawn_guest:raise", None)
    faults.fault_point("step_12_scheduler_cast_build")
    with pytest.raises(faults.InjectedFault, match="step_28"):
        faults.fault_point("step_28_compute_spawn_guest")


@pytest.mark.parametrize(
    "spec", ["nowhere:kill", "step_12_scheduler_cast_build:explode", "resize_compute_claimed:"]
)
def test_bad_specs(spec: str) -> None:
    if spec.endswith(":"):
        assert faults.parse(spec) == {"resize_compute_claimed": "kill"}
    else:
        with pytest.raises(ValueError, match="unknown fault"):
            faults.parse(spec)


def test_kill_kills_the_process_once_per_state_dir(tmp_path: Path) -> None:
    code = (
        "from kumo.common import faults\n"
        "faults.fault_point('step_13_compute_receive_build')\n"
        "print('survived')\n"
    )
    env = dict(
        os.environ,
        KUMO_FAULT_INJECTION="step_13_compute_receive_build:kill",
        KUMO_STATE_DIR=str(tmp_path),
        KUMO_CONFIG=str(tmp_path / "none.toml"),
    )
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert (tmp_path / "faults" / "step_13_compute_receive_build.fired").exists()
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "survived"
