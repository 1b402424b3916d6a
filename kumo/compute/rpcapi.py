"""The compute control plane's bus interface, as the API layer calls it.

The servers API (``kumo.compute.api``) never talks to a scheduler or a compute
host directly: it calls :class:`ComputeAPI` (on ``request.app.state.compute_rpc``),
which turns each call into a bus message:

* :meth:`ComputeAPI.schedule_and_build` is a ``call`` to the ``scheduler``
  topic (booklet step 8): it returns once every instance has a host (and the
  build was cast to it, step 12) or is in ERROR with a fault;
* :meth:`ComputeAPI.run_action` is a ``cast`` to ``compute.<host>`` for every
  other action, except ``get_console_output``, a ``call`` returning text.

The caller's identity travels with each message (:func:`context_to_dict`) so the
agent can reach the image and network APIs with the user's token, as Nova does.
"""

from __future__ import annotations

import base64
from typing import Any

from kumo.common.bus import Bus
from kumo.common.context import RequestContext

#: The scheduler's and conductor's topics; compute hosts listen on ``compute.<host>``.
SCHEDULER_TOPIC = "scheduler"
CONDUCTOR_TOPIC = "conductor"

#: How long the API waits for the scheduler to place a request's instances.
SCHEDULE_TIMEOUT = 120.0
#: How long a compute host may take to answer a call (console output).
COMPUTE_CALL_TIMEOUT = 30.0

#: Every action :meth:`ComputeAPI.run_action` accepts.
ACTIONS = frozenset(
    {
        "reboot",
        "stop",
        "start",
        "pause",
        "unpause",
        "suspend",
        "resume",
        "rebuild",
        "resize",
        "confirm_resize",
        "revert_resize",
        "snapshot",
        "backup",
        "rescue",
        "unrescue",
        "shelve",
        "shelve_offload",
        "unshelve",
        "migrate",
        "evacuate",
        "delete",
        "get_console_output",
    }
)
#: Actions answered with a result (a bus ``call``) instead of cast.
CALL_ACTIONS = frozenset({"get_console_output"})
#: Actions that need a new host: the conductor asks the scheduler for one first
#: (cold migrate, evacuate from a down host, unshelve of an offloaded server).
MOVE_ACTIONS = frozenset({"migrate", "evacuate", "unshelve"})


def compute_topic(host: str, prefix: str = "") -> str:
    """The bus topic of the compute agent on ``host``."""
    return f"{prefix}compute.{host}"


def context_to_dict(ctx: RequestContext) -> dict[str, Any]:
    """The parts of a request context that travel over the bus (JSON data)."""
    return {
        "user_id": ctx.user_id,
        "project_id": ctx.project_id,
        "roles": list(ctx.roles),
        "token": ctx.token_id,
        "request_id": ctx.request_id,
        "system_scope": ctx.system_scope,
    }


def context_from_dict(data: dict[str, Any]) -> RequestContext:
    """Rebuild a request context sent by :func:`context_to_dict`."""
    return RequestContext(
        user_id=data.get("user_id"),
        project_id=data.get("project_id"),
        roles=list(data.get("roles") or []),
        token_id=data.get("token"),
        request_id=data.get("request_id"),
        system_scope=data.get("system_scope"),
    )


class ComputeAPI:
    """Client side of the scheduler and compute agents' bus endpoints.

    ``topic_prefix`` keeps the topics of parallel test runs apart on a shared
    broker (``settings.bus_topic_prefix``).
    """

    def __init__(self, bus: Bus, *, topic_prefix: str = "") -> None:
        self.bus = bus
        self.prefix = topic_prefix

    async def schedule_and_build(
        self, ctx: RequestContext, instance_uuids: list[str], request_id: str
    ) -> None:
        """Ask the scheduler to place ``instance_uuids`` and cast their builds (steps 8–12).

        Returns when each instance either has a host (its build cast there) or
        is in ERROR with a fault ("No valid host was found. …").
        """
        await self.bus.call(
            self.prefix + SCHEDULER_TOPIC,
            "schedule_and_build",
            {
                "context": context_to_dict(ctx),
                "instance_uuids": list(instance_uuids),
                "request_id": request_id,
            },
            timeout=SCHEDULE_TIMEOUT,
        )

    async def run_action(
        self,
        ctx: RequestContext,
        host: str | None,
        instance_uuid: str,
        action: str,
        request_id: str,
        **params: Any,
    ) -> str | None:
        """Hand ``action`` on ``instance_uuid`` to the compute agent of ``host``.

        A cast (returns None at once) for every action but ``get_console_output``,
        which is a call returning the console text. ``params`` are the action's
        JSON arguments (e.g. ``reboot_type``, ``image_id``, ``flavor_id``,
        ``image_ref``, ``admin_password``, ``host`` for a targeted move).
        :data:`MOVE_ACTIONS` go to the conductor, which schedules a new host and
        then casts to it (``host`` is the current host, or None once offloaded).
        Raises ``ValueError`` for an unknown action.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown compute action {action!r}")
        payload = {
            "context": context_to_dict(ctx),
            "instance_uuid": instance_uuid,
            "action": action,
            "request_id": request_id,
            "params": params,
        }
        if action in MOVE_ACTIONS:
            await self.bus.cast(
                self.prefix + CONDUCTOR_TOPIC, "move_instance", dict(payload, source_host=host)
            )
            return None
        if not host:
            raise ValueError(f"action {action!r} needs the instance's host")
        topic = compute_topic(host, self.prefix)
        if action in CALL_ACTIONS:
            result = await self.bus.call(topic, "run_action", payload, timeout=COMPUTE_CALL_TIMEOUT)
            return None if result is None else str(result)
        await self.bus.cast(topic, "run_action", payload)
        return None

    async def serial_console(self, host: str, instance_uuid: str) -> dict[str, Any]:
        """Ask the compute agent of ``host`` where ``instance_uuid``'s serial console is.

        A ``call`` answered with ``{"host", "port", "internal_access_path"}``; the
        agent's ``ConsoleUnavailable`` comes back as a ``RemoteError`` of that type.
        """
        result = await self.bus.call(
            compute_topic(host, self.prefix),
            "get_serial_console",
            {"instance_uuid": instance_uuid},
            timeout=COMPUTE_CALL_TIMEOUT,
        )
        return dict(result or {})

    async def vnc_console(self, host: str, instance_uuid: str) -> dict[str, Any]:
        """Ask the compute agent of ``host`` where ``instance_uuid``'s VNC server is.

        Answered like :meth:`serial_console`; a guest without a display comes back
        as a ``RemoteError`` of type ``NoDisplay``.
        """
        result = await self.bus.call(
            compute_topic(host, self.prefix),
            "get_vnc_console",
            {"instance_uuid": instance_uuid},
            timeout=COMPUTE_CALL_TIMEOUT,
        )
        return dict(result or {})

    async def screenshot(self, host: str, instance_uuid: str) -> bytes:
        """The PNG screenshot of ``instance_uuid``'s display, taken by its compute agent."""
        result = await self.bus.call(
            compute_topic(host, self.prefix),
            "get_screenshot",
            {"instance_uuid": instance_uuid},
            timeout=COMPUTE_CALL_TIMEOUT,
        )
        return base64.b64decode(str((result or {}).get("png", "")))

    async def diagnostics(self, host: str, instance_uuid: str) -> dict[str, Any]:
        """Ask the compute agent of ``host`` for ``instance_uuid``'s statistics (a ``call``).

        Answered with the fields of ``GuestDiagnostics``; the driver's
        ``DiagnosticsUnavailable`` comes back as a ``RemoteError`` of that type.
        """
        result = await self.bus.call(
            compute_topic(host, self.prefix),
            "get_diagnostics",
            {"instance_uuid": instance_uuid},
            timeout=COMPUTE_CALL_TIMEOUT,
        )
        return dict(result or {})
