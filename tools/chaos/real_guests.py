"""Crash scenarios with REAL guests: the QEMU driver killed while it works.

Each scenario starts a fresh cloud with ``virt_driver = "qemu"`` (`kumo up`
builds the guest image; servers boot ``kumo-guest`` as daemonized QEMU
processes, TCG or KVM), makes the process running the compute agent SIGKILL
itself at a point inside the QEMU driver (``KUMO_FAULT_INJECTION``, tests only)
or SIGKILLs it (or every Kumo process) from outside, lets it restart on the same state
directory, and then checks, besides the database checks of every scenario
(:func:`tools.chaos.scenarios.settle_consistency`), what is on the host
(:mod:`tools.chaos.guests`): one QEMU process per ACTIVE server, none and no
instance directory for a deleted or ERROR server, no partial base image, no
tap left. A guest that ran before the kill must be re-adopted: same pid.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx

from kumo.agents.network.linux import names
from tools.chaos import guests
from tools.chaos.harness import Api, ChaosCloud, wait_for
from tools.chaos.scenarios import (
    SETTLE,
    Result,
    _active_server,
    _final_ok,
    _run,
    _still_works,
    _wait_fired,
    delete_and_check,
    settle_consistency,
)

#: A real build (accelerator probe at the first start, image download, QEMU start) may be slow.
FIRE_TIMEOUT = 240.0
#: Build points inside the QEMU driver, in the order a build reaches them.
BUILD_POINTS = ("qemu_base_image_downloaded", "qemu_disks_created", "qemu_guest_started")
#: Points reached by an action on an ACTIVE server, with that action.
ACTION_POINTS = {
    "qemu_destroy_guest_killed": "delete",
    "qemu_power_off_requested": "stop",
    "qemu_reboot_requested": "reboot",
}


def _restarted(cloud: ChaosCloud, api: Api, old_pid: int | None) -> None:
    """Wait until the supervisor has restarted the role and the API answers again."""
    wait_for(
        "the role to be restarted",
        lambda: (pid := cloud.role_pid()) is not None and pid != old_pid,
        120,
    )
    api.wait_healthy(120)
    api.login()


def _check_host(
    cloud: ChaosCloud, result: Result, ports_of: dict[str, list[str]] | None = None
) -> None:
    """The database and host checks, each polled until clean or its deadline."""
    result.problems += settle_consistency(cloud.database_url())
    result.problems += guests.settle_host(cloud.database_url(), cloud.state_dir, ports_of)


def build_kill(point: str) -> Result:
    """Kill the compute agent's process at ``point`` of a real guest's build."""

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        old_pid = cloud.role_pid()
        name = f"chaos-{secrets.token_hex(3)}"
        r = api.create_server(name)
        result.notes.append(f"create answered {r.status_code}")
        r.raise_for_status()
        sid = r.json()["server"]["id"]
        try:
            wait_for(f"the fault point {point} to fire", lambda: cloud.fired(point), FIRE_TIMEOUT)
        except TimeoutError:
            result.problems.append(f"the fault point {point} was never reached")
            return
        # Seen before the restarted process reconciles (it needs seconds to start).
        at_kill = _pids(cloud, sid)
        partial = guests.partial_cache_files(cloud.state_dir)
        has_dir = sid in guests.instance_dirs(cloud.state_dir)
        result.notes.append(
            f"at the kill: QEMU {at_kill or 'none'}, instance dir {'yes' if has_dir else 'no'}, "
            f"partial download {'yes' if partial else 'no'}"
        )
        if point == "qemu_guest_started" and not at_kill:
            result.problems.append("the guest's QEMU died with the agent (it is daemonized)")
        if point == "qemu_base_image_downloaded" and not partial:
            result.problems.append("no partial download at the kill: nothing to check")
        _restarted(cloud, api, old_pid)
        server = api.settled(sid, SETTLE)
        _final_ok(server, result)
        _check_host(cloud, result)
        result.notes.append(_host_summary(cloud))
        delete_and_check(api, server, result)
        _still_works(api, result, name)
        _check_host(cloud, result)

    return _run(f"qemu: kill at {point}", {"KUMO_FAULT_INJECTION": f"{point}:kill"}, body,
                virt="qemu")  # fmt: skip


def _pids(cloud: ChaosCloud, sid: str) -> list[int]:
    return guests.qemu_pids(cloud.state_dir).get(sid, [])


#: The guest init's banner on the serial console (the kernel is quiet): one per boot.
BANNER = " Kumo guest "


def _boots(cloud: ChaosCloud, sid: str) -> int:
    """How often the guest's kernel started (banners in its console log)."""
    path = cloud.state_dir / "instances" / sid / "console.log"
    try:
        return path.read_text(errors="replace").count(BANNER)
    except OSError:
        return 0


def _taps_note(ports: list[str]) -> str:
    """How many of the server's ports have their tap on the host (before the kill)."""
    taps = guests.host_taps()
    found = sum(names.tap(p) in taps for p in ports)
    return f"taps before the kill: {found} of {len(ports)} port(s)"


def _host_summary(cloud: ChaosCloud) -> str:
    pids = guests.qemu_pids(cloud.state_dir)
    dirs = guests.instance_dirs(cloud.state_dir)
    return f"after recovery: {sum(map(len, pids.values()))} QEMU, {len(dirs)} instance dir(s)"


def action_kill(point: str, action: str) -> Result:
    """Kill the compute agent's process at ``point`` of ``action`` on an ACTIVE real guest."""

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        name = f"chaos-{secrets.token_hex(3)}"
        server = _active_server(api, name)
        sid = server["id"]
        before = _pids(cloud, sid)
        if len(before) != 1:
            result.problems.append(f"the ACTIVE server runs {len(before)} QEMU before the crash")
        ports_of = {sid: api.port_ids(sid)}
        result.notes.append(_taps_note(ports_of[sid]))
        boots = wait_for("the guest's kernel to start", lambda: _boots(cloud, sid), 120)
        old_pid = cloud.role_pid()
        bodies: dict[str, dict[str, Any]] = {
            "stop": {"os-stop": None},
            "reboot": {"reboot": {"type": "SOFT"}},
        }
        try:
            deleting = action == "delete"
            r = api.delete_server(sid) if deleting else api.action(sid, bodies[action])
            result.notes.append(f"{action} answered {r.status_code}")
        except httpx.HTTPError as exc:
            result.notes.append(f"{action} got no answer ({type(exc).__name__})")
        if not _wait_fired(cloud, point, result, FIRE_TIMEOUT):
            return
        _restarted(cloud, api, old_pid)
        after = api.settled(sid, SETTLE)
        _final_ok(after, result, gone_ok=action == "delete")
        if action == "delete" and after is not None:
            result.problems.append(f"the interrupted delete left the server {after['status']}")
        if action == "stop" and after is not None and after["status"] != "SHUTOFF":
            result.problems.append(f"the interrupted stop left the server {after['status']}")
        if action == "reboot" and after is not None:
            if after["status"] != "ACTIVE":
                result.problems.append(f"the interrupted reboot left the server {after['status']}")
            try:  # the restart finishes the reboot: the kernel starts again
                wait_for("the guest to reboot", lambda: _boots(cloud, sid) > boots, 120)
            except TimeoutError:
                result.problems.append("the interrupted reboot was never finished (no new boot)")
        _check_host(cloud, result, ports_of)
        if after is not None:
            final = api.server(sid) or {}
            now = _pids(cloud, sid)
            same = "same pid" if now == before else f"pid {before} -> {now}"
            result.outcome = f"{final.get('status')} ({same}; kernel boots {boots} -> "
            result.outcome += f"{_boots(cloud, sid)})"
        result.notes.append(_host_summary(cloud))
        delete_and_check(api, after, result)
        _still_works(api, result, name)
        _check_host(cloud, result, ports_of)

    return _run(f"qemu: kill at {point} ({action})", {"KUMO_FAULT_INJECTION": f"{point}:kill"},
                body, virt="qemu")  # fmt: skip


def control_plane_kill() -> Result:
    """SIGKILL the whole control plane while a guest runs: the guest lives on, re-adopted."""

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        name = f"chaos-{secrets.token_hex(3)}"
        server = _active_server(api, name)
        sid = server["id"]
        before = _pids(cloud, sid)
        ports_of = {sid: api.port_ids(sid)}
        result.notes.append(_taps_note(ports_of[sid]))
        killed = cloud.kill_role()
        _restarted(cloud, api, killed)
        after = api.settled(sid, SETTLE)
        _final_ok(after, result)
        now = _pids(cloud, sid)
        if len(before) != 1 or now != before:
            result.problems.append(f"the guest was not kept: QEMU pid {before} before, {now} after")
        log = (cloud.state_dir / "logs" / "all.log").read_text(errors="replace")
        if "1 guest(s) re-adopted" not in log:
            result.problems.append("the restarted agent did not report the guest re-adopted")
        result.outcome = f"{after and after['status']}; QEMU pid {before} -> {now}"
        # The restarted agent must drive the adopted guest (QMP): stop, then start it.
        api.action(sid, {"os-stop": None}).raise_for_status()
        stopped = api.settled(sid, SETTLE)
        if stopped is None or stopped["status"] != "SHUTOFF" or _pids(cloud, sid):
            result.problems.append(
                f"stop after re-adoption: {stopped and stopped['status']}, QEMU {_pids(cloud, sid)}"
            )
        api.action(sid, {"os-start": None}).raise_for_status()
        started = api.settled(sid, SETTLE)
        if started is None or started["status"] != "ACTIVE" or len(_pids(cloud, sid)) != 1:
            result.problems.append(
                f"start after re-adoption: {started and started['status']}, "
                f"QEMU {_pids(cloud, sid)}"
            )
        _check_host(cloud, result, ports_of)
        delete_and_check(api, started, result)
        _check_host(cloud, result, ports_of)

    return _run("qemu: control plane SIGKILLed with a guest running", {}, body, virt="qemu")


def power_loss_with_guest() -> Result:
    """SIGKILL the supervisor and every role at once, `kumo up` again: the guest lives on."""

    def body(cloud: ChaosCloud, api: Api, result: Result) -> None:
        api.login()
        server = _active_server(api, f"chaos-{secrets.token_hex(3)}")
        sid = server["id"]
        before = _pids(cloud, sid)
        ports_of = {sid: api.port_ids(sid)}
        result.notes.append(_taps_note(ports_of[sid]))
        cloud.power_loss()
        # QEMU -daemonize runs each guest in its own session: the kill of Kumo's process
        # group must not reach it.
        time.sleep(1.0)
        at_restart = _pids(cloud, sid)
        cloud.up_again()
        api.wait_healthy(120)
        api.login()
        after = api.settled(sid, SETTLE)
        _final_ok(after, result)
        now = _pids(cloud, sid)
        if len(before) != 1 or at_restart != before or now != before:
            result.problems.append(
                f"the guest did not survive: QEMU {before} before, {at_restart} after the "
                f"kill, {now} after `kumo up`"
            )
        result.outcome = f"{after and after['status']}; QEMU pid {before} -> {now}"
        # The new agent drives the guest it re-adopted: a hard reboot over QMP.
        boots = _boots(cloud, sid)
        api.action(sid, {"reboot": {"type": "HARD"}}).raise_for_status()
        rebooted = api.settled(sid, SETTLE)
        try:
            wait_for("the guest to reboot", lambda: _boots(cloud, sid) > boots, 120)
        except TimeoutError:
            result.problems.append("a hard reboot after re-adoption did not reboot the guest")
        if rebooted is None or rebooted["status"] != "ACTIVE":
            result.problems.append(f"hard reboot after re-adoption: {rebooted}")
        _check_host(cloud, result, ports_of)
        delete_and_check(api, rebooted, result)
        _check_host(cloud, result, ports_of)

    return _run("qemu: power loss (every Kumo process) with a guest running", {}, body,
                virt="qemu")  # fmt: skip


def real_guest_scenarios() -> list[tuple[str, Callable[[], Result]]]:
    """Every real-guest scenario of `make chaos`, by name."""
    out: list[tuple[str, Callable[[], Result]]] = [
        (p, lambda p=p: build_kill(p))  # type: ignore[misc]
        for p in BUILD_POINTS
    ]
    out += [(p, lambda p=p, a=a: action_kill(p, a)) for p, a in ACTION_POINTS.items()]  # type: ignore[misc]
    out.append(("qemu_control_plane_kill", control_plane_kill))
    out.append(("qemu_power_loss", power_loss_with_guest))
    return out
