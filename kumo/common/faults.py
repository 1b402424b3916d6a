"""Test-only fault injection: named points where a Kumo process can be made to crash.

:func:`fault_point` does nothing unless the test-only setting ``fault_injection``
(``KUMO_FAULT_INJECTION``) names the point. The setting is a comma-separated
list of ``point:action``:

* ``kill`` — the process SIGKILLs itself, once per state directory: a marker
  file (``<state_dir>/faults/<point>.fired``) keeps the process its supervisor
  restarts from dying at the same point again, so recovery can be observed;
* ``kill-always`` — SIGKILL every time the point is reached;
* ``raise`` — raise :class:`InjectedFault` (for in-process tests).

The points are the boot-journey events of :mod:`kumo.compute.journey` plus the
ones in :data:`EXTRA_POINTS` (delete, snapshot, resize, and steps inside the
QEMU driver). ``make chaos``
(``tools/chaos/run.py``) kills at each of them and checks the cloud recovers.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from kumo.compute.journey import STEPS

log = logging.getLogger(__name__)

ENV = "KUMO_FAULT_INJECTION"

#: Points outside the boot journey.
EXTRA_POINTS = (
    "delete_compute_ports_released",  # the agent destroyed the guest and freed its ports
    "snapshot_compute_upload",  # the compute agent took the snapshot, before the upload
    "resize_compute_claimed",  # the compute agent claimed the new flavor in Placement
    # Inside the QEMU driver (`make chaos` real-guest scenarios):
    "qemu_base_image_downloaded",  # the base image is downloaded, not yet verified/renamed
    "qemu_disks_created",  # overlay and config drive made, QEMU not started
    "qemu_guest_started",  # QEMU runs the guest; the database still says spawning
    "qemu_destroy_guest_killed",  # delete: QEMU killed, instance directory still there
    "qemu_power_off_requested",  # stop: ACPI power-down sent, not yet confirmed
    "qemu_reboot_requested",  # reboot: power-down (soft) or reset (hard) about to be sent
)
#: Every point a test may name.
POINTS: tuple[str, ...] = tuple(step.event for step in STEPS) + EXTRA_POINTS
ACTIONS = frozenset({"kill", "kill-always", "raise"})


class InjectedFault(RuntimeError):
    """Raised at a fault point whose action is ``raise``."""


class _Plan:
    def __init__(self, points: dict[str, str], marker_dir: Path | None) -> None:
        self.points = points
        self.marker_dir = marker_dir


_plan: _Plan | None = None


def parse(spec: str) -> dict[str, str]:
    """``"a:kill,b:raise"`` → ``{"a": "kill", "b": "raise"}``; ValueError when malformed."""
    points: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, action = item.partition(":")
        action = action or "kill"
        if action not in ACTIONS:
            raise ValueError(f"unknown fault action {action!r} in {item!r}; known: {ACTIONS}")
        if name not in POINTS:
            raise ValueError(f"unknown fault point {name!r}; known: {', '.join(POINTS)}")
        points[name] = action
    return points


def configure(spec: str, state_dir: Path | None) -> None:
    """Arm the points of ``spec`` (markers under ``state_dir``); ``""`` disarms all."""
    global _plan
    marker_dir = state_dir / "faults" if state_dir is not None else None
    _plan = _Plan(parse(spec), marker_dir)
    if _plan.points:
        log.warning("FAULT INJECTION armed (tests only): %s", spec)


def _load() -> _Plan:
    global _plan
    if _plan is None:
        from kumo.common.config import get_settings

        try:
            settings = get_settings()
            configure(settings.fault_injection, settings.state_dir)
        except Exception as exc:  # settings unreadable: never crash because of this module
            log.warning("fault injection disabled: %s", exc)
            _plan = _Plan({}, None)
    assert _plan is not None
    return _plan


def _first_time(plan: _Plan, name: str) -> bool:
    """True the first time ``name`` fires for this state directory (marker made now)."""
    if plan.marker_dir is None:
        return True
    plan.marker_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(plan.marker_dir / f"{name}.fired", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def fault_point(name: str | None) -> None:
    """Crash here if the test-only ``fault_injection`` setting names ``name`` (None: no-op)."""
    plan = _plan if _plan is not None else _load()
    if not plan.points or name is None:
        return
    action = plan.points.get(name)
    if action is None:
        return
    if action == "raise":
        raise InjectedFault(f"fault injected at {name}")
    if action == "kill" and not _first_time(plan, name):
        return
    log.warning("FAULT INJECTION: SIGKILL at %s (pid %d)", name, os.getpid())
    for handler in logging.getLogger().handlers:
        handler.flush()
    os.kill(os.getpid(), signal.SIGKILL)
