"""The boot journey over each bus: in-process and RabbitMQ (databases: KUMO_TEST_DATABASES).

Each run uses its own topic prefix, so parallel runs on one broker never take
each other's messages; the queues are deleted afterwards.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kumo.compute import journey
from kumo.compute.rpcapi import CONDUCTOR_TOPIC, SCHEDULER_TOPIC, compute_topic
from tests.functional.compute.conftest import RABBIT_URL
from tests.functional.compute.test_boot_journey import events_of

JOURNEY = [
    journey.event_name(step)
    for step in ("9-11", "12", "13", "14-17", "18-21", "22-24", "25-27", "28")
]


async def _delete_queues(topics: list[str]) -> None:
    import aio_pika

    from kumo.common.bus.rabbit import queue_name

    connection = await aio_pika.connect(RABBIT_URL)
    async with connection:
        channel = await connection.channel()
        for topic in topics:
            await channel.queue_delete(queue_name(topic))


@pytest.mark.parametrize(
    "transport", ["inproc://", pytest.param(RABBIT_URL, marks=pytest.mark.rabbit, id="rabbit")]
)
def test_two_servers_boot_over_the_bus(make_cloud: Any, transport: str) -> None:
    topics: list[str] = []
    try:
        with make_cloud(fake_hosts=2, transport_url=transport) as cloud:
            prefix = cloud.runtime.prefix
            topics = [prefix + SCHEDULER_TOPIC, prefix + CONDUCTOR_TOPIC] + [
                compute_topic(h, prefix) for h in cloud.runtime.agents
            ]
            booted = [cloud.boot("1") for _ in range(2)]
            rows = [cloud.wait_settled(uuid) for uuid, _ in booted]
            assert [r.vm_state for r in rows] == ["active", "active"]
            # Spread: the second server lands on the other, emptier host.
            assert {r.host for r in rows} == {"fake-1", "fake-2"}
            for uuid, request_id in booted:
                assert [e.event for e in events_of(cloud, uuid, request_id)] == JOURNEY
    finally:
        if transport.startswith("amqp") and topics:
            asyncio.run(_delete_queues(topics))
