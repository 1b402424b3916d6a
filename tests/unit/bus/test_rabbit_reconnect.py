"""RabbitMQ only: a bus whose network fails reconnects, and its message in hand is redelivered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from kumo.common.bus.rabbit import RabbitBus
from tests.unit.bus.conftest import RABBIT_URL, BusHarness, eventually
from tests.unit.bus.tcp_proxy import TcpProxy
from tests.unit.bus.test_contract import Dying, Worker

pytestmark = pytest.mark.rabbit


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    """A cuttable link to the broker."""
    broker = urlsplit(RABBIT_URL)
    proxy = TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture
async def rabbit() -> AsyncIterator[BusHarness]:
    """A harness of RabbitMQ peers."""
    harness = BusHarness("rabbit")
    try:
        yield harness
    finally:
        await harness.aclose()


async def bus_behind(proxy: TcpProxy, *, reconnect_interval: float) -> RabbitBus:
    """A started bus reaching the broker through ``proxy``."""
    broker = urlsplit(RABBIT_URL)
    url = broker._replace(
        netloc=f"{broker.username}:{broker.password}@127.0.0.1:{proxy.port}",
        query=f"reconnect_interval={reconnect_interval}",
    ).geturl()
    bus = RabbitBus(url)
    await asyncio.wait_for(bus.start(), 10)
    return bus


async def test_bus_reconnects_after_network_failure(rabbit: BusHarness, proxy: TcpProxy) -> None:
    topic = rabbit.topic("reconnect")
    cut_off = await bus_behind(proxy, reconnect_interval=0.1)
    try:
        worker = Worker("cut-off")
        await cut_off.serve(topic, worker)
        sender = await rabbit.peer()
        await sender.cast(topic, "record", {"n": 1})
        # With prefetch 1 the call is delivered only once the cast is acknowledged; an
        # acknowledgement lost in the cut would redeliver the cast (at-least-once).
        await sender.call(topic, "echo", {}, timeout=5)
        assert worker.handled == [1]

        proxy.cut()
        await sender.cast(topic, "record", {"n": 2})

        await eventually(lambda: worker.handled == [1, 2], timeout=10)
        assert await cut_off.call(topic, "echo", {}, timeout=10) == {"by": "cut-off"}
    finally:
        await asyncio.wait_for(cut_off.close(grace=0), 10)


async def test_message_in_hand_at_network_failure_is_redelivered(
    rabbit: BusHarness, proxy: TcpProxy
) -> None:
    topic = rabbit.topic("netsplit")
    # Slow to reconnect, so the survivor, not the restored consumer, gets the message back.
    cut_off = await bus_behind(proxy, reconnect_interval=2)
    try:
        dying = Dying(hang=True)
        await cut_off.serve(topic, dying)
        sender = await rabbit.peer()
        await sender.cast(topic, "record", {"n": 1})
        await asyncio.wait_for(dying.started.wait(), 5)
        survivor = Worker("survivor")
        await sender.serve(topic, survivor)

        proxy.cut()

        await eventually(lambda: survivor.handled == [1])
        assert dying.finished == 0
    finally:
        await asyncio.wait_for(cut_off.close(grace=0), 10)
