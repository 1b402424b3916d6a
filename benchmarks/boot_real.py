"""Real guest boot, measured from the user's side, against bare QEMU and devstack's figure.

    .venv/bin/python benchmarks/boot_real.py            # 3 rounds of 1 and of 4 at once
    .venv/bin/python benchmarks/boot_real.py --runs 1 --no-driver

The figure the compute issue names (``--no-api`` skips it): a fresh ``kumo up`` in a
temporary state dir with the QEMU driver and the network agent on (as ``make up``
runs it); openstacksdk from the clients venv, as the ``demo`` user, calls
``server create`` (image ``kumo-guest``, flavor ``cirros256``, a port on the seeded
``private`` network in a group allowing SSH, with a floating IP from ``public``,
both made before the clock starts and reused by every round) and the clock runs to
three milestones: the API shows ACTIVE; ``os-getConsoleOutput`` shows ``Cloud-init
v. kumo finished``;
the floating IP answers SSH from the host with ``SSH-2.0-dropbear`` (through the
router's DNAT on the Kumo-owned external bridge). 1 server, then 4 at once.

Kumo's driver alone (``--no-driver`` skips it): seconds from ``QemuDriver.spawn()``
being called (qcow2 disk, config drive, daemonized QEMU; the accelerator is
detected once before the clock starts) to the same finished line in the serial
console log.

The floor (a peer measured in the same run, interleaved, so load hits all alike):
a bare ``qemu-system-x86_64`` started directly with the very command line the
driver uses (minus ``-daemonize``), on a disk and config drive prepared before its
clock starts, timed from launch to the same line. It has no NIC.

Published peer (quoted, not measured here): devstack with libvirt/KVM and CirrOS,
~12 s from ``server create`` to ACTIVE (``peers.DEVSTACK_LIBVIRT_BOOT_S``).

Memory: RSS of each driver-spawned and bare guest's QEMU after it idled a few seconds.
Writes ``reports/bench-boot-real.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import guest_cloud  # benchmarks/ is on the path: this runs as a script
import guest_timeline
import peers

from benchmarks.reporting import busy_warning, fmt, fmt_ratio, markdown_table, ratio, write_report
from kumo.agents.compute.virt.driver import GuestSpec
from kumo.agents.compute.virt.qemu import QemuDriver, process
from kumo.agents.compute.virt.qemu.accel import Accelerator, detect_accelerator
from kumo.agents.compute.virt.qemu.host import tsc_khz
from kumo.agents.compute.virt.qemu.instance import (
    BootConfig,
    InstanceDir,
    kernel_command_line,
    qemu_command,
)
from kumo.agents.compute.virt.qemu.metadata import instance_metadata
from kumo.guest.configdrive import write_config_drive
from kumo.guest.image import GuestImage, build_guest_image

FINISHED = b"Cloud-init v. kumo finished at"
QEMU = "qemu-system-x86_64"
DEADLINE = 180.0
MACHINE = "microvm"
MEMORY_MB = 256
#: Seconds between the client's os-getConsoleOutput polls (each one is an API call).
CONSOLE_POLL = 0.25
#: How long each ``spawn()`` call took (disk, config drive, QEMU daemonized).
SPAWN_SECONDS: list[float] = []
#: Where each boot's time went (see :func:`api_parts` and :func:`bare_parts`), by kind
#: ("api", "bare") and guests at once.
PARTS: dict[tuple[str, int], list[dict[str, float]]] = {}
#: CPU seconds per server of each API round, by whose ("kumo", "client") and guests at once.
CPU: dict[tuple[str, int], list[float]] = {}
#: The spawn step's instance-action event (it ends when QEMU runs the guest).
SPAWN_EVENT = "step_28_compute_spawn_guest"


def _spec(index: int) -> GuestSpec:
    return GuestSpec(
        uuid=f"b0000000-0000-4000-8000-{index:012d}",
        name=f"bench-{index}",
        vcpus=1,
        memory_mb=MEMORY_MB,
        root_gb=1,
        user_data="IyEvYmluL3NoCmVjaG8gYmVuY2gK",  # "#!/bin/sh\necho bench"
    )


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _wait_finished(log: Path, started: float) -> float:
    end = started + DEADLINE
    while time.monotonic() < end:
        try:
            if FINISHED in log.read_bytes():
                return time.monotonic() - started
        except FileNotFoundError:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no finished line in {log} within {DEADLINE:g} s")


async def bare_round(
    image: GuestImage, accel: Accelerator, count: int, work: Path
) -> tuple[list[float], list[int]]:
    """Boot ``count`` bare QEMU guests at once; their boot seconds and idle RSS."""
    processes: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        commands = []
        for index in range(count):
            # The very command line the driver runs, minus -daemonize, on files made
            # before the clock starts: what is left is the guest's own boot.
            files = InstanceDir(work / f"bare-{count}", _spec(index).uuid)
            files.path.mkdir(parents=True)
            subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", str(files.disk), "1G"], check=True
            )
            write_config_drive(instance_metadata(_spec(index)), files.config_drive)
            boot = BootConfig(
                uuid=_spec(index).uuid,
                name=_spec(index).name,
                vcpus=1,
                memory_mb=MEMORY_MB,
                root_gb=1,
                machine=MACHINE,
                accel=accel.name,
                kernel=str(image.kernel),
                initrd=str(image.initramfs),
                kernel_args=kernel_command_line(MACHINE, accel.name, tsc_khz(), ""),
            )
            command = qemu_command(QEMU, boot, files)
            command.remove("-daemonize")
            commands.append(command)
            logs.append(files.console_log)
        started = time.monotonic()
        for command in commands:
            # Its own session, as a daemonized guest has: with the scheduler's
            # autogroups, guests sharing one session would share one CPU share.
            processes.append(
                subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
            )
        seconds = await asyncio.gather(*(_wait_finished(log, started) for log in logs))
        for log, took in zip(logs, seconds, strict=True):
            steps = guest_timeline.guest_steps(log.read_text(errors="replace"))
            PARTS.setdefault(("bare", count), []).append(bare_parts(took, steps))
        await asyncio.sleep(3)
        rss = [_rss_kib(p.pid) for p in processes]
        return list(seconds), rss
    finally:
        for proc in processes:
            proc.kill()
            proc.wait()


async def kumo_round(
    image: GuestImage, accel: Accelerator, count: int, work: Path
) -> tuple[list[float], list[int]]:
    """Spawn ``count`` guests through the driver at once; boot seconds and idle RSS."""
    state = work / f"kumo-{count}"
    driver = QemuDriver(
        state, host_name="bench", guest_image_dir=image.directory, accelerator=accel
    )
    specs = [_spec(index) for index in range(count)]
    try:

        async def one(spec: GuestSpec) -> float:
            started = time.monotonic()
            await driver.spawn(spec)
            SPAWN_SECONDS.append(time.monotonic() - started)
            return await _wait_finished(state / "instances" / spec.uuid / "console.log", started)

        seconds = await asyncio.gather(*(one(spec) for spec in specs))
        await asyncio.sleep(3)
        rss = [_rss_kib(driver.pid(spec.uuid) or 0) for spec in specs]
        return list(seconds), rss
    finally:
        for spec in specs:
            await driver.destroy(spec.uuid)
        for guest in process.running_guests():  # anything a failure left behind
            if guest.pidfile.startswith(str(state.resolve())):
                process.kill(guest.pid)


def _row(label: str, seconds: list[float]) -> list[str]:
    if not seconds:
        return [label, "—", "—", "—"]
    return [
        label,
        fmt(statistics.median(seconds), 2),
        fmt(min(seconds), 2),
        fmt(max(seconds), 2),
    ]


def _median(seconds: list[float]) -> float | None:
    return statistics.median(seconds) if seconds else None


#: The milestones guest_sdk.py times from the ``server create`` call, and their labels.
MILESTONES = {
    "active": "ACTIVE in the API",
    "finished": "finished line in os-getConsoleOutput",
    "ssh": "floating IP answers SSH (dropbear banner)",
}


def api_round(
    cloud: guest_cloud.GuestCloud, count: int, tag: str, api: dict[tuple[int, str], list[float]]
) -> list[str]:
    """``count`` servers at once through openstacksdk; adds each milestone to ``api``; errors."""
    pid = cloud_pid(cloud.state_dir)
    answer = cloud.sdk(
        "boot", "--count", str(count), "--tag", tag, "--deadline", str(DEADLINE * 2),
        "--poll", str(CONSOLE_POLL), *(["--cpu-pid", str(pid)] if pid else []),
        timeout=DEADLINE * 2 + 400,
    )  # fmt: skip
    cpu = answer.get("cpu") or {}
    for who in ("kumo", "client"):
        if cpu.get(who) is not None:
            CPU.setdefault((who, count), []).append(float(cpu[who]) / count)
    errors = []
    for guest in answer["guests"]:
        if guest["error"]:
            errors.append(f"{guest['name']}: {guest['error']}")
            continue
        for milestone, seconds in guest["times"].items():
            api.setdefault((count, milestone), []).append(seconds)
        parts = api_parts(guest["times"], guest.get("timeline") or {})
        if parts:
            PARTS.setdefault(("api", count), []).append(parts)
    return errors


def cloud_pid(state_dir: Path) -> int | None:
    """The pid of the cloud's one process (``kumo up`` runs every role in it)."""
    try:
        return int((state_dir / "run" / "all.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _cpu_section() -> str:
    """CPU seconds per server: the cloud's process and the benchmark's client."""
    rows = []
    for who, label in (
        ("kumo", "Kumo's process (API, scheduler, conductor, compute and network agents, "
         "and the commands they ran)"),
        ("client", "the benchmark's openstacksdk client (its polls)"),
    ):  # fmt: skip
        rows.append([label, *(fmt(_median(CPU.get((who, count), [])), 2) for count in (1, 4))])
    return (
        markdown_table(
            ["CPU seconds per server (median of rounds)", "1 at once", "4 at once"], rows
        )
        + "\n\nFrom `server create` to the last milestone of the round (the deletes after it "
        "are not counted), on the same 2 cores the guests' TCG threads need: the floor has "
        "none of it. QEMU and dnsmasq are daemons, not counted here."
    )


def bare_parts(seconds: float, steps: dict[str, float]) -> dict[str, float]:
    """A bare boot's parts: the guest's own (by its uptime), and the rest (QEMU's own)."""
    if "finished" not in steps:
        return {}
    return {**guest_timeline.segments(steps), "rest": seconds - steps["finished"]}


def api_parts(times: dict[str, float], timeline: dict[str, Any]) -> dict[str, float]:
    """A ``server create``'s parts, from its events and the guest's console stamps.

    ``control``: the call to the spawn step (API, scheduler, conductor, the compute
    agent's image and port calls); ``spawn``: the spawn step (disks, config drive,
    QEMU daemonized); then the guest's own parts by its uptime; ``rest``: the
    remainder, as the floor's. Empty when a piece is missing.
    """
    spawn = (timeline.get("events") or {}).get(SPAWN_EVENT) or [None, None]
    steps = timeline.get("guest") or {}
    if None in spawn or "finished" not in steps or "finished" not in times:
        return {}
    begun, ended = float(spawn[0]), float(spawn[1])
    return {
        "control": begun,
        "spawn": ended - begun,
        **guest_timeline.segments(steps),
        "rest": times["finished"] - ended - steps["finished"],
    }


#: The parts of a boot, in order, and what each is.
PART_LABELS = {
    "control": "`server create` → spawn step starts (API, scheduler, conductor, "
    "compute agent: image, port binding)",
    "spawn": "spawn step: disks, config drive, QEMU daemonized",
    "kernel": "guest: kernel, to /init",
    "before_network": "guest: modules, config drive, state disk, hostname, keys "
    "(the network is configured in the background meanwhile)",
    "network": "guest: still waiting for the network (floor: no NIC; Kumo: DHCP lease "
    "from the network's dnsmasq)",
    "after_network": "guest: scripts, SSH host key, dropbear, to the finished line",
    "rest": "the rest: QEMU up to the guest kernel's clock (kernel decompression, "
    "same for both) and finished line → seen (Kumo: os-getConsoleOutput every POLL s; "
    "floor: its log file every 50 ms)",
}


def _parts_section(poll: float) -> str:
    """The table of medians of each part, Kumo (API) against the floor, 1 and 4 at once."""
    columns = [("api", 1), ("bare", 1), ("api", 4), ("bare", 4)]
    rows = []
    totals = {column: 0.0 for column in columns}
    for part, label in PART_LABELS.items():
        row = [label.replace("POLL", f"{poll:g}")]
        for column in columns:
            values = [p[part] for p in PARTS.get(column, []) if part in p]
            median = _median(values)
            totals[column] += median or 0.0
            row.append(fmt(median, 2))
        rows.append(row)
    rows.append(["sum of the medians", *(fmt(totals[c], 2) for c in columns)])
    return (
        markdown_table(
            ["seconds (median)", "Kumo, 1 at once", "floor, 1 at once", "Kumo, 4 at once",
             "floor, 4 at once"],
            rows,
        )
        + "\n\nRead from each boot's instance-action events (wall clock, same host) and "
        "the uptime stamps the guest's init prints on its serial console; the guest parts "
        "run on the guest's clock from its kernel's start (it keeps pace with the host's: "
        "checked against the console log's arrival times). The floor's guest has no NIC. "
        "The Kumo guest configures its NIC (DHCP from the network's dnsmasq) in the "
        "background while it formats its state disk and installs keys: what the DHCP "
        "exchange costs its one vCPU shows in the row before, and the network row is only "
        "what the init still has to wait for after that; it is the guest waiting on the "
        "network, not Kumo's control plane, which is the first two rows. The compute host "
        "handles one bus message at a time, so 4 builds at once start their guests one "
        "after the other (the first row, 4 at once). Medians of parts do not add up "
        "exactly to the median total."
    )  # fmt: skip


def _api_sections(
    api: dict[tuple[int, str], list[float]],
    bare: dict[int, list[float]],
    errors: list[str],
    cloud_facts: str,
) -> list[tuple[str, str]]:
    rows = [
        _row(f"{label}, {count} at once", api.get((count, milestone), []))
        for count in (1, 4)
        for milestone, label in MILESTONES.items()
    ]
    peer_rows = []
    for count in (1, 4):
        finished = _median(api.get((count, "finished"), []))
        floor = _median(bare.get(count, []))
        overhead = None if finished is None or floor is None else finished - floor
        peer_rows.append(
            [
                f"create → finished line, {count} at once",
                fmt(finished, 2),
                f"bare QEMU launch → finished line, {count} at once (this run, no NIC)",
                fmt(floor, 2),
                fmt_ratio(ratio(finished, floor)),
                fmt(overhead, 2) + " s over the floor",
            ]
        )
    for count in (1, 4):
        active = _median(api.get((count, "active"), []))
        peer_rows.append(
            [
                f"create → ACTIVE, {count} at once",
                fmt(active, 2),
                "devstack + libvirt/KVM, CirrOS, create → ACTIVE (published, not measured here)",
                fmt(peers.DEVSTACK_LIBVIRT_BOOT_S, 1),
                fmt_ratio(ratio(active, peers.DEVSTACK_LIBVIRT_BOOT_S)),
                "",
            ]
        )
    for count in (1, 4):
        ssh = _median(api.get((count, "ssh"), []))
        peer_rows.append(
            [
                f"create → SSH banner on the floating IP, {count} at once",
                fmt(ssh, 2),
                "devstack + libvirt/KVM create → ACTIVE (published; its guest has not "
                "booted yet at ACTIVE, so this flatters devstack)",
                fmt(peers.DEVSTACK_LIBVIRT_BOOT_S, 1),
                fmt_ratio(ratio(ssh, peers.DEVSTACK_LIBVIRT_BOOT_S)),
                "",
            ]
        )
    peer_table = markdown_table(
        ["Kumo figure (median)", "s", "named peer", "peer s", "Kumo / peer", ""], peer_rows
    )
    notes = (
        "The floor has no NIC, no API, no scheduler and no image cache: Kumo's API "
        "figure includes all of them, the guest's DHCP lease from the network's dnsmasq "
        "and the config drive read. The devstack figure uses KVM; every guest here runs "
        "under TCG (software emulation), which is what the floor measures. "
        f"libvirt on this kind of machine was measured by hand at ~{peers.LIBVIRT_HAND_BOOT_S:g} "
        "s per boot (project notes, GUESTS_AND_NETWORKS.md), slower than direct QEMU; quoted "
        "for context only. Target (issue 5): Kumo's overhead over bare QEMU under 1 s per server."
    )
    sections = [
        (
            "From `server create` (openstacksdk) — the figure issue 5 names",
            markdown_table(["seconds from `server create`", "median", "min", "max"], rows)
            + "\n\n"
            + cloud_facts,
        ),
        ("Against the named peers", peer_table + "\n\n" + notes),
    ]
    if errors:
        sections.append(("Failed boots (not counted)", "\n".join(f"- {e}" for e in errors)))
    return sections


async def main() -> None:
    """Run the rounds and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of each measurement")
    parser.add_argument("--no-api", action="store_true", help="skip the server-create figure")
    parser.add_argument("--no-driver", action="store_true", help="skip the driver-only figure")
    args = parser.parse_args()
    if shutil.which(QEMU) is None:
        raise SystemExit(f"{QEMU} is not installed (make debs)")
    warning = busy_warning()
    if warning:
        print(f"warning: {warning}")
    results: dict[tuple[str, int], list[float]] = {}
    memory: dict[str, list[int]] = {"bare": [], "kumo": []}
    api: dict[tuple[int, str], list[float]] = {}
    api_errors: list[str] = []
    cloud_facts = ""
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="kumo-bench-boot-"))
        work = Path(tmp)
        image = build_guest_image(work / "guest")
        accel = detect_accelerator(QEMU, probe_timeout=5)
        print(f"accelerator: {accel.name} ({accel.reason})")
        cloud = None
        if not args.no_api:
            print("starting `kumo up` (QEMU driver, network agent) ...")
            cloud = stack.enter_context(guest_cloud.running_guest_cloud())
            ready = cloud.sdk("ready", timeout=400)
            ready["seconds"] = round(ready["seconds"] + guest_cloud.wait_data_plane(ready), 1)
            others = guest_cloud.other_clouds(cloud.state_dir)
            print(f"cloud ready: `kumo up` {cloud.up_seconds:.1f} s, then {ready['seconds']} s")
            cloud_facts = (
                f"Cloud: `kumo up` in a fresh state dir took {cloud.up_seconds:.1f} s; the "
                f"compute host, the network agent and the seeded networks' data plane were "
                f"up {ready['seconds']} s later "
                f"({', '.join(ready['agents'])}). Each server: flavor `cirros256` (256 MiB, "
                "1 vCPU), image `kumo-guest`, config drive (Kumo's default), one port on "
                "`private` (DHCP) behind `router1`. The clock starts right before "
                "`conn.compute.create_server()`, with a token already fetched; the port "
                "(security group allowing tcp/22) and its floating IP exist before it and "
                "are reused by every round (a new port that gets a deleted port's fixed IP "
                "gets no DHCP lease on Kumo today: dnsmasq's lease file keeps the old MAC's "
                "lease). The server's status is polled every 0.1 s, "
                f"its console every {CONSOLE_POLL:g} s, "
                "and a new connect to the floating IP's port 22 starts every 50 ms; servers "
                "are deleted between rounds. "
                + (
                    f"{len(others)} other Kumo namespaces (other clouds, tests) were on this host; "
                    "clouds share the external bridge `kbr-ext`."
                    if others
                    else "No other Kumo cloud's data plane was on this host at the start."
                )
            )
        for run in range(args.runs):
            for count in (1, 4):
                kinds = [("bare", bare_round)]
                if not args.no_driver:
                    kinds.append(("kumo", kumo_round))
                for kind, round_ in kinds:
                    seconds, rss = await round_(image, accel, count, work / f"run{run}")
                    results.setdefault((kind, count), []).extend(seconds)
                    memory[kind].extend(rss)
                    print(f"{kind} x{count}: " + ", ".join(f"{s:.2f}" for s in seconds) + " s")
                if cloud is not None:
                    print(f"server create x{count} (openstacksdk):")
                    api_errors += api_round(cloud, count, f"r{run}x{count}", api)
    bare = {count: results.get(("bare", count), []) for count in (1, 4)}
    sections = [
        (
            "Setup",
            f"Accelerator: **{accel.name}** ({accel.reason}). Rounds: {args.runs}, each "
            "1 guest then 4 at once, the kinds interleaved. Driver and floor guests: machine "
            f"`{MACHINE}`, {MEMORY_MB} MiB, 1 vCPU, a 1 GiB qcow2 root disk (formatted by the "
            "guest at first boot) and a config drive."
            + (f"\n\n**Warning:** {warning}." if warning else ""),
        )
    ]
    if cloud is not None:
        sections += _api_sections(api, bare, api_errors, cloud_facts)
        sections.append(("Where the time goes", _parts_section(CONSOLE_POLL)))
        sections.append(("CPU used while the servers boot", _cpu_section()))
    rows = []
    overhead_rows = []
    for count in (1, 4):
        rows.append(_row(f"bare QEMU (floor), {count} at once", bare[count]))
        if args.no_driver:
            continue
        kumo = results[("kumo", count)]
        rows.append(_row(f"Kumo QEMU driver, {count} at once", kumo))
        overhead_rows.append(
            [
                f"{count} at once",
                fmt(statistics.median(kumo) - statistics.median(bare[count]), 2),
                fmt(statistics.median(kumo) / statistics.median(bare[count]), 2) + "x",
            ]
        )
    sections.append(
        ("Driver only and the floor: seconds to the finished line", markdown_table(
            ["", "median", "min", "max"], rows
        ))
    )  # fmt: skip
    if not args.no_driver:
        sections.append(
            (
                "Kumo's driver overhead over bare QEMU (medians)",
                markdown_table(["", "seconds", "ratio"], overhead_rows)
                + f"\n\n`spawn()` itself (qcow2 disk, config drive ISO, QEMU daemonized) "
                f"returned after {fmt(statistics.median(SPAWN_SECONDS), 2)} s median "
                f"(max {fmt(max(SPAWN_SECONDS), 2)} s); the rest is the guest booting.\n\n"
                "Bare guests are started each in a session of its own, as the driver's "
                "daemonized guests are: with the kernel's scheduler autogroups, guests sharing "
                "one session would share one CPU share and boot far slower (88 s instead of "
                "35 s for 4 at once in a first run that did not do this).",
            )
        )
    mem_rows = [
        [kind, fmt(statistics.median(values) / 1024, 1), fmt(max(values) / 1024, 1)]
        for kind, values in memory.items()
        if values
    ]
    sections.append(
        (
            "Memory per idle guest (RSS of its QEMU process, MiB)",
            markdown_table(["", "median", "max"], mem_rows),
        )
    )
    path = write_report(
        "bench-boot-real.md",
        "Real guest boot: `server create` to SSH, against bare QEMU and devstack",
        sections,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(main())
