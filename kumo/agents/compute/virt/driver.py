"""The virt driver interface the compute agent drives (Nova's ``ComputeDriver``).

A driver runs guests on one host. Every method is async (a real hypervisor does
I/O) and raises :class:`VirtError` with a readable message when it fails; the
agent turns that into the instance fault. The fake driver
(:mod:`kumo.agents.compute.virt.fake`) implements this for scale tests; the QEMU
driver will implement it for real guests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

# Nova's power states (nova.compute.power_state).
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7


class VirtError(Exception):
    """A driver operation failed; the message is shown to the user as the fault."""


class ImageUnusable(VirtError):
    """The guest's image (or a kernel/ramdisk image it names) cannot be booted anywhere.

    Nova's ``ImageNotFound``/``ImageUnacceptable``: the build is aborted (ERROR with
    this fault), not rescheduled to another host.
    """


class ConsoleUnavailable(VirtError):
    """The driver offers no console of the asked kind for this guest."""


class NoDisplay(ConsoleUnavailable):
    """The guest has no display (a microvm guest): no VNC console, no screenshot."""


class DiagnosticsUnavailable(VirtError):
    """The driver reports no diagnostics for this guest (Nova answers 501)."""


@dataclass
class GuestDiagnostics:
    """A guest's statistics in Nova's standard diagnostics shape (microversion 2.48).

    ``cpu_details``: ``{id, time (ns), utilisation}``; ``disk_details``: ``{read_bytes,
    read_requests, write_bytes, write_requests, errors_count}`` (plus ``name`` for the
    legacy format); ``nic_details``: ``{mac_address, rx_octets, …, tx_rate}`` (plus
    ``name``); ``memory_details``: ``{maximum, used}`` in MiB.
    """

    state: str
    hypervisor: str
    hypervisor_os: str | None
    uptime: int | None
    config_drive: bool
    memory_details: dict[str, int | None]
    cpu_details: list[dict[str, Any]] = field(default_factory=list)
    disk_details: list[dict[str, Any]] = field(default_factory=list)
    nic_details: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SerialConsole:
    """Where a guest's serial (or VNC) console is reached on its compute host.

    QEMU serves it on a unix socket (``path``); ``port`` is for a driver that
    serves it over TCP, as Nova's libvirt driver does.
    """

    host: str
    path: str | None = None
    port: int | None = None


@dataclass
class GuestSpec:
    """What the driver needs to build one guest (plain data from the conductor)."""

    uuid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    image: dict[str, Any] = field(default_factory=dict)
    ports: list[dict[str, Any]] = field(default_factory=list)
    user_data: str | None = None
    key_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    #: The guest's hostname (the server's, as Nova sanitises the name).
    hostname: str | None = None
    key_name: str | None = None
    project_id: str = ""
    flavor_name: str = ""
    ephemeral_gb: int = 0
    swap_mb: int = 0
    #: Attach a config drive (the server asked for one, or ``force_config_drive``).
    config_drive: bool = True


@dataclass
class HostResources:
    """What a host offers (reported as its compute node and Placement inventory)."""

    vcpus: int
    memory_mb: int
    local_gb: int
    hypervisor_type: str
    hypervisor_version: int
    hypervisor_hostname: str
    host_ip: str = "127.0.0.1"
    cpu_info: dict[str, Any] = field(default_factory=dict)


@dataclass
class GuestInfo:
    """A guest's state as the hypervisor sees it."""

    power_state: int
    vcpus: int
    memory_mb: int
    disk_gb: int = 0


class VirtDriver(ABC):
    """One host's hypervisor, as the compute agent uses it."""

    #: The ``hypervisor_type`` reported for the host (``fake``, ``QEMU``).
    hypervisor_type: str = ""
    #: The ``disk_format`` of the data :meth:`snapshot` returns.
    snapshot_format: str = "qcow2"

    @abstractmethod
    def host_resources(self) -> HostResources:
        """The host's capacity."""

    @abstractmethod
    async def spawn(self, guest: GuestSpec) -> None:
        """Create and start the guest (booklet step 28)."""

    @abstractmethod
    async def destroy(self, uuid: str) -> None:
        """Stop and remove the guest; a guest that does not exist is not an error."""

    @abstractmethod
    async def reboot(self, uuid: str, hard: bool) -> None:
        """Restart the guest (soft: ask the OS; hard: reset)."""

    @abstractmethod
    async def power_off(self, uuid: str) -> None:
        """Stop the guest, keeping it defined."""

    @abstractmethod
    async def power_on(self, uuid: str) -> None:
        """Start a stopped guest."""

    @abstractmethod
    async def pause(self, uuid: str) -> None:
        """Freeze the guest's vCPUs in memory."""

    @abstractmethod
    async def unpause(self, uuid: str) -> None:
        """Thaw a paused guest."""

    @abstractmethod
    async def suspend(self, uuid: str) -> None:
        """Save the guest's memory to disk and stop it."""

    @abstractmethod
    async def resume(self, uuid: str) -> None:
        """Restore a suspended guest."""

    @abstractmethod
    async def rescue(self, uuid: str) -> None:
        """Boot the guest from a rescue disk, its own disk attached."""

    @abstractmethod
    async def unrescue(self, uuid: str) -> None:
        """Boot the guest from its own disk again."""

    @abstractmethod
    async def snapshot(self, uuid: str) -> bytes:
        """The guest's root disk as image data."""

    @abstractmethod
    async def get_console_output(self, uuid: str) -> str:
        """The guest's serial console log."""

    async def serial_console(self, uuid: str) -> SerialConsole:
        """Where the running guest's serial console is; :class:`ConsoleUnavailable` if none."""
        raise ConsoleUnavailable(
            f"Serial console is not available: the {self.hypervisor_type or 'virt'} driver "
            "offers none."
        )

    async def vnc_console(self, uuid: str) -> SerialConsole:
        """Where the running guest's VNC server is; :class:`ConsoleUnavailable` if none."""
        raise ConsoleUnavailable(
            f"VNC console is not available: the {self.hypervisor_type or 'virt'} driver "
            "offers none."
        )

    async def screenshot(self, uuid: str) -> bytes:
        """The running guest's display as PNG; :class:`ConsoleUnavailable` if it has none."""
        raise ConsoleUnavailable(
            f"Screenshots are not available: the {self.hypervisor_type or 'virt'} driver "
            "offers none."
        )

    async def diagnostics(self, uuid: str) -> GuestDiagnostics:
        """The guest's statistics; :class:`DiagnosticsUnavailable` when the driver has none."""
        raise DiagnosticsUnavailable("Unable to get diagnostics, functionality not implemented")

    @abstractmethod
    async def get_info(self, uuid: str) -> GuestInfo:
        """The guest's state; raises :class:`VirtError` when it does not exist."""

    @abstractmethod
    async def list_instances(self) -> list[str]:
        """UUIDs of the guests defined on this host."""
