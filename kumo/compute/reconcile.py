"""Startup reconcile: after a crash no server stays stuck and nothing stays leaked.

Nova's compute service does this in ``_init_instance`` when it starts. Kumo's
control plane does it when its runtime starts (:func:`start`, called from
:meth:`~kumo.compute.runtime.ComputeRuntime.start`), in two passes:

1. **States** (database only, only when everything in flight died with the
   previous process: the in-process bus with scheduler, conductor and compute
   agents all here, which is ``kumo up``'s role ``all`` with one API worker).
   Every server changed before this start that is still building, or still
   has a task_state:

   * a build (vm_state ``building``) → ERROR with the fault
     ":data:`INTERRUPTED` …", its network info cleared, its allocation and
     ports freed in pass 2;
   * a delete (task_state ``deleting``) → finished: guest destroyed, ports and
     allocation freed, the server marked deleted;
   * a resize, migration, rebuild or evacuation → ERROR with the fault (as a
     failed one does), its allocation put back to its current flavor on its host;
   * a stop, start or reboot → finished as Nova's ``_init_instance`` does
     (stop again, start again, reboot hard) once the database pass is done:
     the user asked for it, and a guest left half-way (ACPI power-down sent,
     or a reboot never made) would otherwise stay ACTIVE as if nothing was
     asked; the task_state stays set (no new action races it) until then;
   * any other task (snapshot, pause…) → the task is dropped and the
     server keeps its vm_state; the image an interrupted snapshot was making
     (still queued or saving) is deleted in pass 2.

   Open instance-action events of those servers are finished as errors.
2. **Leftovers** (always): allocations and ports still held by servers that
   are deleted, interrupted builds, or shelved-offloaded servers are freed
   through the Placement and Networking APIs. Only consumers and devices that
   are servers of this database are touched; the leftovers are found by a
   read-only look at the Placement and Networking tables (one database).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kumo.common.clients.image import ImageClient
from kumo.common.clients.network import NetworkClient
from kumo.common.clients.placement import PlacementClient, provider_uuid
from kumo.common.db import Database, utcnow
from kumo.compute import dbwork, states
from kumo.compute.db.instance_actions import InstanceAction, InstanceActionEvent
from kumo.compute.db.instances import Instance
from kumo.compute.service import servers
from kumo.image.db.models import Image, ImageProperty
from kumo.network.db.models import Port
from kumo.placement.db.models import Allocation

if TYPE_CHECKING:
    from kumo.compute.runtime import ComputeRuntime

log = logging.getLogger(__name__)

#: Start of the fault message of a server whose work a restart interrupted.
INTERRUPTED = "Interrupted by a restart"
#: Task states of work that leaves the server in ERROR when it fails half-way.
ERROR_TASKS = frozenset(
    {
        states.RESIZE_PREP,
        states.RESIZE_MIGRATING,
        states.RESIZE_MIGRATED,
        states.RESIZE_FINISH,
        states.RESIZE_REVERTING,
        states.RESIZE_CONFIRMING,
        states.REBUILDING,
        states.REBUILD_BLOCK_DEVICE_MAPPING,
        states.REBUILD_SPAWNING,
        states.MIGRATING,
        states.UNSHELVING,
    }
)
#: Task states of work that makes an image of the server.
SNAPSHOT_TASKS = frozenset(
    {
        states.IMAGE_SNAPSHOT,
        states.IMAGE_SNAPSHOT_PENDING,
        states.IMAGE_PENDING_UPLOAD,
        states.IMAGE_UPLOADING,
        states.IMAGE_BACKUP,
        states.SHELVING,
        states.SHELVING_IMAGE_PENDING_UPLOAD,
        states.SHELVING_IMAGE_UPLOADING,
    }
)
#: Power tasks a restart finishes: task_state → (driver call, vm_state, power_state) after it.
POWER_TASKS: dict[str, tuple[str, str, int]] = {
    states.POWERING_OFF: ("stop", states.STOPPED, states.SHUTDOWN),
    states.POWERING_ON: ("start", states.ACTIVE, states.RUNNING),
    **{
        task: ("reboot", states.ACTIVE, states.RUNNING)
        for task in (
            states.REBOOTING,
            states.REBOOT_PENDING,
            states.REBOOT_STARTED,
            states.REBOOTING_HARD,
            states.REBOOT_PENDING_HARD,
            states.REBOOT_STARTED_HARD,
        )
    },
}
#: Image statuses of an image whose data never arrived.
UNFINISHED_IMAGE = ("queued", "saving", "uploading", "importing")
#: Attempts (a few seconds apart) at reaching Placement and Networking.
RELEASE_ATTEMPTS = 10
RELEASE_RETRY = 3.0


@dataclass
class Release:
    """What to free for one server: its ports, and its allocation (or reset it)."""

    uuid: str
    keep_ports: set[str] = field(default_factory=set)
    #: (resource provider, resources, project, user): claim this instead of freeing.
    reclaim: tuple[str, dict[str, int], str, str] | None = None


@dataclass
class Outcome:
    """What a reconcile did (for logs and tests)."""

    errored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    tasks_dropped: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    destroy: list[tuple[str, str]] = field(default_factory=list)  # (host, uuid)
    snapshots: list[str] = field(default_factory=list)  # servers whose snapshot was cut short
    power: list[tuple[str, str, str]] = field(default_factory=list)  # (host, uuid, task) to redo
    power_done: list[str] = field(default_factory=list)
    stale_images: list[str] = field(default_factory=list)
    releases: dict[str, Release] = field(default_factory=dict)


def _flavor_resources(instance: Instance) -> dict[str, int]:
    swap = int((instance.flavor or {}).get("swap") or 0)
    disk = instance.root_gb + instance.ephemeral_gb + -(-swap // 1024)
    out = {"VCPU": instance.vcpus, "MEMORY_MB": instance.memory_mb}
    if disk:
        out["DISK_GB"] = disk
    return out


def _preexisting(instance: Instance) -> set[str]:
    raw = str((instance.system_metadata or {}).get("preexisting_ports", ""))
    return set(filter(None, raw.split(",")))


def _close_events(s: Session, uuid: str, now: dt.datetime, message: str) -> None:
    open_events = s.scalars(
        select(InstanceActionEvent)
        .join(InstanceAction, InstanceAction.id == InstanceActionEvent.action_id)
        .where(InstanceAction.instance_uuid == uuid, InstanceActionEvent.finish_time.is_(None))
    )
    for event in open_events:
        event.finish_time = now
        event.result = "Error"
        event.traceback = message


def reconcile_states(s: Session, cutoff: dt.datetime, outcome: Outcome) -> None:
    """Pass 1: settle every server left mid-work by a process that died before ``cutoff``."""
    stuck = s.scalars(
        select(Instance).where(
            Instance.deleted.is_(False),
            or_(Instance.vm_state == states.BUILDING, Instance.task_state.is_not(None)),
            Instance.updated_at < cutoff,
        )
    ).all()
    now = utcnow()
    for instance in stuck:
        uuid, task = instance.uuid, instance.task_state
        if instance.vm_state == states.BUILDING and task != states.DELETING:
            what = f"build (at task_state {task})" if task else "build"
        else:
            what = f"task {task}"
        message = f"{INTERRUPTED}: the {what} did not finish."
        if task == states.DELETING or instance.vm_state == states.BUILDING:
            outcome.destroy.append((instance.host or "", uuid))
        if task == states.DELETING:
            outcome.releases[uuid] = Release(uuid, _preexisting(instance))
            servers.set_state(
                s, uuid, vm_state=states.DELETED, task_state=None, power_state=states.NOSTATE
            )
            outcome.deleted.append(uuid)
        elif instance.vm_state == states.BUILDING:
            outcome.releases[uuid] = Release(uuid, _preexisting(instance))
            servers.set_fault(s, uuid, 500, message, None, instance.host)
            servers.set_state(
                s,
                uuid,
                vm_state=states.ERROR,
                task_state=None,
                power_state=states.NOSTATE,
                network_info={},
            )
            outcome.errored.append(uuid)
        elif task in ERROR_TASKS:
            if instance.host and instance.vm_state != states.SHELVED_OFFLOADED:
                rp = provider_uuid(instance.host)
                reclaim = (rp, _flavor_resources(instance), instance.project_id, instance.user_id)
                outcome.releases[uuid] = Release(uuid, reclaim=reclaim)
            servers.set_fault(s, uuid, 500, message, None, instance.host)
            servers.set_state(s, uuid, vm_state=states.ERROR, task_state=None, new_flavor=None)
            outcome.errored.append(uuid)
        elif task in POWER_TASKS and instance.host:
            # Finished by :func:`finish_power_tasks`; until then the task_state stays
            # and holds off new actions (a crash meanwhile leaves it to the next start).
            outcome.power.append((instance.host, uuid, task))
        else:
            servers.set_state(s, uuid, task_state=None)
            outcome.tasks_dropped.append(uuid)
            if task in SNAPSHOT_TASKS:
                outcome.snapshots.append(uuid)
        _close_events(s, uuid, now, message)
    if stuck:
        log.warning(
            "reconcile: %d server(s) were left mid-work by a restart: %d put in ERROR, "
            "%d deletes finished, %d tasks dropped, %d power actions to finish",
            len(stuck),
            len(outcome.errored),
            len(outcome.deleted),
            len(outcome.tasks_dropped),
            len(outcome.power),
        )


def find_leftovers(s: Session, outcome: Outcome) -> None:
    """Pass 2's list: servers that should hold nothing but still hold allocations or ports."""
    done = select(Instance.uuid).where(
        or_(Instance.deleted.is_(True), Instance.vm_state == states.SHELVED_OFFLOADED)
    )
    holders = set(s.scalars(select(Allocation.consumer_id).where(Allocation.consumer_id.in_(done))))
    holders |= set(
        s.scalars(
            select(Port.device_id).where(
                Port.device_id.in_(done), Port.device_owner.like("compute:%")
            )
        )
    )
    if outcome.snapshots:
        outcome.stale_images = list(
            s.scalars(
                select(Image.id)
                .join(ImageProperty, ImageProperty.image_id == Image.id)
                .where(
                    Image.status.in_(UNFINISHED_IMAGE),
                    ImageProperty.name == "instance_uuid",
                    ImageProperty.value.in_(outcome.snapshots),
                )
            )
        )
    for uuid in holders - set(outcome.releases):
        instance = s.get(Instance, uuid)
        keep = _preexisting(instance) if instance is not None else set()
        outcome.releases[uuid] = Release(uuid, keep)


async def release(
    items: list[Release],
    placement: PlacementClient,
    network: NetworkClient,
    image: ImageClient | None = None,
    stale_images: list[str] | None = None,
) -> list[str]:
    """Pass 2: free (or reset) each server's allocation, its ports, its unfinished snapshots."""
    if image is not None:
        for image_id in stale_images or []:
            await image.delete_image(image_id)
    done: list[str] = []
    has_network = await network.available()
    for item in items:
        if item.reclaim is not None:
            rp, resources, project_id, user_id = item.reclaim
            current = await placement.get_allocations(item.uuid)
            await placement.claim(
                item.uuid,
                {rp: {"resources": resources}},
                project_id,
                user_id,
                consumer_generation=current.get("consumer_generation"),
            )
        else:
            await placement.delete_allocations(item.uuid)
            if has_network:
                for port in await network.list_ports(device_id=item.uuid):
                    if port["id"] in item.keep_ports:
                        await network.update_port(
                            port["id"], {"device_id": "", "device_owner": "", "binding:host_id": ""}
                        )
                    else:
                        await network.delete_port(port["id"])
        done.append(item.uuid)
    return done


async def finish_power_tasks(db: Database, drivers: dict[str, Any], outcome: Outcome) -> None:
    """Redo each interrupted stop, start or reboot on its host's driver; settle its states.

    A reboot is redone hard (a soft one may wait for a guest that ignores ACPI).
    When the driver fails the task is dropped and the vm_state kept: the power
    state sync then reports what the guest really does.
    """
    for host, uuid, task in outcome.power:
        call, vm_state, power_state = POWER_TASKS[task]
        driver = drivers.get(host)
        changes: dict[str, Any] = {"task_state": None}
        try:
            if driver is None:
                raise RuntimeError(f"host {host} is not served by this process")
            if call == "stop":
                await driver.power_off(uuid)
            elif call == "start":
                await driver.power_on(uuid)
            else:
                await driver.reboot(uuid, True)
            changes |= {"vm_state": vm_state, "power_state": power_state}
            outcome.power_done.append(uuid)
            log.warning("reconcile: finished the interrupted %s of %s", call, uuid)
        except Exception as exc:
            log.warning("reconcile: could not finish the %s of %s: %s", call, uuid, exc)

        def settle(
            s: Session, uuid: str = uuid, task: str = task, changes: dict[str, Any] = changes
        ) -> None:
            with suppress(Exception):  # deleted meanwhile, or no longer in that task
                servers.set_state(s, uuid, expected_task_state=task, **changes)

        try:  # never let one server keep the leftovers of others from being freed
            await asyncio.to_thread(dbwork.write_now, db, settle)
        except Exception as exc:
            log.warning("reconcile: could not record the %s of %s: %s", call, uuid, exc)


def _database_pass(db: Database, cutoff: dt.datetime | None) -> Outcome:
    outcome = Outcome()

    def work(s: Session) -> None:
        if cutoff is not None:
            reconcile_states(s, cutoff, outcome)
        find_leftovers(s, outcome)

    dbwork.write_now(db, work)
    return outcome


async def run(
    db: Database,
    placement: PlacementClient,
    network: NetworkClient,
    *,
    cutoff: dt.datetime | None,
    drivers: dict[str, Any] | None = None,
    image: ImageClient | None = None,
) -> Outcome:
    """Both passes; ``cutoff`` None skips pass 1 (work may still be running elsewhere)."""
    outcome = await asyncio.to_thread(_database_pass, db, cutoff)
    for host, uuid in outcome.destroy:
        agent = (drivers or {}).get(host)
        if agent is not None:
            with suppress(Exception):
                await agent.destroy(uuid)
    if outcome.power:
        await finish_power_tasks(db, drivers or {}, outcome)
    if not outcome.releases and not outcome.stale_images:
        return outcome
    pending = list(outcome.releases.values())
    for attempt in range(1, RELEASE_ATTEMPTS + 1):
        try:
            outcome.released = await release(
                pending, placement, network, image, outcome.stale_images
            )
            break
        except Exception as exc:
            log.warning("reconcile: could not free leftovers yet (%s); attempt %d", exc, attempt)
            await asyncio.sleep(RELEASE_RETRY)
    log.info("reconcile: freed the allocations and ports of %d server(s)", len(outcome.released))
    return outcome


def start(runtime: ComputeRuntime) -> None:
    """Reconcile in the background once ``runtime`` has started (one call in its ``start``)."""
    if runtime.db is None or runtime.session is None:
        return
    settings = runtime.settings
    # With several API workers each runs its own control plane: another worker's
    # builds may be in flight, so none of them may call the in-flight work dead.
    everything_here = (
        settings.transport_url.startswith("inproc")
        and settings.api_workers == 1
        and {"scheduler", "conductor", "compute"} <= set(runtime.pieces)
    )
    cutoff = utcnow() if everything_here else None
    drivers = {host: agent.driver for host, agent in runtime.agents.items()}
    db, session = runtime.db, runtime.session

    async def background() -> None:
        try:
            await run(
                db,
                PlacementClient(session),
                NetworkClient(session),
                cutoff=cutoff,
                drivers=drivers,
                image=ImageClient(session),
            )
        except Exception:
            log.exception("reconcile at start failed")

    # The runtime cancels its tasks when it stops.
    runtime._tasks.append(asyncio.create_task(background()))
