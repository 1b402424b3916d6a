"""The bus contract: what every implementation of ``Bus`` promises its users.

Each test runs against the in-process bus and against RabbitMQ (see conftest).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from kumo.common.bus import Bus, BusTimeout, ConsumerCrashed, RemoteError
from tests.unit.bus.conftest import BusHarness, eventually


class Worker:
    """An endpoint that records what it handled."""

    def __init__(self, name: str = "worker") -> None:
        self.name = name
        self.handled: list[int] = []
        self.failures = 0

    async def echo(self, **kwargs: Any) -> dict[str, Any]:
        return {"by": self.name, **kwargs}

    def add(self, a: int, b: int) -> int:
        return a + b

    async def record(self, n: int) -> str:
        self.handled.append(n)
        return self.name

    async def fail(self, reason: str) -> None:
        self.failures += 1
        raise ValueError(reason)

    def _secret(self) -> str:
        return "never over the bus"


class Dying(Worker):
    """An endpoint whose process dies in ``record``: by crashing, or hanging until killed."""

    def __init__(self, *, hang: bool) -> None:
        super().__init__("dying")
        self.hang = hang
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = 0

    async def record(self, n: int) -> str:
        self.started.set()
        if not self.hang:
            raise ConsumerCrashed("simulated crash")
        await self.release.wait()
        self.finished += 1
        return self.name


async def test_call_returns_the_reply(harness: BusHarness, bus: Bus) -> None:
    topic = harness.topic("echo")
    await bus.serve(topic, Worker("w1"))

    reply = await bus.call(topic, "echo", {"x": 1, "names": ["a", "b"]}, timeout=5)

    assert reply == {"by": "w1", "x": 1, "names": ["a", "b"]}


async def test_call_runs_sync_and_async_methods(harness: BusHarness, bus: Bus) -> None:
    topic = harness.topic("mixed")
    await bus.serve(topic, Worker())

    assert await bus.call(topic, "add", {"a": 2, "b": 3}, timeout=5) == 5
    assert await bus.call(topic, "echo", {}, timeout=5) == {"by": "worker"}


async def test_call_carries_the_remote_exception(harness: BusHarness, bus: Bus) -> None:
    topic = harness.topic("failing")
    await bus.serve(topic, Worker())

    with pytest.raises(RemoteError) as caught:
        await bus.call(topic, "fail", {"reason": "disk full"}, timeout=5)

    assert caught.value.exc_type == "ValueError"
    assert caught.value.message == "disk full"
    assert await bus.call(topic, "add", {"a": 1, "b": 1}, timeout=5) == 2


@pytest.mark.parametrize("method", ["nonexistent", "_secret", "__init__"])
async def test_call_to_unknown_method_is_a_remote_error(
    harness: BusHarness, bus: Bus, method: str
) -> None:
    topic = harness.topic("unknown")
    await bus.serve(topic, Worker())

    with pytest.raises(RemoteError) as caught:
        await bus.call(topic, method, {}, timeout=5)

    assert caught.value.exc_type == "UnknownMethod"


async def test_call_with_wrong_arguments_is_a_remote_error(harness: BusHarness, bus: Bus) -> None:
    topic = harness.topic("badargs")
    await bus.serve(topic, Worker())

    with pytest.raises(RemoteError) as caught:
        await bus.call(topic, "add", {"a": 1}, timeout=5)

    assert caught.value.exc_type == "TypeError"


async def test_call_without_consumer_times_out(harness: BusHarness, bus: Bus) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(BusTimeout):
        await bus.call(harness.topic("nobody"), "echo", {}, timeout=0.3)

    assert 0.25 <= loop.time() - started < 2


async def test_call_that_expired_unhandled_is_never_run(harness: BusHarness, bus: Bus) -> None:
    topic = harness.topic("late")
    first = await bus.serve(topic, Worker())
    await first.stop()  # the topic's queue exists but nobody consumes it
    with pytest.raises(BusTimeout):
        await bus.call(topic, "record", {"n": 1}, timeout=0.2)

    worker = Worker()
    await bus.serve(topic, worker)
    await bus.call(topic, "record", {"n": 2}, timeout=5)

    assert worker.handled == [2]


async def test_payload_must_be_json(harness: BusHarness, bus: Bus) -> None:
    with pytest.raises(TypeError):
        await bus.cast(harness.topic("json"), "record", {"n": object()})


async def test_cast_is_handled_once_by_one_of_competing_consumers(harness: BusHarness) -> None:
    topic = harness.topic("work")
    first, second = Worker("first"), Worker("second")
    await (await harness.peer()).serve(topic, first)
    await (await harness.peer()).serve(topic, second)
    sender = await harness.peer()

    for n in range(40):
        await sender.cast(topic, "record", {"n": n})
    await eventually(lambda: len(first.handled) + len(second.handled) >= 40)
    # A duplicate would arrive right behind the last message: give it a round trip to show up.
    await sender.call(topic, "echo", {}, timeout=5)
    await sender.call(topic, "echo", {}, timeout=5)

    assert sorted(first.handled + second.handled) == list(range(40))


async def test_cast_waits_in_the_queue_for_a_consumer(harness: BusHarness, bus: Bus) -> None:
    topic = harness.topic("queued")
    await bus.cast(topic, "record", {"n": 7})

    worker = Worker()
    await (await harness.peer()).serve(topic, worker)

    await eventually(lambda: worker.handled == [7])


async def test_cast_handler_error_is_logged_and_not_redelivered(
    harness: BusHarness, bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    topic = harness.topic("castfail")
    worker = Worker()
    await bus.serve(topic, worker)

    with caplog.at_level(logging.ERROR, logger="kumo.common.bus"):
        await bus.cast(topic, "fail", {"reason": "bad image"})
        await bus.cast(topic, "nonexistent", {})
        await bus.cast(topic, "record", {"n": 1})
        await eventually(lambda: worker.handled == [1])
        await bus.call(topic, "record", {"n": 2}, timeout=5)

    assert worker.failures == 1
    assert worker.handled == [1, 2]
    messages = [record.getMessage() for record in caplog.records]
    assert any("cast fail" in message for message in messages)
    assert any("cast nonexistent" in message for message in messages)


async def test_fanout_reaches_every_subscriber(harness: BusHarness) -> None:
    topic = harness.topic("broadcast")
    subscribers = [Worker(f"s{i}") for i in range(3)]
    for subscriber in subscribers:
        await (await harness.peer()).serve(topic, subscriber, fanout=True)
    worker = Worker("work-queue consumer")
    await (await harness.peer()).serve(topic, worker)

    await (await harness.peer()).fanout(topic, "record", {"n": 5})

    await eventually(lambda: all(s.handled == [5] for s in subscribers))
    assert worker.handled == []


async def test_fanout_stops_reaching_a_stopped_subscriber(harness: BusHarness, bus: Bus) -> None:
    topic = harness.topic("leaving")
    staying, leaving = Worker("staying"), Worker("leaving")
    await bus.serve(topic, staying, fanout=True)
    consumer = await bus.serve(topic, leaving, fanout=True)
    await consumer.stop()

    await bus.fanout(topic, "record", {"n": 1})

    await eventually(lambda: staying.handled == [1])
    assert leaving.handled == []
    assert not consumer.running


async def test_crashed_consumer_message_is_redelivered(harness: BusHarness) -> None:
    topic = harness.topic("crash")
    dying = Dying(hang=False)
    consumer = await (await harness.peer()).serve(topic, dying)
    sender = await harness.peer()

    call = asyncio.create_task(sender.call(topic, "record", {"n": 1}, timeout=10))
    await asyncio.wait_for(dying.started.wait(), 5)
    await eventually(lambda: not consumer.running)
    survivor = Worker("survivor")
    await (await harness.peer()).serve(topic, survivor)

    assert await asyncio.wait_for(call, 10) == "survivor"
    assert survivor.handled == [1]


@pytest.mark.parametrize("death", ["abrupt stop", "process killed"])
async def test_message_of_a_consumer_dying_mid_handler_is_redelivered(
    harness: BusHarness, death: str
) -> None:
    topic = harness.topic("killed")
    dying = Dying(hang=True)
    doomed_bus = await harness.peer()
    consumer = await doomed_bus.serve(topic, dying)
    sender = await harness.peer()

    await sender.cast(topic, "record", {"n": 1})
    await asyncio.wait_for(dying.started.wait(), 5)
    if death == "abrupt stop":
        await consumer.stop(grace=0)
    else:
        await harness.kill(doomed_bus, consumer)
    survivor = Worker("survivor")
    await (await harness.peer()).serve(topic, survivor)

    await eventually(lambda: survivor.handled == [1])
    assert dying.finished == 0


async def test_graceful_stop_finishes_the_message_in_hand(harness: BusHarness) -> None:
    topic = harness.topic("graceful")
    dying = Dying(hang=True)
    consumer = await (await harness.peer()).serve(topic, dying)
    sender = await harness.peer()

    call = asyncio.create_task(sender.call(topic, "record", {"n": 1}, timeout=10))
    await asyncio.wait_for(dying.started.wait(), 5)
    stopping = asyncio.create_task(consumer.stop(grace=5))
    dying.release.set()
    await asyncio.wait_for(stopping, 5)

    assert await asyncio.wait_for(call, 5) == "dying"
    assert dying.finished == 1
    survivor = Worker("survivor")
    await (await harness.peer()).serve(topic, survivor)
    assert await sender.call(topic, "echo", {}, timeout=5) == {"by": "survivor"}
    assert survivor.handled == []
