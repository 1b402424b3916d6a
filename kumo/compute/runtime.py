"""The compute control plane in one process: bus, scheduler, conductor, compute agents.

``kumo serve --role all`` runs every piece inside the API process (the root
app's lifespan starts a :class:`ComputeRuntime` with the in-process bus);
``--role scheduler|conductor|compute`` run one piece each, talking over
RabbitMQ. The API side only needs the :class:`~kumo.compute.rpcapi.ComputeAPI`.

Compute hosts (one, or ``fake_hosts`` simulated ones) register themselves —
service record, compute node, Placement resource provider and inventory — and
then heartbeat every ``host_heartbeat_interval`` seconds. Under ``kumo serve``
they register at start; in a test app they register on the first scheduling
request (:meth:`ComputeRuntime.ensure_registered`), so tests that never boot
a server see no compute host appear.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx

from kumo.agents.compute.image_source import ServiceImageSource
from kumo.agents.compute.manager import ComputeManager
from kumo.agents.compute.virt.driver import VirtDriver
from kumo.agents.compute.virt.fake import FakeDriver
from kumo.agents.compute.virt.qemu import QemuDriver
from kumo.agents.compute.virt.qemu.images import ImageSource
from kumo.common.bus import Bus, Consumer, get_bus
from kumo.common.clients.base import ServiceSession
from kumo.common.clients.image import ImageClient
from kumo.common.clients.network import NetworkClient
from kumo.common.clients.placement import PlacementClient
from kumo.common.config import Settings
from kumo.common.context import RequestContext
from kumo.common.db import Database
from kumo.compute import dbwork, reconcile
from kumo.compute.conductor.manager import ConductorManager
from kumo.compute.conductor.rpcapi import ConductorAPI
from kumo.compute.rpcapi import CONDUCTOR_TOPIC, SCHEDULER_TOPIC, ComputeAPI, compute_topic
from kumo.compute.scheduler.manager import SchedulerManager
from kumo.compute.service import hosts as host_records
from kumo.guest.image import GuestImageError, load_guest_image

log = logging.getLogger(__name__)

#: Pieces a process can run.
PIECES = frozenset({"scheduler", "conductor", "compute"})
#: Competing consumers per control-plane topic in one process (each takes one
#: message at a time, so several let concurrent boots proceed).
SCHEDULER_CONSUMERS = 4
CONDUCTOR_CONSUMERS = 16
#: Seconds between registration retries while a service (Placement) is not up yet.
REGISTER_RETRY = 2.0
#: How many hosts register at the same time.
REGISTER_CONCURRENCY = 10
#: Each compute host's driver and accelerator, for ``kumo status`` (in the state dir).
HOST_STATUS_FILE = "compute-hosts.json"


def resolve_virt_driver(settings: Settings) -> tuple[str, str]:
    """(driver, why) for ``settings.virt_driver``: ``auto`` becomes ``qemu`` or ``fake``.

    ``auto`` picks QEMU when ``qemu-system-x86_64`` and ``qemu-img`` are installed and
    the guest image is built in the state dir (``kumo up`` and ``kumo image build``
    build it); otherwise the fake driver, with the reason.
    """
    wanted = settings.virt_driver
    if wanted in ("qemu", "fake"):
        return wanted, f"virt_driver = {wanted!r}"
    if wanted != "auto":
        raise ValueError(f"unknown virt_driver {wanted!r}; known: auto, qemu, fake")
    for tool in ("qemu-system-x86_64", "qemu-img"):
        if shutil.which(tool) is None:
            return "fake", f"{tool} is not installed (apt-get install qemu-system-x86 qemu-utils)"
    try:
        load_guest_image(guest_image_dir(settings))
    except GuestImageError as exc:
        return "fake", str(exc)
    return "qemu", "qemu-system-x86_64 and the guest image are present"


def guest_image_dir(settings: Settings) -> Path:
    """Where ``kumo image build`` puts the guest kernel and initramfs."""
    return settings.state_dir / "guest"


def host_names(settings: Settings, driver: str | None = None) -> list[str]:
    """The compute hosts this process runs: one, or ``fake_hosts`` simulated ones."""
    driver = driver or resolve_virt_driver(settings)[0]
    if driver == "fake" and settings.fake_hosts > 1:
        return [f"{settings.compute_host}-{i}" for i in range(1, settings.fake_hosts + 1)]
    return [settings.compute_host]


def make_driver(
    settings: Settings,
    host: str,
    *,
    driver: str | None = None,
    image_source: ImageSource | None = None,
) -> VirtDriver:
    """The virt driver ``settings.virt_driver`` names (``auto`` resolved), for ``host``."""
    driver = driver or resolve_virt_driver(settings)[0]
    if driver == "fake":
        return FakeDriver(
            host,
            vcpus=settings.fake_host_vcpus,
            memory_mb=settings.fake_host_memory_mb,
            local_gb=settings.fake_host_disk_gb,
        )
    if driver == "qemu":
        return QemuDriver.from_settings(settings, host, image_source=image_source)
    raise ValueError(f"unknown virt_driver {driver!r}; known: auto, qemu, fake")


def write_host_status(settings: Settings, agents: Iterable[ComputeManager], why: str) -> None:
    """``<state_dir>/compute-hosts.json``: each host's driver and accelerator (``kumo status``)."""
    hosts: dict[str, Any] = {}
    for agent in agents:
        res = agent.driver.host_resources()
        hosts[agent.host] = {
            "hypervisor_type": res.hypervisor_type,
            "accelerator": res.cpu_info.get("accelerator"),
            "accelerator_reason": res.cpu_info.get("accelerator_reason"),
            "driver_reason": why,
        }
    path = settings.state_dir / HOST_STATUS_FILE
    with suppress(OSError):
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(hosts, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, path)


class ComputeRuntime:
    """The bus and whichever of scheduler, conductor and compute agents this process runs."""

    def __init__(
        self,
        settings: Settings,
        db: Database | None,
        *,
        pieces: Iterable[str] = PIECES,
        transport: httpx.AsyncBaseTransport | None = None,
        register_at_start: bool = True,
    ) -> None:
        self.settings = settings
        self.db = db
        self.pieces = set(pieces)
        unknown = self.pieces - PIECES
        if unknown:
            raise ValueError(f"unknown pieces {sorted(unknown)}")
        self.transport = transport
        self.register_at_start = register_at_start
        self.prefix = settings.bus_topic_prefix
        self.bus: Bus = get_bus(settings.transport_url)
        self.compute_rpc = ComputeAPI(self.bus, topic_prefix=self.prefix)
        self.agents: dict[str, ComputeManager] = {}
        self.consumers: list[Consumer] = []
        self.session: ServiceSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._registered = asyncio.Event()
        self._registering: asyncio.Task[None] | None = None
        self.driver_name = ""
        self.driver_reason = ""

    async def start(self) -> None:
        """Connect the bus, serve the pieces' topics, start the hosts' periodic tasks."""
        await self.bus.start()
        if not self.pieces:
            return
        # Each service call is already logged once by the serving side (kumo.web).
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.session = ServiceSession(self.settings, transport=self.transport)
        placement = PlacementClient(self.session)
        image = ImageClient(self.session)
        if ("scheduler" in self.pieces or "conductor" in self.pieces) and self.db is None:
            raise ValueError("the scheduler and conductor need the database")
        if "scheduler" in self.pieces:
            assert self.db is not None
            scheduler = SchedulerManager(
                self.db, self.settings, self.bus, placement, image, topic_prefix=self.prefix
            )
            if "compute" in self.pieces:
                scheduler.before_scheduling = self.ensure_registered
            for _ in range(SCHEDULER_CONSUMERS):
                self.consumers.append(
                    await self.bus.serve(self.prefix + SCHEDULER_TOPIC, scheduler)
                )
        if "conductor" in self.pieces:
            assert self.db is not None
            conductor = ConductorManager(self.db, self.settings, self.bus, topic_prefix=self.prefix)
            for _ in range(CONDUCTOR_CONSUMERS):
                self.consumers.append(
                    await self.bus.serve(self.prefix + CONDUCTOR_TOPIC, conductor)
                )
        for piece in ("scheduler", "conductor"):
            if piece in self.pieces:
                # Like Nova's, they are services of their own in os-services and
                # os-hosts (zone "internal"), up while their heartbeat is recent.
                await self._report_service(f"nova-{piece}")  # listed once start() returns
                self._tasks.append(asyncio.create_task(self._service_heartbeat(f"nova-{piece}")))
        if "compute" in self.pieces:
            conductor_api = ConductorAPI(self.bus, topic_prefix=self.prefix)
            network = NetworkClient(self.session)
            self.driver_name, self.driver_reason = resolve_virt_driver(self.settings)
            source = ServiceImageSource(self.session)
            for host in host_names(self.settings, self.driver_name):
                agent = ComputeManager(
                    host,
                    make_driver(self.settings, host, driver=self.driver_name, image_source=source),
                    conductor_api,
                    self.settings,
                    placement=placement,
                    image=image,
                    network=network,
                    bus=self.bus,
                    topic_prefix=self.prefix,
                )
                self.agents[host] = agent
                self.consumers.append(await self.bus.serve(compute_topic(host, self.prefix), agent))
            if self.driver_name == "fake":
                log.warning(
                    "compute: %d host(s) on the FAKE virt driver (%s): servers go ACTIVE but "
                    "no guest runs",
                    len(self.agents),
                    self.driver_reason,
                )
            else:
                log.info("compute: QEMU virt driver (%s)", self.driver_reason)
            if self.register_at_start:
                self._registering = asyncio.create_task(self._register_all())
        reconcile.start(self)  # servers a crash left mid-work: ERROR, finished or released

    def image_lookup(self) -> Callable[[RequestContext, str], Awaitable[dict[str, Any]]]:
        """Image metadata with the caller's token, through this runtime's session.

        In the all-in-one process it reaches the image API without a network hop
        (the servers API uses it as its ``image_lookup``).
        """
        if self.session is None:
            self.session = ServiceSession(self.settings, transport=self.transport)
        client = ImageClient(self.session)

        async def lookup(ctx: RequestContext, image_id: str) -> dict[str, Any]:
            return await client.get_image(image_id, user_token=ctx.token_id)

        return lookup

    async def ensure_registered(self, timeout: float = 60.0) -> None:
        """Register this process's compute hosts now (once) and wait until they are."""
        if not self.agents:
            return
        if self._registering is None:
            self._registering = asyncio.create_task(self._register_all())
        await asyncio.wait_for(asyncio.shield(self._registered.wait()), timeout)

    async def _register_all(self) -> None:
        limit = asyncio.Semaphore(REGISTER_CONCURRENCY)

        async def one(agent: ComputeManager) -> None:
            async with limit:
                # Re-adopt the guests an earlier agent left (and probe KVM) before the
                # first resource report; the probe can take seconds.
                try:
                    await agent.init_host()
                except Exception:
                    log.exception("compute host %s: init_host failed", agent.host)
                while True:
                    try:
                        await agent.register()
                        await agent.sync_power_states()
                        return
                    except Exception as exc:
                        log.warning(
                            "compute host %s could not register yet (%s); retrying",
                            agent.host,
                            exc,
                        )
                        await asyncio.sleep(REGISTER_RETRY)

        await asyncio.gather(*(one(a) for a in self.agents.values()))
        self._registered.set()
        log.info("compute: %d host(s) registered", len(self.agents))
        if self.register_at_start:
            # Only a served cloud (not a test app) owns its state dir's status file.
            await asyncio.to_thread(
                write_host_status,
                self.settings,
                list(self.agents.values()),
                self.driver_reason,
            )
        if self.driver_name != "fake":  # fake guests never change state on their own
            self._tasks.append(
                asyncio.create_task(
                    self._every(self.settings.sync_power_state_interval, "sync_power_states")
                )
            )
        self._tasks.append(
            asyncio.create_task(self._every(self.settings.host_heartbeat_interval, "heartbeat"))
        )
        self._tasks.append(
            asyncio.create_task(
                self._every(self.settings.resource_report_interval, "report_resources")
            )
        )

    async def _report_service(self, binary: str) -> None:
        assert self.db is not None
        host = self.settings.compute_host
        try:
            await dbwork.write(
                self.db,
                lambda s: host_records.report_service(s, host, binary, host_records.INTERNAL_ZONE),
            )
        except Exception as exc:  # the database is down: os-services shows the service down
            log.warning("%s on %s: heartbeat failed: %s", binary, host, exc)

    async def _service_heartbeat(self, binary: str) -> None:
        while True:
            await asyncio.sleep(self.settings.host_heartbeat_interval)
            await self._report_service(binary)

    async def _every(self, interval: float, method: str) -> None:
        while True:
            await asyncio.sleep(interval)
            for agent in list(self.agents.values()):
                try:
                    await getattr(agent, method)()
                except Exception as exc:
                    log.warning("compute host %s: %s failed: %s", agent.host, method, exc)

    async def stop(self) -> None:
        """Stop the periodic tasks and consumers, close the bus and the HTTP session."""
        tasks: list[asyncio.Task[Any]] = list(self._tasks)
        if self._registering is not None:
            tasks.append(self._registering)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self.bus.close(grace=2.0)
        if self.session is not None:
            await self.session.close()


def find_runtime(app: Any) -> ComputeRuntime | None:
    """The runtime of an app built by :func:`kumo.app.build_app` (for tests and tools)."""
    seen = 0
    while app is not None and seen < 10:
        state = getattr(app, "state", None)
        runtime = getattr(state, "compute_runtime", None) if state is not None else None
        if isinstance(runtime, ComputeRuntime):
            return runtime
        app = getattr(app, "app", None)
        seen += 1
    return None
