"""The QEMU virt driver: every guest is its own daemonized QEMU process.

Guests boot the Kumo guest kernel and initramfs (``kumo image build``), or the
kernel/ramdisk images their image names (:mod:`.bootsource`), with a qcow2 root
disk (an overlay on a cached base image, or blank), the flavor's ephemeral and
swap disks, and a config drive, and are driven over QMP. They outlive the control
plane: a new driver object (a restarted agent) re-adopts them with
:meth:`QemuDriver.init_host`.

Power actions (as Nova's libvirt driver does them, mapped to QMP):

- power off: ACPI ``system_powerdown``; after ``shutdown_timeout`` ``quit``, then SIGKILL.
- soft reboot: ACPI power-down and start again; on timeout a hard reboot.
- hard reboot: ``system_reset`` (the process stays), or start if it was off.
- pause / unpause: ``stop`` / ``cont``.
- suspend: ``stop``, then ``migrate`` the memory to ``memory.state`` in the
  instance directory and quit; resume starts QEMU with ``-incoming`` from it.
- snapshot: ``stop`` (QEMU drains and flushes its disks when it stops), then
  ``qemu-img convert`` of overlay + base into one standalone qcow2, then ``cont``.
- rescue: start again from a blank rescue disk with the guest's disk second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kumo.agents.compute.virt.driver import (
    CRASHED,
    NOSTATE,
    PAUSED,
    RUNNING,
    SHUTDOWN,
    SUSPENDED,
    ConsoleUnavailable,
    DiagnosticsUnavailable,
    GuestDiagnostics,
    GuestInfo,
    GuestSpec,
    HostResources,
    NoDisplay,
    SerialConsole,
    VirtDriver,
    VirtError,
)
from kumo.agents.compute.virt.qemu import diagnostics, host, process
from kumo.agents.compute.virt.qemu.accel import Accelerator, detect_accelerator
from kumo.agents.compute.virt.qemu.bootsource import boot_source, make_local_disks
from kumo.agents.compute.virt.qemu.images import (
    ROOT_FORMATS,
    ImageCache,
    ImageLookup,
    ImageSource,
    create_overlay,
    run,
)
from kumo.agents.compute.virt.qemu.instance import (
    MACHINE_TYPES,
    BootConfig,
    InstanceDir,
    has_display,
    kernel_command_line,
    qemu_command,
)
from kumo.agents.compute.virt.qemu.metadata import instance_metadata
from kumo.agents.compute.virt.qemu.nics import tap_nic_args
from kumo.agents.compute.virt.qemu.qmp import QMPSession
from kumo.common.config import Settings
from kumo.common.faults import fault_point
from kumo.guest.configdrive import ConfigDriveError, write_config_drive

log = logging.getLogger(__name__)

#: QMP ``query-status`` → Nova power state.
_POWER_STATES = {
    "running": RUNNING,
    "paused": PAUSED,
    "suspended": PAUSED,
    "inmigrate": PAUSED,
    "postmigrate": PAUSED,
    "finish-migrate": PAUSED,
    "prelaunch": PAUSED,
    "save-vm": PAUSED,
    "restore-vm": PAUSED,
    "debug": PAUSED,
    "shutdown": SHUTDOWN,
    "internal-error": CRASHED,
    "io-error": CRASHED,
    "guest-panicked": CRASHED,
    "watchdog": CRASHED,
}
MAX_CONSOLE_BYTES = 100 * 1024  # Nova's cap on os-getConsoleOutput


async def _run_daemonizing(command: list[str], output: Path, timeout: float) -> None:
    """Run QEMU with ``-daemonize`` until its parent exits; VirtError with its output."""
    with output.open("ab") as stream:
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=stream, stderr=stream
        )
    try:
        code = await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError as exc:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise VirtError(f"QEMU did not start within {timeout:g} s") from exc
    if code != 0:
        text = output.read_text(errors="replace").strip()[-2000:]
        raise VirtError(f"QEMU failed to start (exit status {code}): {text}")


class NicHook(Protocol):
    """The network data plane's hook: QEMU arguments for a guest's NICs (taps)."""

    def __call__(self, guest: GuestSpec, machine: str) -> list[str]:
        """``-netdev``/``-device`` arguments for ``machine``; empty for no NIC.

        microvm takes ``virtio-net-device``, q35/pc ``virtio-net-pci``.
        """


@dataclass
class AdoptionReport:
    """What :meth:`QemuDriver.init_host` found on the host."""

    adopted: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    unknown: list[process.RunningGuest] = field(default_factory=list)
    #: Half-written files an agent killed mid-work left (removed): ``_base`` downloads
    #: and instance directories without ``instance.json``.
    removed: list[str] = field(default_factory=list)


class QemuDriver(VirtDriver):
    """Real guests under QEMU (KVM when proven, else TCG)."""

    hypervisor_type = "QEMU"

    def __init__(
        self,
        state_dir: Path,
        *,
        host_name: str,
        machine: str = "microvm",
        accel: str = "auto",
        qemu: str = "qemu-system-x86_64",
        image_source: ImageSource | None = None,
        guest_image_dir: Path | None = None,
        shutdown_timeout: float = 30.0,
        nic_hook: NicHook | None = None,
        availability_zone: str = "nova",
        accelerator: Accelerator | None = None,
        image_lookup: ImageLookup | None = None,
        default_ephemeral_format: str | None = None,
    ) -> None:
        if machine not in MACHINE_TYPES:
            raise ValueError(f"machine type {machine!r} is not one of {MACHINE_TYPES}")
        state_dir = state_dir.resolve()  # QEMU -daemonize changes its directory to /
        self.state_dir = state_dir
        self.host_name = host_name
        self.machine = machine
        self.accel_setting = accel
        self.qemu = qemu
        self.instances_dir = state_dir / "instances"
        self.guest_image_dir = guest_image_dir or state_dir / "guest"
        self.images = ImageCache(state_dir / "_base", image_source)
        self.shutdown_timeout = shutdown_timeout
        self.nic_hook = nic_hook
        self.availability_zone = availability_zone
        self._accelerator = accelerator
        #: Kernel/ramdisk image metadata (the image source, when it can look images up).
        if image_lookup is None and isinstance(image_source, ImageLookup):
            image_lookup = image_source
        self.image_lookup = image_lookup
        #: Nova's ``default_ephemeral_format``: None picks it by the image's os_type.
        self.default_ephemeral_format = default_ephemeral_format
        self._locks: dict[str, asyncio.Lock] = {}
        #: Kumo guests running on this host that this driver does not know (reported only).
        self.unknown_guests: list[process.RunningGuest] = []

    @classmethod
    def from_settings(
        cls, settings: Settings, host_name: str, image_source: ImageSource | None = None
    ) -> QemuDriver:
        """The driver as ``kumo up`` runs it (``virt_driver = "qemu"``).

        ``qemu_machine_type``, ``qemu_accel`` and ``qemu_shutdown_timeout`` are read
        when the settings declare them (defaults: microvm, auto, 30 s).
        """
        return cls(
            settings.state_dir,
            host_name=host_name,
            machine=str(getattr(settings, "qemu_machine_type", "microvm")),
            accel=str(getattr(settings, "qemu_accel", "auto")),
            shutdown_timeout=float(getattr(settings, "qemu_shutdown_timeout", 30.0)),
            image_source=image_source,
            default_ephemeral_format=settings.default_ephemeral_format,
            # Guests with ports get one tap NIC each; the network agent plugs the taps.
            nic_hook=tap_nic_args,
        )

    # --- host ---------------------------------------------------------------------

    @property
    def accelerator(self) -> Accelerator:
        """KVM or TCG, detected (with a probe boot) on first use."""
        if self._accelerator is None:
            self._accelerator = detect_accelerator(
                self.qemu, wanted=self.accel_setting, machine=self.machine
            )
            log.info("QEMU accelerator: %s (%s)", self._accelerator.name, self._accelerator.reason)
        return self._accelerator

    def host_resources(self) -> HostResources:
        """The host's real CPUs, memory and disk, and which accelerator guests get."""
        major, minor, micro = host.qemu_version(self.qemu)
        return HostResources(
            vcpus=host.cpu_count(),
            memory_mb=host.memory_mb(),
            local_gb=host.disk_gb(self.instances_dir),
            hypervisor_type=self.hypervisor_type,
            hypervisor_version=major * 1_000_000 + minor * 1000 + micro,
            hypervisor_hostname=self.host_name,
            cpu_info={
                "arch": "x86_64",
                "model": host.cpu_model(),
                "accelerator": self.accelerator.name,
                "accelerator_reason": self.accelerator.reason,
                "machine_type": self.machine,
            },
        )

    async def init_host(self) -> AdoptionReport:
        """Re-adopt the guests left running by an earlier agent; report the others.

        A guest whose QEMU still runs (pid from its pidfile, command line naming its
        uuid and pidfile) is checked over QMP and kept; one whose QEMU died is left
        shut off (its stale pidfile and sockets removed); a Kumo guest process this
        state directory does not define is reported, never killed. Files an agent
        killed mid-work left half made are removed (:meth:`_remove_half_made`).
        """
        report = AdoptionReport()
        report.removed = self._remove_half_made()  # first: the KVM probe may take seconds
        await asyncio.to_thread(lambda: self.accelerator)
        for uuid in await self.list_instances():
            files = self._files(uuid)
            if self._running_pid(files) is not None:
                try:
                    async with QMPSession(files.qmp) as qmp:
                        await qmp.run("query-status")
                except VirtError as exc:
                    log.warning("guest %s runs but its monitor does not answer: %s", uuid, exc)
                report.adopted.append(uuid)
            else:
                self._clear_runtime_files(files)
                report.stopped.append(uuid)
        known = set(report.adopted)
        for guest in process.running_guests():
            if guest.uuid in known and guest.pidfile == str(self._files(guest.uuid).pidfile):
                continue
            report.unknown.append(guest)
            log.warning(
                "QEMU pid %d runs Kumo guest %s, which this host does not define; left running",
                guest.pid,
                guest.uuid,
            )
        self.unknown_guests = report.unknown
        return report

    def _remove_half_made(self) -> list[str]:
        """Remove what an agent SIGKILLed mid-work left half made; the paths removed.

        A base image download (``_base/.<id>.part``) and an instance directory with
        no ``instance.json`` (killed while its disks were made) are never used again
        and would stay forever. What this driver itself is making is kept: it holds
        the image's or the guest's lock meanwhile. Runs in the event loop, so no
        download or spawn can start between that check and the removal.
        """
        removed: list[str] = []
        candidates: list[tuple[Path, bool]] = []
        if self.images.directory.is_dir():
            for path in self.images.directory.glob(".*.part"):
                image_id = path.name[1:].removesuffix(".part")
                candidates.append((path, self.images.busy(image_id)))
        if self.instances_dir.is_dir():
            for entry in self.instances_dir.iterdir():
                if entry.is_dir() and not (entry / "instance.json").exists():
                    lock = self._locks.get(entry.name)
                    candidates.append((entry, lock is not None and lock.locked()))
        for path, busy in candidates:
            if busy:
                continue
            try:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.chmod(0o600)
                    path.unlink()
            except OSError as exc:
                log.warning("could not remove the half-made %s: %s", path, exc)
                continue
            log.warning("removed %s, left half made by an agent that was killed", path)
            removed.append(str(path))
        return removed

    # --- helpers ------------------------------------------------------------------

    def _files(self, uuid: str) -> InstanceDir:
        if not uuid or "/" in uuid or uuid.startswith("."):
            raise VirtError(f"invalid instance uuid {uuid!r}")
        return InstanceDir(self.instances_dir, uuid)

    def _lock(self, uuid: str) -> asyncio.Lock:
        return self._locks.setdefault(uuid, asyncio.Lock())

    def _defined(self, uuid: str) -> InstanceDir:
        files = self._files(uuid)
        if not files.exists():
            raise VirtError(f"Instance {uuid} could not be found on host {self.host_name}.")
        return files

    @staticmethod
    def _running_pid(files: InstanceDir) -> int | None:
        pid = files.pid()
        if pid is not None and process.is_guest(pid, files.uuid, files.pidfile):
            return pid
        return None

    @staticmethod
    def _clear_runtime_files(files: InstanceDir) -> None:
        for path in (files.pidfile, files.qmp, files.console_socket, files.vnc_socket):
            path.unlink(missing_ok=True)

    async def _status(self, files: InstanceDir) -> str:
        async with QMPSession(files.qmp) as qmp:
            status = await qmp.run("query-status")
        return str(status.get("status", ""))

    async def _qmp(self, files: InstanceDir, command: str, **arguments: Any) -> Any:
        async with QMPSession(files.qmp) as qmp:
            return await qmp.run(command, arguments or None)

    async def _wait_gone(self, files: InstanceDir, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.alive(pid):
                return True
            await asyncio.sleep(0.1)
        return not process.alive(pid)

    async def _start(
        self, files: InstanceDir, boot: BootConfig, incoming: Path | None = None
    ) -> int:
        self._clear_runtime_files(files)
        command = qemu_command(self.qemu, boot, files, incoming=incoming)
        # -daemonize returns once the guest is set up (or failed to be), with errors on
        # stderr. Its output goes to a file, not a pipe: the daemon may keep the pipe
        # open, and some event loops (uvloop) then wait for its EOF forever.
        await _run_daemonizing(command, files.path / "qemu.log", timeout=60)
        pid = files.pid()
        if pid is None or not process.alive(pid):
            raise VirtError(f"QEMU for {files.uuid} exited right after starting")
        log.info("guest %s started (pid %d, %s)", files.uuid, pid, boot.accel)
        return pid

    async def _stop(self, files: InstanceDir, timeout: float) -> None:
        """ACPI power-down, then quit, then SIGKILL: the process is gone afterwards."""
        pid = self._running_pid(files)
        if pid is None:
            return
        with contextlib.suppress(VirtError):
            if await self._status(files) != "running":
                timeout = 0  # a paused guest cannot see the power button: no use waiting
        if timeout > 0:
            try:
                await self._qmp(files, "system_powerdown")
            except VirtError as exc:
                log.warning("guest %s: ACPI power-down failed: %s", files.uuid, exc)
            fault_point("qemu_power_off_requested")  # test-only crash point (make chaos)
            if await self._wait_gone(files, pid, timeout):
                self._clear_runtime_files(files)
                return
            log.warning("guest %s ignored ACPI power-down for %g s; quitting", files.uuid, timeout)
        await self._kill(files, pid)

    async def _kill(self, files: InstanceDir, pid: int) -> None:
        with contextlib.suppress(VirtError):
            await self._qmp(files, "quit")
        if not await self._wait_gone(files, pid, 5):
            process.kill(pid)
            await self._wait_gone(files, pid, 5)
        self._clear_runtime_files(files)

    # --- lifecycle ----------------------------------------------------------------

    async def spawn(self, guest: GuestSpec) -> None:
        """Create the guest's disks and config drive, and start its QEMU."""
        files = self._files(guest.uuid)
        async with self._lock(guest.uuid):
            if files.exists():
                raise VirtError(f"Instance {guest.uuid} already exists on {self.host_name}.")
            shutil.rmtree(files.path, ignore_errors=True)  # a half-made earlier attempt
            files.path.mkdir(parents=True, mode=0o700)
            try:
                boot = await self._prepare(guest, files)
                fault_point("qemu_disks_created")  # test-only crash point (make chaos)
                boot.save(files.boot_config)
                await self._start(files, boot)
                fault_point("qemu_guest_started")
            except BaseException:
                pid = files.pid()
                if pid is not None and process.is_guest(pid, guest.uuid, files.pidfile):
                    process.kill(pid)
                shutil.rmtree(files.path, ignore_errors=True)
                raise

    async def _prepare(self, guest: GuestSpec, files: InstanceDir) -> BootConfig:
        source = await boot_source(
            guest,
            images=self.images,
            lookup=self.image_lookup,
            guest_image_dir=self.guest_image_dir,
            default_machine=self.machine,
        )
        drive: asyncio.Future[Path] | None = None
        if getattr(guest, "config_drive", True):
            try:
                metadata = instance_metadata(guest, availability_zone=self.availability_zone)
            except ConfigDriveError as exc:
                raise VirtError(str(exc)) from exc
            # genisoimage runs (in a thread) while qemu-img makes the disks: independent
            # files, so the guest starts one tool run sooner.
            drive = asyncio.ensure_future(
                asyncio.to_thread(write_config_drive, metadata, files.config_drive)
            )
        try:
            base, base_format = None, "qcow2"
            if str(guest.image.get("disk_format", "")) in ROOT_FORMATS:
                base, base_format = await self.images.fetch_disk(guest.image)
            await create_overlay(files.disk, guest.root_gb, base, base_format)
            await make_local_disks(guest, files, self.images, self.default_ephemeral_format)
        except BaseException:
            if drive is not None:
                # A thread cannot be stopped: it finishes before the caller removes the
                # guest's directory, so nothing is written there afterwards.
                await asyncio.wait([drive])
                if not drive.cancelled():
                    drive.exception()  # retrieved: the disks' failure is the one reported
            raise
        if drive is not None:
            try:
                await drive
            except ConfigDriveError as exc:
                raise VirtError(str(exc)) from exc
        accel = (await asyncio.to_thread(lambda: self.accelerator)).name
        return BootConfig(
            uuid=guest.uuid,
            name=guest.name,
            vcpus=max(guest.vcpus, 1),
            memory_mb=max(guest.memory_mb, 128),
            root_gb=guest.root_gb,
            machine=source.machine,
            accel=accel,
            kernel=str(source.kernel),
            initrd=str(source.initrd or ""),
            kernel_args=kernel_command_line(
                source.machine, accel, host.tsc_khz(), source.extra_args
            ),
            nic_args=self.nic_hook(guest, source.machine) if self.nic_hook else [],
        )

    async def destroy(self, uuid: str) -> None:
        """Kill the guest's QEMU and delete its directory; an unknown guest is fine."""
        files = self._files(uuid)
        async with self._lock(uuid):
            pid = self._running_pid(files)
            if pid is not None:
                await self._kill(files, pid)
            fault_point("qemu_destroy_guest_killed")  # test-only crash point (make chaos)
            shutil.rmtree(files.path, ignore_errors=True)
        self._locks.pop(uuid, None)

    async def power_off(self, uuid: str) -> None:
        """Shut the guest down (ACPI first); its QEMU process exits."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            await self._stop(files, self.shutdown_timeout)

    async def power_on(self, uuid: str) -> None:
        """Start a stopped guest (a suspended one resumes); a running one is left alone."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            if self._running_pid(files) is not None:
                if await self._status(files) == "paused":
                    await self._qmp(files, "cont")
                return
            if files.memory_state.exists():
                await self._resume(files)
            else:
                await self._start(files, BootConfig.load(files.boot_config))

    async def reboot(self, uuid: str, hard: bool) -> None:
        """Soft: ACPI power-down and start (hard on timeout); hard: ``system_reset``."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            boot = BootConfig.load(files.boot_config)
            pid = self._running_pid(files)
            if pid is None:
                files.memory_state.unlink(missing_ok=True)
                await self._start(files, boot)
                return
            fault_point("qemu_reboot_requested")  # test-only crash point (make chaos)
            if not hard:
                await self._qmp(files, "system_powerdown")
                if await self._wait_gone(files, pid, self.shutdown_timeout):
                    self._clear_runtime_files(files)
                    await self._start(files, boot)
                    return
                log.warning("guest %s ignored ACPI power-down; rebooting it hard", uuid)
            await self._qmp(files, "system_reset")
            if await self._status(files) != "running":
                await self._qmp(files, "cont")

    async def pause(self, uuid: str) -> None:
        """Freeze the guest's vCPUs (QMP ``stop``)."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            self._require_running(files)
            await self._qmp(files, "stop")

    async def unpause(self, uuid: str) -> None:
        """Thaw the guest (QMP ``cont``)."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            self._require_running(files)
            await self._qmp(files, "cont")

    def _require_running(self, files: InstanceDir) -> int:
        pid = self._running_pid(files)
        if pid is None:
            raise VirtError(f"Instance {files.uuid} is not running.")
        return pid

    async def suspend(self, uuid: str) -> None:
        """Save the guest's memory to ``memory.state`` and stop its QEMU."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            pid = self._require_running(files)
            await self._qmp(files, "stop")
            partial = files.memory_state.with_name(".memory.state.part")
            target = shlex.quote(str(partial))
            await self._qmp(files, "migrate", uri=f"exec:cat > {target}")
            deadline = time.monotonic() + 300
            while True:
                state = await self._qmp(files, "query-migrate")
                status = state.get("status")
                if status == "completed":
                    break
                if status in ("failed", "cancelled") or time.monotonic() > deadline:
                    await self._qmp(files, "cont")
                    raise VirtError(f"saving the memory of {uuid} failed: {state}")
                await asyncio.sleep(0.1)
            os.replace(partial, files.memory_state)
            await self._kill(files, pid)

    async def resume(self, uuid: str) -> None:
        """Start the guest again from ``memory.state``."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            if not files.memory_state.exists():
                raise VirtError(f"Instance {uuid} is not suspended.")
            await self._resume(files)

    async def _resume(self, files: InstanceDir) -> None:
        await self._start(files, BootConfig.load(files.boot_config), incoming=files.memory_state)
        deadline = time.monotonic() + 300
        while await self._status(files) == "inmigrate":
            if time.monotonic() > deadline:
                raise VirtError(f"restoring the memory of {files.uuid} timed out")
            await asyncio.sleep(0.1)
        if await self._status(files) != "running":
            await self._qmp(files, "cont")
        files.memory_state.unlink(missing_ok=True)

    async def rescue(self, uuid: str) -> None:
        """Restart the guest from a blank rescue disk; its own disk is the second disk."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            boot = BootConfig.load(files.boot_config)
            pid = self._running_pid(files)
            if pid is not None:
                await self._kill(files, pid)
            files.rescue_disk.unlink(missing_ok=True)
            await create_overlay(files.rescue_disk, 1, None)
            boot.rescue = True
            boot.save(files.boot_config)
            await self._start(files, boot)

    async def unrescue(self, uuid: str) -> None:
        """Restart the guest from its own disk and drop the rescue disk."""
        files = self._defined(uuid)
        async with self._lock(uuid):
            boot = BootConfig.load(files.boot_config)
            pid = self._running_pid(files)
            if pid is not None:
                await self._kill(files, pid)
            boot.rescue = False
            boot.save(files.boot_config)
            files.rescue_disk.unlink(missing_ok=True)
            await self._start(files, boot)

    async def snapshot(self, uuid: str) -> bytes:
        """The guest's root disk as one standalone qcow2 image."""
        with tempfile.TemporaryDirectory(prefix="kumo-snapshot-") as tmp:
            target = Path(tmp) / "snapshot.qcow2"
            await self.snapshot_to(uuid, target)
            return await asyncio.to_thread(target.read_bytes)

    async def snapshot_to(self, uuid: str, target: Path) -> Path:
        """Write the guest's root disk (overlay and base flattened) as qcow2 ``target``.

        A running guest is paused meanwhile: QEMU drains and flushes its disks when
        it stops, so the copy is consistent at the block level.
        """
        files = self._defined(uuid)
        async with self._lock(uuid):
            running = self._running_pid(files) is not None
            was_running = running and await self._status(files) == "running"
            if was_running:
                await self._qmp(files, "stop")
            try:
                await run(
                    "qemu-img", "convert", "-U", "-f", "qcow2", "-O", "qcow2",
                    str(files.disk), str(target),
                )  # fmt: skip
            finally:
                if was_running:
                    await self._qmp(files, "cont")
        return target

    # --- state --------------------------------------------------------------------

    async def serial_console(self, uuid: str) -> SerialConsole:
        """The running guest's serial console: QEMU's chardev unix socket (one client at a time)."""
        files = self._defined(uuid)
        if self._running_pid(files) is None or not files.console_socket.exists():
            raise ConsoleUnavailable(
                f"Serial console is not available: instance {uuid} is not running on host "
                f"{self.host_name}."
            )
        return SerialConsole(host=self.host_name, path=str(files.console_socket))

    def _display(self, uuid: str) -> InstanceDir:
        """The files of a running guest with a display; ConsoleUnavailable/NoDisplay if not."""
        files = self._defined(uuid)
        try:
            machine = BootConfig.load(files.boot_config).machine
        except (OSError, ValueError, TypeError):
            machine = ""  # a half-written definition: its QEMU is not running either
        if machine and not has_display(machine):
            raise NoDisplay(
                f"Instance {uuid} has no display (a microvm guest): boot it from an image "
                "with hw_machine_type=q35 for a VNC console."
            )
        if self._running_pid(files) is None or not files.vnc_socket.exists():
            raise ConsoleUnavailable(
                f"VNC console is not available: instance {uuid} is not running with a "
                f"display on host {self.host_name}."
            )
        return files

    async def vnc_console(self, uuid: str) -> SerialConsole:
        """The running guest's VNC server: QEMU's unix socket (``vnc.sock``); q35/pc only."""
        files = self._display(uuid)
        return SerialConsole(host=self.host_name, path=str(files.vnc_socket))

    async def screenshot(self, uuid: str) -> bytes:
        """The guest's display as PNG, from QMP ``screendump`` (QEMU 7.1+ writes PNG)."""
        files = self._display(uuid)
        # QEMU writes the file itself: a name in the guest's own directory, never reused.
        target = files.path / f".screendump-{os.getpid()}-{time.monotonic_ns()}.png"
        try:
            await self._qmp(files, "screendump", filename=str(target), format="png")
            return await asyncio.to_thread(target.read_bytes)
        except (OSError, VirtError) as exc:
            raise ConsoleUnavailable(f"Screenshot of instance {uuid} failed: {exc}") from None
        finally:
            target.unlink(missing_ok=True)

    async def get_console_output(self, uuid: str, length: int | None = None) -> str:
        """The serial console log (its last ``length`` lines when given; at most 100 KiB)."""
        files = self._defined(uuid)
        try:
            with files.console_log.open("rb") as stream:
                stream.seek(max(0, files.console_log.stat().st_size - MAX_CONSOLE_BYTES))
                text = stream.read().decode(errors="replace")
        except FileNotFoundError:
            return ""
        if length is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-length:]) if length > 0 else ""
        return text

    async def diagnostics(self, uuid: str) -> GuestDiagnostics:
        """The running guest's statistics from QMP and ``/proc`` (:mod:`.diagnostics`).

        A guest whose QEMU does not run has no statistics: DiagnosticsUnavailable.
        """
        files = self._defined(uuid)
        boot = BootConfig.load(files.boot_config)
        pid = self._running_pid(files)
        if pid is None:
            raise DiagnosticsUnavailable(
                f"Unable to get diagnostics: instance {uuid} is not running on {self.host_name}."
            )
        async with self._lock(uuid), QMPSession(files.qmp) as qmp:
            status = await qmp.run("query-status")
            cpus = await qmp.run("query-cpus-fast")
            blockstats = await qmp.run("query-blockstats")
        power = _POWER_STATES.get(str(status.get("status", "")), NOSTATE)
        state = {RUNNING: "running", PAUSED: "paused", CRASHED: "crashed"}.get(power, "pending")
        return GuestDiagnostics(
            state=state,
            hypervisor="kvm" if boot.accel == "kvm" else "qemu",
            hypervisor_os="linux",
            uptime=diagnostics.uptime_of(pid),
            config_drive=files.config_drive.exists(),
            memory_details={"maximum": boot.memory_mb, "used": diagnostics.rss_mib(pid)},
            cpu_details=diagnostics.cpu_details(pid, list(cpus or [])),
            disk_details=diagnostics.disk_details(list(blockstats or [])),
            nic_details=diagnostics.nic_details(boot),
        )

    async def get_info(self, uuid: str) -> GuestInfo:
        """Power state (QMP ``query-status`` of the live QEMU), CPUs, memory, disk."""
        files = self._defined(uuid)
        boot = BootConfig.load(files.boot_config)
        state = SHUTDOWN
        if self._running_pid(files) is not None:
            async with self._lock(uuid):
                try:
                    state = _POWER_STATES.get(await self._status(files), NOSTATE)
                except VirtError:
                    state = NOSTATE if self._running_pid(files) else SHUTDOWN
        elif files.memory_state.exists():
            state = SUSPENDED
        return GuestInfo(
            power_state=state, vcpus=boot.vcpus, memory_mb=boot.memory_mb, disk_gb=boot.root_gb
        )

    def pid(self, uuid: str) -> int | None:
        """The pid of the guest's QEMU, when it runs."""
        return self._running_pid(self._files(uuid))

    async def list_instances(self) -> list[str]:
        """UUIDs of the guests defined on this host (running or not)."""
        if not self.instances_dir.exists():
            return []
        return sorted(
            entry.name
            for entry in self.instances_dir.iterdir()
            if (entry / "instance.json").exists()
        )
