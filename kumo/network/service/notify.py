"""Change notifications for the data plane (the network agent consumes them later).

Every successful change to a network, subnet, port, router or floating IP casts
``<resource>_<action>`` (e.g. ``port_update``) with the resource's id and its
new body on the bus topic ``network-agent``. Without a bus on the app's state
(tests, an API-only process) this is a no-op; a failing bus never fails the
API call, since the agent resynchronises from the database on start.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.from_thread

log = logging.getLogger(__name__)

#: The bus topic the network agent listens on.
TOPIC = "network-agent"


def _payload(resource: str, action: str, body: dict[str, Any] | None, rid: str) -> dict[str, Any]:
    clean = {k: v for k, v in (body or {}).items() if not k.startswith("_")}
    return {"resource": resource, "action": action, "id": rid, "body": clean}


async def publish(
    state: Any, resource: str, action: str, rid: str, body: dict[str, Any] | None = None
) -> None:
    """Cast ``<resource>_<action>`` on ``network-agent`` when a bus is configured."""
    bus = getattr(state, "bus", None)
    if bus is None:
        return
    # Clouds sharing one RabbitMQ keep apart by their topic prefix (as compute's topics do).
    prefix = getattr(getattr(state, "settings", None), "bus_topic_prefix", "") or ""
    try:
        await bus.cast(
            prefix + TOPIC, f"{resource}_{action}", _payload(resource, action, body, rid)
        )
    except Exception:  # the agent resyncs from the database; never fail the API call
        log.warning("could not notify %s_%s for %s", resource, action, rid, exc_info=True)


def publish_from_thread(
    state: Any, resource: str, action: str, rid: str, body: dict[str, Any] | None = None
) -> None:
    """:func:`publish` from a sync handler (FastAPI's worker threads)."""
    if getattr(state, "bus", None) is None:
        return
    try:
        anyio.from_thread.run(publish, state, resource, action, rid, body)
    except RuntimeError:  # not in a worker thread of an event loop
        log.debug("no event loop to notify %s_%s for %s", resource, action, rid)
