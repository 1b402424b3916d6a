"""The in-process bus: asyncio queues in one process, for ``kumo up`` and tests.

It keeps the RabbitMQ bus's semantics (see :mod:`kumo.common.bus.base`) so the
same services and contract tests run on either: each work topic is a queue of
encoded messages; each consumer takes one message at a time and holds it
un-acknowledged until its handler finishes; a consumer stopped abruptly or
crashed mid-message puts the message back for the next consumer. Each fanout
subscriber owns a private queue that disappears with it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from kumo.common.bus.base import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_STOP_GRACE,
    Bus,
    BusError,
    BusTimeout,
    Consumer,
    ConsumerCrashed,
    decode_reply,
    encode_request,
    handle_message,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Message:
    body: bytes
    # The caller's future for a call; None for cast and fanout.
    reply: asyncio.Future[bytes] | None = None

    @property
    def abandoned(self) -> bool:
        """A call whose caller stopped waiting: it expires unhandled, as on RabbitMQ."""
        return self.reply is not None and self.reply.done()


_Queue = asyncio.Queue[_Message]


class InProcessConsumer(Consumer):
    """One endpoint taking messages from one queue, one at a time."""

    def __init__(
        self, bus: InProcessBus, topic: str, endpoint: object, queue: _Queue, *, fanout: bool
    ) -> None:
        self.topic = topic
        self.fanout = fanout
        self._bus = bus
        self._endpoint = endpoint
        self._queue = queue
        self._stopping = False
        self._in_hand: _Message | None = None
        self._task = asyncio.create_task(self._consume(), name=f"kumo.bus consumer {topic}")
        self._task.add_done_callback(self._on_exit)

    @property
    def running(self) -> bool:
        """Whether the consumer still takes messages."""
        return not self._stopping and not self._task.done()

    async def _consume(self) -> None:
        while not self._stopping:
            message = await self._queue.get()
            if message.abandoned:
                continue
            self._in_hand = message
            try:
                reply = await handle_message(
                    self._endpoint,
                    message.body,
                    topic=self.topic,
                    wants_reply=message.reply is not None,
                )
            except ConsumerCrashed:
                log.warning("consumer of %s crashed mid-message; message requeued", self.topic)
                self._queue.put_nowait(message)
                return
            except BaseException:
                # Cancelled (stopped abruptly): the message was never acknowledged.
                self._queue.put_nowait(message)
                raise
            finally:
                self._in_hand = None
            if message.reply is not None and reply is not None and not message.reply.done():
                message.reply.set_result(reply)

    def _on_exit(self, task: asyncio.Task[None]) -> None:
        self._stopping = True
        self._bus._forget(self)
        if not task.cancelled() and task.exception() is not None:
            log.error("consumer of %s failed", self.topic, exc_info=task.exception())

    async def stop(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stop taking messages; see :meth:`Consumer.stop`."""
        self._stopping = True
        if not self._task.done():
            if self._in_hand is not None and grace > 0:
                await asyncio.wait({self._task}, timeout=grace)
            if not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task})


class InProcessBus(Bus):
    """A :class:`~kumo.common.bus.base.Bus` whose peers all live in this process."""

    def __init__(self) -> None:
        self._started = False
        self._work_queues: dict[str, _Queue] = {}
        self._subscribers: dict[str, set[_Queue]] = {}
        self._consumers: set[InProcessConsumer] = set()

    async def start(self) -> None:
        """Mark the bus usable (there is nothing to connect to)."""
        self._started = True

    async def close(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stop every consumer; queued messages are dropped with the process."""
        await asyncio.gather(*(consumer.stop(grace=grace) for consumer in list(self._consumers)))
        self._started = False

    def _check_started(self) -> None:
        if not self._started:
            raise BusError("the bus is not started: await bus.start() first")

    def _work_queue(self, topic: str) -> _Queue:
        return self._work_queues.setdefault(topic, asyncio.Queue())

    async def call(
        self,
        topic: str,
        method: str,
        payload: dict[str, Any],
        *,
        timeout: float = DEFAULT_CALL_TIMEOUT,
    ) -> Any:
        """Ask one consumer of ``topic``; see :meth:`Bus.call`."""
        self._check_started()
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._work_queue(topic).put_nowait(_Message(encode_request(method, payload), reply))
        try:
            body = await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            raise BusTimeout(topic, method, timeout) from None
        return decode_reply(body, topic=topic, method=method)

    async def cast(self, topic: str, method: str, payload: dict[str, Any]) -> None:
        """Queue a message for one consumer of ``topic``; see :meth:`Bus.cast`."""
        self._check_started()
        self._work_queue(topic).put_nowait(_Message(encode_request(method, payload)))

    async def fanout(self, topic: str, method: str, payload: dict[str, Any]) -> None:
        """Copy a message to every subscriber of ``topic``; see :meth:`Bus.fanout`."""
        self._check_started()
        message = _Message(encode_request(method, payload))
        for queue in self._subscribers.get(topic, ()):
            queue.put_nowait(message)

    async def serve(self, topic: str, endpoint: object, *, fanout: bool = False) -> Consumer:
        """Start a consumer of ``topic``; see :meth:`Bus.serve`."""
        self._check_started()
        if fanout:
            queue: _Queue = asyncio.Queue()
            self._subscribers.setdefault(topic, set()).add(queue)
        else:
            queue = self._work_queue(topic)
        consumer = InProcessConsumer(self, topic, endpoint, queue, fanout=fanout)
        self._consumers.add(consumer)
        return consumer

    def _forget(self, consumer: InProcessConsumer) -> None:
        self._consumers.discard(consumer)
        if consumer.fanout:
            # Like an exclusive auto-delete queue, the subscriber's queue dies with it.
            subscribers = self._subscribers.get(consumer.topic, set())
            subscribers.discard(consumer._queue)
            if not subscribers:
                self._subscribers.pop(consumer.topic, None)
