"""The fake virt driver (like Nova's ``nova.virt.fake``): for scale tests; runs no guest.

Every operation only changes an in-memory record and returns at once, so one
process can simulate hundreds of compute hosts (``fake_hosts``). The host it
reports has ``hypervisor_type`` ``fake``, so nobody mistakes its "servers" for
real machines. Tests make operations fail with :attr:`FakeDriver.fail`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from kumo.agents.compute.virt.driver import (
    PAUSED,
    RUNNING,
    SHUTDOWN,
    SUSPENDED,
    ConsoleUnavailable,
    GuestDiagnostics,
    GuestInfo,
    GuestSpec,
    HostResources,
    SerialConsole,
    VirtDriver,
    VirtError,
)

log = logging.getLogger(__name__)


@dataclass
class _FakeGuest:
    spec: GuestSpec
    power_state: int = RUNNING
    console: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


class FakeDriver(VirtDriver):
    """An in-memory hypervisor for scale tests: it runs no guest."""

    hypervisor_type = "fake"
    snapshot_format = "raw"

    def __init__(
        self, host: str, *, vcpus: int = 16, memory_mb: int = 32768, local_gb: int = 1024
    ) -> None:
        self.host = host
        self.vcpus = vcpus
        self.memory_mb = memory_mb
        self.local_gb = local_gb
        self.guests: dict[str, _FakeGuest] = {}
        #: Operation name → error message: that operation raises VirtError (for tests).
        self.fail: dict[str, str] = {}

    def _check(self, operation: str) -> None:
        if operation in self.fail:
            raise VirtError(self.fail[operation])

    def _guest(self, uuid: str) -> _FakeGuest:
        guest = self.guests.get(uuid)
        if guest is None:
            raise VirtError(f"Instance {uuid} could not be found on host {self.host}.")
        return guest

    def _set(self, uuid: str, operation: str, power_state: int) -> None:
        self._check(operation)
        guest = self._guest(uuid)
        guest.power_state = power_state
        guest.console.append(f"[fake] {operation}")

    def host_resources(self) -> HostResources:
        """The configured capacity of the simulated host."""
        return HostResources(
            vcpus=self.vcpus,
            memory_mb=self.memory_mb,
            local_gb=self.local_gb,
            hypervisor_type=self.hypervisor_type,
            hypervisor_version=1000,
            hypervisor_hostname=self.host,
            cpu_info={"arch": "x86_64", "model": "fake", "vendor": "kumo", "note": "no guests"},
        )

    async def spawn(self, guest: GuestSpec) -> None:
        """Record the guest as running (no guest is started)."""
        self._check("spawn")
        # A few lines, each saying what this is: clients (tempest's console tests among
        # them) page through console output by line count.
        self.guests[guest.uuid] = _FakeGuest(
            spec=guest,
            console=[
                f"[fake] {guest.name} ({guest.uuid}) booted; no guest runs",
                f"[fake] host {self.host} runs Kumo's FAKE virt driver (for scale tests)",
                f"[fake] flavor: {guest.vcpus} vCPU, {guest.memory_mb} MiB, {guest.root_gb} GiB",
                f"[fake] ports: {len(guest.ports)}; no kernel, no init, no network traffic",
                "[fake] the server's actions are listed below as they happen",
            ],
        )
        log.debug("fake driver on %s: spawned %s (no guest runs)", self.host, guest.uuid)

    async def destroy(self, uuid: str) -> None:
        """Forget the guest."""
        self._check("destroy")
        self.guests.pop(uuid, None)

    async def reboot(self, uuid: str, hard: bool) -> None:
        """Mark the guest running again."""
        self._set(uuid, "hard reboot" if hard else "reboot", RUNNING)

    async def power_off(self, uuid: str) -> None:
        """Mark the guest shut down."""
        self._set(uuid, "power_off", SHUTDOWN)

    async def power_on(self, uuid: str) -> None:
        """Mark the guest running."""
        self._set(uuid, "power_on", RUNNING)

    async def pause(self, uuid: str) -> None:
        """Mark the guest paused."""
        self._set(uuid, "pause", PAUSED)

    async def unpause(self, uuid: str) -> None:
        """Mark the guest running."""
        self._set(uuid, "unpause", RUNNING)

    async def suspend(self, uuid: str) -> None:
        """Mark the guest suspended."""
        self._set(uuid, "suspend", SUSPENDED)

    async def resume(self, uuid: str) -> None:
        """Mark the guest running."""
        self._set(uuid, "resume", RUNNING)

    async def rescue(self, uuid: str) -> None:
        """Mark the guest running (from a rescue disk that does not exist)."""
        self._set(uuid, "rescue", RUNNING)

    async def unrescue(self, uuid: str) -> None:
        """Mark the guest running."""
        self._set(uuid, "unrescue", RUNNING)

    async def snapshot(self, uuid: str) -> bytes:
        """A few bytes standing for the root disk (no disk exists)."""
        self._check("snapshot")
        guest = self._guest(uuid)
        return f"kumo fake driver snapshot of {guest.spec.uuid}\n".encode()

    async def get_console_output(self, uuid: str) -> str:
        """The lines the fake driver logged for the guest."""
        self._check("get_console_output")
        return "\n".join(self._guest(uuid).console) + "\n"

    async def serial_console(self, uuid: str) -> SerialConsole:
        """Never available: the fake driver runs no guest, so there is no console to reach."""
        self._guest(uuid)
        raise ConsoleUnavailable(
            f"Serial console is not available: instance {uuid} runs on the fake virt driver "
            f"(host {self.host}), which runs no guest."
        )

    async def vnc_console(self, uuid: str) -> SerialConsole:
        """A VNC console with nothing behind it, like Nova's fake driver's.

        The API can hand out a URL (its format is what API tests check); the proxy
        finds no socket to connect to and closes the websocket with the reason.
        """
        self._guest(uuid)
        return SerialConsole(host=self.host, path=None)

    async def diagnostics(self, uuid: str) -> GuestDiagnostics:
        """Labelled fake numbers (hypervisor ``fake``): the guest's shape, zero activity.

        CPUs, memory, disks and NICs are the guest's as asked for; every counter is 0
        because nothing runs. Only ``uptime`` is measured (since the fake spawn).
        """
        self._check("diagnostics")
        guest = self._guest(uuid)
        spec = guest.spec
        state = {RUNNING: "running", PAUSED: "paused", SUSPENDED: "suspended"}
        disks = ["vda"] + (["vdb"] if spec.ephemeral_gb else [])
        zero_disk = dict.fromkeys(
            ("read_bytes", "read_requests", "write_bytes", "write_requests", "errors_count"), 0
        )
        nic_counters = ("rx_octets", "rx_errors", "rx_drop", "rx_packets", "rx_rate",
                        "tx_octets", "tx_errors", "tx_drop", "tx_packets", "tx_rate")  # fmt: skip
        return GuestDiagnostics(
            state=state.get(guest.power_state, "shutdown"),
            hypervisor="fake",
            hypervisor_os="fake",
            uptime=int(time.monotonic() - guest.started),
            config_drive=spec.config_drive,
            memory_details={"maximum": spec.memory_mb, "used": 0},
            cpu_details=[{"id": n, "time": 0, "utilisation": 0} for n in range(spec.vcpus)],
            disk_details=[{"name": d, **zero_disk} for d in disks],
            nic_details=[
                {
                    "name": f"fake{n}",
                    "mac_address": port.get("mac_address"),
                    **dict.fromkeys(nic_counters, 0),
                }
                for n, port in enumerate(spec.ports)
            ],
        )

    async def get_info(self, uuid: str) -> GuestInfo:
        """The recorded power state."""
        guest = self._guest(uuid)
        return GuestInfo(
            guest.power_state, guest.spec.vcpus, guest.spec.memory_mb, guest.spec.root_gb
        )

    async def list_instances(self) -> list[str]:
        """UUIDs of the recorded guests."""
        return list(self.guests)
