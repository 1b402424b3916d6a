"""The conductor's bus endpoint (topic ``conductor``): database work for compute agents.

Every method runs its database work in a thread (the bus loop must not block)
and each write is one short transaction. Errors travel back to the agent as
:class:`~kumo.common.bus.RemoteError` with the domain error's type name
(``NotFound``, ``Conflict``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kumo.common import errors
from kumo.common.bus import Bus, BusError
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.compute import dbwork
from kumo.compute.db.instances import Instance
from kumo.compute.rpcapi import SCHEDULER_TOPIC, compute_topic
from kumo.compute.service import hosts, instance_actions, servers

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long the conductor waits for the scheduler to pick a host for a move.
SELECT_TIMEOUT = 60.0

#: Instance-action events the conductor records for moves (Nova's names).
MOVE_EVENTS = {
    "migrate": "conductor_migrate_server",
    "evacuate": "conductor_rebuild_server",
    "unshelve": "conductor_unshelve_instance",
}


def max_retries_message(uuid: str) -> str:
    """Nova's ``MaxRetriesExceeded`` fault message."""
    return (
        "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
        f"build failures for instance {uuid}."
    )


class ConductorManager:
    """The database on behalf of the compute agents, plus reschedules and moves."""

    def __init__(
        self, db: Database, settings: Settings, bus: Bus, *, topic_prefix: str = ""
    ) -> None:
        self.db = db
        self.settings = settings
        self.bus = bus
        self.prefix = topic_prefix

    async def _write(self, fn: Callable[[Session], T]) -> T:
        return await dbwork.write(self.db, fn)

    async def _read(self, fn: Callable[[Session], T]) -> T:
        return await dbwork.read(self.db, fn)

    # ----- what the agents call ------------------------------------------------------------

    async def instance_view_for_agent(self, instance_uuid: str) -> dict[str, Any]:
        """The instance as plain data (booklet steps 14–17)."""
        return await self._read(lambda s: servers.instance_view_for_agent(s, instance_uuid))

    async def set_state(self, instance_uuid: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply ``changes`` through ``servers.set_state`` (compare-and-set when expected)."""

        def work(s: Session) -> dict[str, Any]:
            instance = servers.set_state(s, instance_uuid, **changes)
            return {"vm_state": instance.vm_state, "task_state": instance.task_state}

        return await self._write(work)

    async def event_start(
        self, instance_uuid: str, request_id: str, event: str, host: str | None = None
    ) -> None:
        """Record that an event of the request's action started (no action: logged only)."""
        try:
            await self._write(
                lambda s: instance_actions.event_start(s, instance_uuid, request_id, event, host)
            )
        except errors.NotFound:
            log.warning("no action %s on %s to record %s under", request_id, instance_uuid, event)

    async def event_finish(
        self,
        instance_uuid: str,
        request_id: str,
        event: str,
        result: str = "Success",
        traceback: str | None = None,
        details: str | None = None,
    ) -> None:
        """Record that an event finished (no action: logged only)."""
        try:
            await self._write(
                lambda s: instance_actions.event_finish(
                    s, instance_uuid, request_id, event, result, traceback, details
                )
            )
        except errors.NotFound:
            log.warning("no action %s on %s to record %s under", request_id, instance_uuid, event)

    async def transition(
        self,
        instance_uuid: str,
        request_id: str,
        finish: str | None = None,
        changes: dict[str, Any] | None = None,
        start: str | None = None,
        host: str | None = None,
    ) -> None:
        """A build step boundary in one transaction: finish an event, change state, start one.

        A compare-and-set failure (``expected_task_state``) rolls back all three.
        """

        def work(s: Session) -> None:
            if finish:
                # find_action raises before writing anything: no savepoint needed.
                try:
                    instance_actions.event_finish(s, instance_uuid, request_id, finish)
                except errors.NotFound:
                    log.warning("no action %s on %s", request_id, instance_uuid)
            if changes:
                servers.set_state(s, instance_uuid, **changes)
            if start:
                try:
                    instance_actions.event_start(s, instance_uuid, request_id, start, host)
                except errors.NotFound:
                    log.warning("no action %s on %s", request_id, instance_uuid)

        await self._write(work)

    async def set_fault(
        self,
        instance_uuid: str,
        code: int,
        message: str,
        details: str | None = None,
        host: str | None = None,
    ) -> None:
        """Record the instance's fault."""
        await self._write(
            lambda s: servers.set_fault(s, instance_uuid, code, message, details, host)
        )

    async def report_service(self, host: str, binary: str, zone: str = "nova") -> None:
        """Create or heartbeat a service record."""
        await self._write(lambda s: hosts.report_service(s, host, binary, zone))

    async def update_compute_node(self, fields: dict[str, Any]) -> None:
        """Record a host's hypervisor resources and usage."""

        def work(s: Session) -> None:
            # The new node row is complete only once every field is set: no early flush.
            with s.no_autoflush:
                hosts.update_compute_node(s, **fields)

        await self._write(work)

    async def usage_of_host(self, host: str) -> dict[str, int]:
        """What the instances placed on ``host`` use."""

        def work(s: Session) -> dict[str, int]:
            row = s.execute(
                select(
                    func.count(Instance.uuid),
                    func.coalesce(func.sum(Instance.vcpus), 0),
                    func.coalesce(func.sum(Instance.memory_mb), 0),
                    func.coalesce(func.sum(Instance.root_gb + Instance.ephemeral_gb), 0),
                ).where(Instance.host == host, Instance.deleted.is_(False))
            ).one()
            return {
                "instances": int(row[0]),
                "vcpus": int(row[1]),
                "memory_mb": int(row[2]),
                "disk_gb": int(row[3]),
            }

        return await self._read(work)

    # ----- reschedules and moves -----------------------------------------------------------

    async def reschedule(
        self,
        context: dict[str, Any],
        instance_uuid: str,
        request_id: str,
        tried_hosts: list[str],
        attempt: int,
        reason: str,
    ) -> None:
        """A build failed on a host: schedule it elsewhere, or ERROR after the last attempt."""
        if attempt >= self.settings.scheduler_max_attempts:
            message = max_retries_message(instance_uuid)
            details = f"Tried hosts {', '.join(tried_hosts)}; last failure: {reason}"
            try:
                await self.set_fault(instance_uuid, 500, message, details, None)
                await self.set_state(instance_uuid, {"vm_state": "error", "task_state": None})
            except (errors.NotFound, errors.Conflict):
                pass
            return
        await self.bus.call(
            self.prefix + SCHEDULER_TOPIC,
            "schedule_and_build",
            {
                "context": context,
                "instance_uuids": [instance_uuid],
                "request_id": request_id,
                "ignore_hosts": tried_hosts,
                "attempt": attempt + 1,
            },
            timeout=SELECT_TIMEOUT * 2,
        )

    async def move_instance(
        self,
        context: dict[str, Any],
        instance_uuid: str,
        action: str,
        request_id: str,
        params: dict[str, Any],
        source_host: str | None,
    ) -> None:
        """Migrate, evacuate or unshelve: ask the scheduler for a host, then cast to it."""
        event = MOVE_EVENTS.get(action, f"conductor_{action}")
        await self.event_start(instance_uuid, request_id, event, None)
        ignore = [source_host] if source_host and action != "unshelve" else []
        try:
            dest = await self.bus.call(
                self.prefix + SCHEDULER_TOPIC,
                "select_destination",
                {
                    "instance_uuid": instance_uuid,
                    "ignore_hosts": ignore,
                    "force_host": params.get("host"),
                    "keep_existing": action == "migrate",
                },
                timeout=SELECT_TIMEOUT,
            )
        except BusError as exc:
            dest = None
            log.warning("scheduler failed for %s of %s: %s", action, instance_uuid, exc)
        if not dest:
            await self._no_destination(instance_uuid, request_id, event, action)
            return
        await self.event_finish(instance_uuid, request_id, event, details=f"destination {dest}")
        await self.bus.cast(
            compute_topic(str(dest), self.prefix),
            "run_action",
            {
                "context": context,
                "instance_uuid": instance_uuid,
                "action": action,
                "request_id": request_id,
                "params": dict(params, source_host=source_host),
            },
        )

    async def _no_destination(
        self, instance_uuid: str, request_id: str, event: str, action: str
    ) -> None:
        message = "No valid host was found. There are not enough hosts available."
        changes: dict[str, Any] = {"task_state": None}
        if action == "evacuate":
            changes["vm_state"] = "error"
        try:
            await self.event_finish(instance_uuid, request_id, event, "Error", traceback=message)
            await self.set_fault(instance_uuid, 500, message, None, None)
            await self.set_state(instance_uuid, changes)
        except (errors.NotFound, errors.Conflict):
            pass
