"""The conductor's bus interface, as compute agents call it (they never open the database)."""

from __future__ import annotations

from typing import Any

from kumo.common.bus import Bus
from kumo.compute.rpcapi import CONDUCTOR_TOPIC

#: How long an agent waits for the conductor.
CONDUCTOR_TIMEOUT = 60.0


class ConductorAPI:
    """Calls to the conductor topic; each method mirrors a ConductorManager method."""

    def __init__(self, bus: Bus, *, topic_prefix: str = "") -> None:
        self.bus = bus
        self.topic = topic_prefix + CONDUCTOR_TOPIC

    async def _call(self, method: str, **payload: Any) -> Any:
        return await self.bus.call(self.topic, method, payload, timeout=CONDUCTOR_TIMEOUT)

    async def instance_view(self, instance_uuid: str) -> dict[str, Any]:
        """The instance as plain data (flavor, image ref, networks, bdms, …)."""
        view: dict[str, Any] = await self._call(
            "instance_view_for_agent", instance_uuid=instance_uuid
        )
        return view

    async def set_state(self, instance_uuid: str, **changes: Any) -> dict[str, Any]:
        """Change states/fields; ``expected_task_state`` makes it compare-and-set."""
        result: dict[str, Any] = await self._call(
            "set_state", instance_uuid=instance_uuid, changes=changes
        )
        return result

    async def event_start(
        self, instance_uuid: str, request_id: str, event: str, host: str | None
    ) -> None:
        """Record the start of an instance-action event."""
        await self._call(
            "event_start",
            instance_uuid=instance_uuid,
            request_id=request_id,
            event=event,
            host=host,
        )

    async def event_finish(
        self,
        instance_uuid: str,
        request_id: str,
        event: str,
        result: str = "Success",
        traceback: str | None = None,
        details: str | None = None,
    ) -> None:
        """Record the end of an instance-action event."""
        await self._call(
            "event_finish",
            instance_uuid=instance_uuid,
            request_id=request_id,
            event=event,
            result=result,
            traceback=traceback,
            details=details,
        )

    async def transition(
        self,
        instance_uuid: str,
        request_id: str,
        *,
        finish: str | None,
        changes: dict[str, Any],
        start: str | None,
        host: str | None,
    ) -> None:
        """Finish event ``finish``, apply state ``changes``, start event ``start``: one call."""
        await self._call(
            "transition",
            instance_uuid=instance_uuid,
            request_id=request_id,
            finish=finish,
            changes=changes,
            start=start,
            host=host,
        )

    async def set_fault(
        self, instance_uuid: str, code: int, message: str, details: str | None, host: str | None
    ) -> None:
        """Record the instance's fault."""
        await self._call(
            "set_fault",
            instance_uuid=instance_uuid,
            code=code,
            message=message,
            details=details,
            host=host,
        )

    async def report_service(self, host: str, binary: str, zone: str = "nova") -> None:
        """Create or heartbeat the host's service record."""
        await self._call("report_service", host=host, binary=binary, zone=zone)

    async def update_compute_node(self, **fields: Any) -> None:
        """Record the host's hypervisor resources and usage."""
        await self._call("update_compute_node", fields=fields)

    async def usage_of_host(self, host: str) -> dict[str, int]:
        """VCPUs, memory and disk the host's instances use, and how many there are."""
        usage: dict[str, int] = await self._call("usage_of_host", host=host)
        return usage

    async def reschedule(
        self,
        context: dict[str, Any],
        instance_uuid: str,
        request_id: str,
        tried_hosts: list[str],
        attempt: int,
        reason: str,
    ) -> None:
        """Hand a failed build back: the conductor reschedules it or puts it in ERROR."""
        await self.bus.cast(
            self.topic,
            "reschedule",
            {
                "context": context,
                "instance_uuid": instance_uuid,
                "request_id": request_id,
                "tried_hosts": tried_hosts,
                "attempt": attempt,
                "reason": reason,
            },
        )
