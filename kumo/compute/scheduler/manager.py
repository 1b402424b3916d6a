"""The scheduler's bus endpoint (topic ``scheduler``): booklet steps 9–12.

For each instance: build its :class:`RequestSpec` from the database, ask
Placement for allocation candidates, run the filters and weighers over the
candidate hosts, claim the allocation in Placement on the best host (the next
one when the claim loses a race: 409), record the host, and cast
``build_and_run_instance`` to ``compute.<host>``. No host left: the instance
goes to ERROR with Nova's fault ("No valid host was found. …", code 500).
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback as tb
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from kumo.common import errors
from kumo.common.bus import Bus
from kumo.common.clients.image import ImageClient
from kumo.common.clients.placement import PlacementClient, provider_uuid
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.faults import fault_point
from kumo.compute import dbwork, journey
from kumo.compute.db.instances import Instance
from kumo.compute.rpcapi import compute_topic
from kumo.compute.scheduler.filters import run_filters
from kumo.compute.scheduler.state import HostState, RequestSpec
from kumo.compute.scheduler.weights import weigh, weighers_from
from kumo.compute.service import hosts as hosts_service
from kumo.compute.service import instance_actions, server_groups, servers

log = logging.getLogger(__name__)

#: How long image properties are reused between scheduling requests (seconds).
IMAGE_CACHE_SECONDS = 30.0

NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


class NoValidHost(Exception):
    """No host passed the filters or could be claimed."""


def request_spec(view: dict[str, Any], group: dict[str, Any] | None) -> RequestSpec:
    """The scheduling request of an instance (``instance_view_for_agent`` data)."""
    flavor = view.get("flavor") or {}
    spec = RequestSpec(
        instance_uuid=view["uuid"],
        project_id=view["project_id"],
        user_id=view["user_id"],
        vcpus=int(flavor.get("vcpus", view.get("vcpus") or 1)),
        memory_mb=int(flavor.get("memory_mb", view.get("memory_mb") or 0)),
        root_gb=int(flavor.get("root_gb", view.get("root_gb") or 0)),
        ephemeral_gb=int(flavor.get("ephemeral_gb", view.get("ephemeral_gb") or 0)),
        swap_mb=int(flavor.get("swap") or 0),
        extra_specs={str(k): str(v) for k, v in (flavor.get("extra_specs") or {}).items()},
        availability_zone=view.get("availability_zone") or None,
        force_host=view.get("requested_host") or None,
    )
    if group:
        spec.group_policy = group["policy"]
        spec.group_max_per_host = int(group.get("max_server_per_host") or 1)
        spec.group_hosts = dict(group["hosts"])
    return spec


def host_states(
    hosts: list[hosts_service.HostState], candidates: dict[str, Any]
) -> list[HostState]:
    """Candidate hosts (up and enabled, with a Placement allocation request) as HostStates."""
    requests: dict[str, dict[str, Any]] = {}
    for req in candidates.get("allocation_requests", []):
        allocations = req.get("allocations", {})
        if len(allocations) == 1:  # one provider: a compute host's own inventory
            requests.setdefault(next(iter(allocations)), req)
    summaries = candidates.get("provider_summaries", {})
    out = []
    for host in hosts:
        rp = provider_uuid(host.host)
        if rp not in requests:
            continue
        res = summaries.get(rp, {}).get("resources", {})

        def free(rc: str, res: dict[str, Any] = res) -> float:
            item = res.get(rc) or {}
            return float(item.get("capacity", 0)) - float(item.get("used", 0))

        metadata: dict[str, set[str]] = {}
        for agg in host.aggregates:
            for key, value in agg.items():
                metadata.setdefault(key, set()).add(value)
        out.append(
            HostState(
                host=host.host,
                node=host.nodename,
                rp_uuid=rp,
                zone=host.zone,
                hypervisor_type=host.hypervisor_type,
                aggregate_metadata=metadata,
                free_vcpus=free("VCPU"),
                free_ram_mb=free("MEMORY_MB"),
                free_disk_gb=free("DISK_GB"),
                allocation_request=requests[rp],
            )
        )
    return out


class SchedulerManager:
    """Places instances on compute hosts (the ``scheduler`` topic's endpoint)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        bus: Bus,
        placement: PlacementClient,
        image: ImageClient,
        *,
        topic_prefix: str = "",
        name: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.bus = bus
        self.placement = placement
        self.image = image
        self.prefix = topic_prefix
        self.name = name or settings.compute_host
        self._images: dict[str, tuple[float, dict[str, Any]]] = {}
        #: Awaited before each request (role "all": the local hosts register first).
        self.before_scheduling: Callable[[], Awaitable[None]] | None = None

    # ----- database reads and writes (in threads: the bus loop must not block) --------

    def _load(self, uuid: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        with self.db.reader() as s:
            view = servers.instance_view_for_agent(s, uuid)
            group = server_groups.group_of(s, uuid)
            if group is None:
                return view, None
            others = [m for m in server_groups.members(s, group.id) if m != uuid]
            counts: dict[str, int] = {}
            if others:
                rows = s.execute(
                    select(Instance.host).where(
                        Instance.uuid.in_(others),
                        Instance.deleted.is_(False),
                        Instance.host.is_not(None),
                    )
                )
                for (host,) in rows:
                    if host:
                        counts[host] = counts.get(host, 0) + 1
            rules = dict(group.rules or {})
            return view, {
                "policy": group.policy,
                "max_server_per_host": rules.get("max_server_per_host", 1),
                "hosts": counts,
            }

    def _hosts(self) -> list[hosts_service.HostState]:
        with self.db.reader() as s:
            return hosts_service.hosts_for_scheduling(s, down_time=self.settings.service_down_time)

    async def _db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await dbwork.write(self.db, lambda s: fn(s, *args, **kwargs))

    async def _event_start(self, uuid: str, request_id: str, event: str) -> None:
        try:
            await self._db(instance_actions.event_start, uuid, request_id, event, self.name)
        except errors.NotFound:
            log.warning("no action %s on %s to record %s under", request_id, uuid, event)

    async def _event_finish(
        self, uuid: str, request_id: str, event: str, result: str = "Success", **kw: Any
    ) -> None:
        try:
            await self._db(instance_actions.event_finish, uuid, request_id, event, result, **kw)
        except errors.NotFound:
            log.warning("no action %s on %s to record %s under", request_id, uuid, event)

    # ----- choosing a host ---------------------------------------------------------------

    async def _image_properties(self, view: dict[str, Any]) -> dict[str, Any]:
        image_ref = view.get("image_ref")
        if not image_ref:
            return {}
        # Many servers boot the same image at once: its properties are kept briefly.
        cached = self._images.get(image_ref)
        now = time.monotonic()
        if cached is not None and now - cached[0] < IMAGE_CACHE_SECONDS:
            return cached[1]
        try:
            image = await self.image.get_image(image_ref)
        except errors.KumoError:
            return {}  # the compute host reports a missing image clearly
        if len(self._images) > 1000:
            self._images.clear()
        self._images[image_ref] = (now, image)
        return image

    async def _select(
        self, spec: RequestSpec, existing: dict[str, Any] | None = None
    ) -> tuple[HostState, list[str]]:
        """Filter, weigh and claim; the host claimed and the filter notes."""
        candidates = await self.placement.allocation_candidates(spec.resources())
        hosts = host_states(await asyncio.to_thread(self._hosts), candidates)
        passed, notes = run_filters(hosts, spec)
        ranked = weigh(passed, spec, weighers_from(self.settings))
        for _, host in ranked:
            allocations = dict(host.allocation_request.get("allocations", {}))
            generation = None
            if existing is not None:
                generation = existing.get("consumer_generation")
                for rp, alloc in (existing.get("allocations") or {}).items():
                    allocations.setdefault(rp, {"resources": alloc["resources"]})
            if await self._claim(spec, allocations, generation):
                return host, notes
            notes.append(f"claim on {host.host} lost a race")
        raise NoValidHost("; ".join(notes) or "no compute host offers the resources")

    async def _claim(
        self, spec: RequestSpec, allocations: dict[str, Any], generation: int | None
    ) -> bool:
        for _ in range(3):
            try:
                await self.placement.claim(
                    spec.instance_uuid,
                    allocations,
                    spec.project_id,
                    spec.user_id,
                    consumer_generation=generation,
                )
                return True
            except errors.Conflict as exc:
                message = (exc.message or "").lower()
                if "consumer" in message:
                    # The consumer exists already (a reschedule): claim with its generation.
                    current = await self.placement.get_allocations(spec.instance_uuid)
                    generation = current.get("consumer_generation")
                elif "generation" not in message:
                    return False  # the host filled up meanwhile: try the next one
                # else another claim on the provider raced this one: try again
        return False

    # ----- bus methods -------------------------------------------------------------------

    async def schedule_and_build(
        self,
        context: dict[str, Any],
        instance_uuids: list[str],
        request_id: str,
        ignore_hosts: list[str] | None = None,
        attempt: int = 1,
    ) -> dict[str, str | None]:
        """Place each instance and cast its build; instance uuid → host (None: ERROR)."""
        if self.before_scheduling is not None:
            try:
                await self.before_scheduling()
            except Exception as exc:
                log.warning("local compute hosts are not registered: %s", exc)
        placed: dict[str, str | None] = {}
        for uuid in instance_uuids:
            placed[uuid] = await self._schedule_one(
                context, uuid, request_id, list(ignore_hosts or []), attempt
            )
        return placed

    async def _schedule_one(
        self,
        context: dict[str, Any],
        uuid: str,
        request_id: str,
        ignore_hosts: list[str],
        attempt: int,
    ) -> str | None:
        select_event = journey.event_name("9-11")
        fault_point(select_event)
        await self._event_start(uuid, request_id, select_event)
        try:
            view, group = await asyncio.to_thread(self._load, uuid)
            spec = request_spec(view, group)
            spec.image_properties = await self._image_properties(view)
            spec.ignore_hosts = set(ignore_hosts)
            host, notes = await self._select(spec)
        except errors.NotFound:
            log.info("instance %s vanished before it was scheduled", uuid)
            return None
        except Exception as exc:
            detail = str(exc) if isinstance(exc, NoValidHost) else "".join(tb.format_exception(exc))
            await self._event_finish(uuid, request_id, select_event, "Error", traceback=detail)
            await self._no_valid_host(uuid, detail)
            return None
        try:
            await self._db(servers.set_state, uuid, host=host.host, node=host.node)
        except (errors.NotFound, errors.Conflict):
            await self.placement.delete_allocations(uuid)
            return None
        await self._event_finish(
            uuid, request_id, select_event, details=f"attempt {attempt}: " + "; ".join(notes)
        )
        cast_event = journey.event_name("12")
        await self._event_start(uuid, request_id, cast_event)
        fault_point(cast_event)
        await self.bus.cast(
            compute_topic(host.host, self.prefix),
            "build_and_run_instance",
            {
                "context": context,
                "instance_uuid": uuid,
                "request_id": request_id,
                "attempt": attempt,
                "tried_hosts": ignore_hosts,
            },
        )
        await self._event_finish(uuid, request_id, cast_event)
        return host.host

    async def _no_valid_host(self, uuid: str, details: str) -> None:
        try:
            await self._db(servers.set_fault, uuid, 500, NO_VALID_HOST, details, self.name)
            await self._db(servers.set_state, uuid, vm_state="error", task_state=None)
        except (errors.NotFound, errors.Conflict):
            pass
        # A reschedule's earlier claim may still be held: nothing may stay allocated.
        await self.placement.delete_allocations(uuid)

    async def select_destination(
        self,
        instance_uuid: str,
        ignore_hosts: list[str] | None = None,
        force_host: str | None = None,
        keep_existing: bool = False,
    ) -> str | None:
        """A new host for a move, its allocation claimed; None when no host fits.

        ``keep_existing`` keeps the source host's allocation next to the new one
        (cold migration, until confirmed or reverted); otherwise the new claim
        replaces whatever the instance held.
        """
        view, group = await asyncio.to_thread(self._load, instance_uuid)
        spec = request_spec(view, group)
        spec.image_properties = await self._image_properties(view)
        spec.ignore_hosts = set(ignore_hosts or [])
        spec.force_host = force_host or None
        spec.availability_zone = None if force_host else spec.availability_zone
        current = await self.placement.get_allocations(instance_uuid)
        existing = (
            current
            if keep_existing
            else {
                "consumer_generation": current.get("consumer_generation"),
                "allocations": {},
            }
        )
        try:
            host, _ = await self._select(spec, existing)
        except NoValidHost:
            return None
        return host.host
