"""Fixtures running every bus contract test against each implementation.

RabbitMQ tests (marked ``rabbit``) use ``KUMO_TEST_RABBIT_URL`` or the local
broker; every topic is unique to the test run, and its queues and exchanges
are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import suppress

import aio_pika
import pytest
from aio_pika.exceptions import AMQPError

from kumo.common.bus import Bus, Consumer, InProcessBus
from kumo.common.bus.rabbit import RabbitBus, fanout_exchange_name, queue_name

RABBIT_URL = os.environ.get("KUMO_TEST_RABBIT_URL", "amqp://guest:guest@127.0.0.1:5672/")
RUN_ID = uuid.uuid4().hex[:8]
_topic_numbers = itertools.count()


async def eventually(predicate: Callable[[], bool], *, timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


class BusHarness:
    """Hands out buses ("peers", one per simulated process) and topics for one test."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.topics: list[str] = []
        self._buses: list[Bus] = []

    async def peer(self) -> Bus:
        """A started bus standing for a process; the in-process bus has one peer only."""
        if self.kind == "inproc" and self._buses:
            return self._buses[0]
        bus: Bus = InProcessBus() if self.kind == "inproc" else RabbitBus(RABBIT_URL)
        try:
            await asyncio.wait_for(bus.start(), 10)
        except (OSError, AMQPError, TimeoutError) as exc:
            pytest.fail(
                f"RabbitMQ is not reachable at {RABBIT_URL} ({exc!r}): start it with "
                "`rabbitmq-server -detached`, or deselect these tests with -m 'not rabbit'"
            )
        self._buses.append(bus)
        return bus

    def topic(self, name: str) -> str:
        """A topic no other test, or other run of this suite, uses."""
        topic = f"test.{RUN_ID}.{next(_topic_numbers)}.{name}"
        self.topics.append(topic)
        return topic

    async def kill(self, bus: Bus, consumer: Consumer) -> None:
        """Make ``consumer`` die mid-message, the way its process would."""
        if isinstance(bus, RabbitBus):
            # The process vanished: its connection drops with the handler still running.
            await bus.connection.close()
        else:
            await consumer.stop(grace=0)

    async def aclose(self) -> None:
        """Close every peer and delete what the test left on the broker."""
        for bus in self._buses:
            await asyncio.wait_for(bus.close(grace=0), 10)
        if self.kind == "rabbit":
            await _delete_broker_entities(self.topics)


async def _delete_broker_entities(topics: list[str]) -> None:
    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        for topic in topics:
            await channel.queue_delete(queue_name(topic))
            with suppress(AMQPError):
                await channel.exchange_delete(fanout_exchange_name(topic))
            if channel.is_closed:
                channel = await connection.channel()


@pytest.fixture(params=["inproc", pytest.param("rabbit", marks=pytest.mark.rabbit)])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[BusHarness]:
    """A :class:`BusHarness` for each bus implementation."""
    harness = BusHarness(request.param)
    try:
        yield harness
    finally:
        await harness.aclose()


@pytest.fixture
async def bus(harness: BusHarness) -> Bus:
    """The first peer of the harness."""
    return await harness.peer()
