"""The network agent: bus endpoint on ``network-agent`` plus two reconcile loops.

Every ``<resource>_<action>`` cast from the API's notify hook (for example
``port_update``) only wakes a loop; the loop fetches the desired state and lets
:class:`~kumo.agents.network.plane.DataPlane` apply the difference, so events
can be lost, repeated or reordered without harm. A periodic resync
(``resync_interval``) repairs drift, and the first pass on start rebuilds
everything after a crash.

Security groups have a loop of their own. A full pass (seven API reads, then
bridges, DHCP, routers: dozens of ``ip`` and ``nft`` runs) took 0.2–2 s on a
busy 2-core host, and a rule change arriving during one (a guest's tap event,
a floating IP change, another cloud's guest) waited for its end and then for a
whole second pass: over a second, where issue 6 wants rules applied within one.
So ``security_group*`` events wake a loop of their own that reads only ports
and security groups and replaces only the security group tables, never waiting
for a full pass. Port events still go to the full pass (it applies security
groups first): a second loop reading every port on each port event halved the
API's port-create rate while the agent ran.
Both loops number their fetches; the plane never lets an older fetch's rules
replace a newer one's (:meth:`DataPlane.apply_security_groups`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from kumo.agents.network.linux import names
from kumo.agents.network.metadata_proxy import Instance, MetadataProxy
from kumo.agents.network.plane import DataPlane, HostConfig
from kumo.agents.network.report import Heartbeat
from kumo.agents.network.source import ApiStateSource
from kumo.agents.network.state import ROUTER_INTERFACE_OWNERS, DesiredState, is_guest_port
from kumo.agents.network.taps import watch_taps
from kumo.common.bus import Bus
from kumo.common.clients.base import ServiceSession
from kumo.common.config import Settings

log = logging.getLogger(__name__)

#: The bus topic the API's notify hook casts on.
TOPIC = "network-agent"
_EVENT = re.compile(
    r"^(network|subnet|subnetpool|port|router|floatingip|security_group|security_group_rule"
    r"|port_forwarding)_(create|update|delete|add_interface|remove_interface)$"
)
#: Resources nothing but the security group tables is made of: their events wake the
#: security group loop, not a full pass.
SECURITY_GROUP_ONLY = frozenset({"security_group", "security_group_rule"})


class NetworkAgent:
    """Keeps this host's data plane equal to the API's state."""

    def __init__(
        self,
        plane: DataPlane,
        fetch: Callable[[], Awaitable[DesiredState]],
        *,
        fetch_security_groups: Callable[[], Awaitable[DesiredState]] | None = None,
        proxy: MetadataProxy | None = None,
        resync_interval: float = 30.0,
        watch_guest_taps: bool = True,
    ) -> None:
        self.plane = plane
        self.watch_guest_taps = watch_guest_taps
        self.fetch = fetch
        #: Ports and security groups only (the security group loop's cheaper fetch).
        self.fetch_security_groups = fetch_security_groups or fetch
        self.proxy = proxy
        self.resync_interval = resync_interval
        #: Full passes done; security group passes are counted apart.
        self.passes = 0
        self.security_group_passes = 0
        self.last_changes: list[str] = []
        #: The desired state of the last reconcile (the heartbeat counts its resources).
        self.last_state: DesiredState | None = None
        self.heartbeat: Heartbeat | None = None
        self.events: list[str] = []
        self._wake = asyncio.Event()
        self._security_groups_wake = asyncio.Event()
        #: Set by the first full pass: it claims the tables the security group loop replaces.
        self._first_pass = asyncio.Event()
        self._lock = asyncio.Lock()
        self._security_groups_lock = asyncio.Lock()
        #: Numbers every fetch, in the order they start (see the module docstring).
        self._fetches = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._security_groups_task: asyncio.Task[None] | None = None
        self._taps_task: asyncio.Task[None] | None = None

    # The bus endpoint: any known "<resource>_<action>" wakes the loop(s) it concerns.

    def __getattr__(self, name: str) -> Callable[..., None]:
        event = _EVENT.match(name)
        if not event:
            raise AttributeError(name)
        resource = event.group(1)

        def notified(**payload: Any) -> None:
            self.events.append(name)
            if resource in SECURITY_GROUP_ONLY:
                self._security_groups_wake.set()
            else:
                self._wake.set()

        return notified

    def resync(self) -> None:
        """Ask for a full reconcile now (also callable over the bus)."""
        self._wake.set()

    async def reconcile(self) -> list[str]:
        """Fetch the desired state and apply the difference; what changed."""
        async with self._lock:
            fetch = next(self._fetches)
            state = await self.fetch()
            changes = await asyncio.to_thread(self.plane.apply, state, fetch=fetch)
            self._first_pass.set()
            self.last_state = state
            if self.proxy is not None:
                await self._sync_proxy(state)
            self.passes += 1
            self.last_changes = changes
            if changes:
                log.info("network agent applied %d change(s): %s", len(changes), changes[:10])
            return changes

    async def reconcile_security_groups(self) -> bool:
        """Fetch ports and security groups and apply only the security group tables.

        True when the tables changed (False: nothing to do, or a newer fetch was
        already applied).
        """
        async with self._security_groups_lock:
            fetch = next(self._fetches)
            state = await self.fetch_security_groups()
            changed = await asyncio.to_thread(self.plane.apply_security_groups, state, fetch=fetch)
            self.security_group_passes += 1
            if changed:
                log.info("network agent applied security groups (fetch %d)", fetch)
            return changed

    async def _sync_proxy(self, state: DesiredState) -> None:
        assert self.proxy is not None
        wanted: dict[str, dict[str, Instance]] = {}
        for router in state.routers:
            rid = str(router["id"])
            networks = {
                str(p["network_id"])
                for p in state.ports
                if p.get("device_id") == rid and p.get("device_owner") in ROUTER_INTERFACE_OWNERS
            }
            instances = {}
            for port in state.ports:
                if port["network_id"] in networks and is_guest_port(port):
                    project = str(port.get("project_id") or port.get("tenant_id") or "")
                    for fixed in port.get("fixed_ips", []):
                        instances[str(fixed["ip_address"])] = Instance(
                            str(port.get("device_id", "")), project
                        )
            wanted[names.router_namespace(rid)] = instances
        for netns in self.proxy.namespaces:
            if netns not in wanted:
                await self.proxy.stop_serving(netns)
        for netns, instances in wanted.items():
            try:
                await self.proxy.serve(netns)
            except OSError:
                log.warning("metadata proxy cannot listen in %s", netns, exc_info=True)
                continue
            self.proxy.set_instances(netns, instances)

    async def _loop(
        self,
        what: str,
        wake: asyncio.Event,
        work: Callable[[], Awaitable[object]],
        idle: float | None,
    ) -> None:
        """Run ``work`` whenever ``wake`` is set, and every ``idle`` seconds (None: never)."""
        failures = 0
        while True:
            # After a failed pass, try again soon (1, 2, 4 … s, at most the resync
            # interval): a booting guest's tap must not wait for the next resync.
            timeout = min(2.0 ** (failures - 1), self.resync_interval) if failures else idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)
            wake.clear()
            started = time.monotonic()
            try:
                await work()
                failures = 0
            except Exception:
                failures += 1
                log.exception("network %s failed (%d in a row); retrying", what, failures)
            log.debug("%s took %.3fs", what, time.monotonic() - started)

    async def _security_groups_loop(self) -> None:
        # The first full pass claims (records) the tables before anything makes them.
        await self._first_pass.wait()
        await self._loop(
            "security group reconcile",
            self._security_groups_wake,
            self.reconcile_security_groups,
            None,  # drift is the full pass's to repair
        )

    def start(self) -> None:
        """Start the loop; its first pass runs at once."""
        if self._task is None:
            self._wake.set()
            self._task = asyncio.create_task(
                self._loop("reconcile", self._wake, self.reconcile, self.resync_interval),
                name="kumo network agent",
            )
        if self._security_groups_task is None:
            self._security_groups_task = asyncio.create_task(
                self._security_groups_loop(), name="kumo network agent security groups"
            )
        if self.watch_guest_taps and self._taps_task is None:
            # A guest's tap appears when QEMU starts, after the port events: plug it now.
            self._taps_task = asyncio.create_task(
                watch_taps(self._wake.set), name="kumo network agent taps"
            )

    async def stop(self) -> None:
        """Stop the loop (the data plane stays as it is: guests keep their network)."""
        if self.heartbeat is not None:
            await self.heartbeat.stop()
        if self._taps_task is not None:
            self._taps_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._taps_task
            self._taps_task = None
        for task in (self._security_groups_task, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._security_groups_task = None
        if self.proxy is not None:
            await self.proxy.close()


async def start_network_agent(
    settings: Settings,
    bus: Bus | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    metadata_url: str | None = None,
    resync_interval: float | None = None,
) -> NetworkAgent:
    """Build the network agent of this host, serve it on ``network-agent`` and start it.

    The desired state comes from the Networking API through the service session;
    the metadata proxy forwards to ``metadata_url`` (default: the API server's
    ``/metadata`` path) signing with ``metadata_proxy_shared_secret``, through
    ``transport`` when given (in process, as the desired state is read).
    ``network_agent_mode = compute`` (a second host) runs no proxy, DHCP or
    routers. Without a ``bus`` (role network on another host) the agent learns
    API changes at each resync (``network_agent_resync_interval``).
    """
    network_node = settings.network_agent_mode == "all"
    session = ServiceSession(settings, transport=transport)
    source = ApiStateSource(session, settings.compute_host, network_node=network_node)
    proxy = None
    if network_node:
        proxy = MetadataProxy(
            metadata_url or f"{settings.public_url}/metadata",
            settings.metadata_proxy_shared_secret_value(),
            transport=transport,
        )
    host = HostConfig(
        vxlan_local_ip=settings.network_tunnel_ip,
        host=settings.compute_host,
        mode=settings.network_agent_mode,
    )
    agent = NetworkAgent(
        # Security groups in tables of this cloud's own: other clouds on the host keep theirs.
        DataPlane(settings.state_dir, host, isolate_security_groups=True),
        source.fetch,
        fetch_security_groups=source.fetch_security_groups,
        proxy=proxy,
        resync_interval=resync_interval or settings.network_agent_resync_interval,
    )
    if bus is not None:
        # The API casts on the cloud's own prefixed topic (clouds may share a broker).
        await bus.serve(settings.bus_topic_prefix + TOPIC, agent)
    agent.start()
    # GET /v2.0/agents shows this host's agents, alive while the heartbeat goes on.
    agent.heartbeat = Heartbeat(
        session,
        settings.compute_host,
        lambda: agent.last_state,
        interval=settings.network_agent_report_interval,
        metadata_url=metadata_url or f"{settings.public_url}/metadata",
        network_node=network_node,
        tunneling_ip=settings.network_tunnel_ip,
    )
    agent.heartbeat.start()
    return agent


async def run_network_agent(settings: Settings, stop: asyncio.Event) -> None:
    """Run this host's network agent alone (role ``network``) until ``stop`` is set.

    It needs only HTTP to the API at ``public_url`` (no bus, no database), so it
    runs on a second host, e.g. ``network_agent_mode = compute`` with its
    ``network_tunnel_ip``. The data plane stays when it stops: guests keep their
    network.
    """
    agent = await start_network_agent(settings, None)
    try:
        await stop.wait()
    finally:
        await agent.stop()
