"""Kumo's message bus: ``call``, ``cast`` and ``fanout`` over topics.

``get_bus(settings.transport_url)`` picks the implementation: ``inproc://``
for one process (``kumo up``), ``amqp://user:password@host:5672/vhost`` for
RabbitMQ. See :mod:`kumo.common.bus.base` for the interface and the delivery
guarantee both keep.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from kumo.common.bus.base import (
    Bus,
    BusError,
    BusTimeout,
    BusUnavailable,
    Consumer,
    ConsumerCrashed,
    RemoteError,
    UnknownMethod,
)
from kumo.common.bus.inproc import InProcessBus

__all__ = [
    "Bus",
    "BusError",
    "BusTimeout",
    "BusUnavailable",
    "Consumer",
    "ConsumerCrashed",
    "InProcessBus",
    "RemoteError",
    "UnknownMethod",
    "get_bus",
]


def get_bus(transport_url: str) -> Bus:
    """Make the bus ``transport_url`` names; it still has to be started.

    Raises ``ValueError`` for a scheme other than ``inproc`` or ``amqp(s)``.
    """
    scheme = urlsplit(transport_url).scheme
    if scheme == "inproc":
        return InProcessBus()
    if scheme in ("amqp", "amqps"):
        # Imported here so one-process clouds never load aio-pika.
        from kumo.common.bus.rabbit import RabbitBus

        return RabbitBus(transport_url)
    raise ValueError(f"unsupported transport_url {transport_url!r}: use inproc:// or amqp://")
