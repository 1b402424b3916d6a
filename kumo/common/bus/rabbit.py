"""The RabbitMQ bus, on aio-pika, for Kumo spread over several hosts.

Layout on the broker (every name starts with ``kumo.`` so nothing clashes):

* work topic ``T``: durable queue ``kumo.T`` on the default exchange; ``call``
  and ``cast`` publish to it, each consumer takes from it on its own channel
  with prefetch 1 and acknowledges after its handler finished, so a message
  in flight belongs to one consumer and returns to the queue if that consumer's
  channel or connection dies;
* fanout topic ``T``: durable fanout exchange ``kumo.fanout.T``; each
  subscriber binds an exclusive auto-delete queue ``kumo.fanout.T.<uuid>``;
* replies: each bus has an exclusive auto-delete queue ``kumo.reply.<uuid>``;
  requests carry ``reply_to`` and a ``correlation_id`` and expire after the
  call's timeout, so a request nobody took in time is never run.

The connection is robust (``aio_pika.connect_robust``): after a broker restart
or a network cut it reconnects and restores queues, bindings and consumers.
Calls in flight during an outage time out; casts wait for the reconnection.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable
from typing import Any, Literal

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aio_pika.exceptions import AMQPConnectionError, AMQPError, ChannelInvalidStateError

from kumo.common.bus.base import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_STOP_GRACE,
    Bus,
    BusError,
    BusTimeout,
    BusUnavailable,
    Consumer,
    ConsumerCrashed,
    decode_reply,
    encode_request,
    handle_message,
)

log = logging.getLogger(__name__)

PREFIX = "kumo."
# Bounds each broker round trip of a shutdown, so stopping never hangs on a dead broker.
_TEARDOWN_TIMEOUT = 5.0
_CONTENT_TYPE = "application/json"
# What publishing raises while a robust connection or channel is being restored.
_LINK_DOWN = (ChannelInvalidStateError, AMQPConnectionError, ConnectionError)
_REPUBLISH_PAUSE = 0.1


def queue_name(topic: str) -> str:
    """The durable queue of work topic ``topic``."""
    return f"{PREFIX}{topic}"


def fanout_exchange_name(topic: str) -> str:
    """The fanout exchange of fanout topic ``topic``."""
    return f"{PREFIX}fanout.{topic}"


async def _quietly(step: Awaitable[Any], what: str) -> None:
    """Run one shutdown step; a dead channel or broker only deserves a debug line."""
    try:
        await asyncio.wait_for(step, _TEARDOWN_TIMEOUT)
    except (AMQPError, ConnectionError, RuntimeError, TimeoutError) as exc:
        log.debug("could not %s: %r", what, exc)


class RabbitConsumer(Consumer):
    """One endpoint consuming one queue on its own channel, one message at a time."""

    def __init__(self, bus: RabbitBus, topic: str, endpoint: object, *, fanout: bool) -> None:
        self.topic = topic
        self.fanout = fanout
        self._bus = bus
        self._endpoint = endpoint
        self._stopping = False
        self._stopped = asyncio.Event()
        self._stop_lock = asyncio.Lock()
        self._in_hand: asyncio.Task[Any] | None = None
        self._crash: asyncio.Task[None] | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None

    @property
    def running(self) -> bool:
        """Whether the consumer still takes messages (or will, once its connection is restored)."""
        return not self._stopping

    async def _start(self, connection: AbstractRobustConnection) -> None:
        self._channel = channel = await connection.channel()
        await channel.set_qos(prefetch_count=1)
        if self.fanout:
            exchange = await channel.declare_exchange(
                fanout_exchange_name(self.topic), aio_pika.ExchangeType.FANOUT, durable=True
            )
            self._queue = await channel.declare_queue(
                f"{fanout_exchange_name(self.topic)}.{uuid.uuid4().hex}",
                exclusive=True,
                auto_delete=True,
            )
            await self._queue.bind(exchange)
        else:
            self._queue = await channel.declare_queue(queue_name(self.topic), durable=True)
        self._tag = await self._queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if self._stopping:
            await _quietly(message.nack(requeue=True), "return a message on stop")
            return
        self._in_hand = asyncio.current_task()
        try:
            reply = await handle_message(
                self._endpoint,
                message.body,
                topic=self.topic,
                wants_reply=message.reply_to is not None,
            )
        except ConsumerCrashed:
            log.warning("consumer of %s crashed mid-message; message requeued", self.topic)
            self._stopping = True
            await _quietly(self._cancel_subscription(), "cancel a crashed consumer")
            await _quietly(message.nack(requeue=True), "requeue a crashed consumer's message")
            # Closing the channel cancels its consumer tasks, this one among them.
            self._crash = asyncio.create_task(self._close())
            return
        finally:
            self._in_hand = None
        try:
            if reply is not None and message.reply_to and self._channel is not None:
                await self._channel.default_exchange.publish(
                    aio_pika.Message(
                        reply, correlation_id=message.correlation_id, content_type=_CONTENT_TYPE
                    ),
                    routing_key=message.reply_to,
                )
            await message.ack()
        except (AMQPError, ConnectionError, RuntimeError) as exc:
            # The channel died under us: the broker redelivers the message elsewhere.
            log.warning(
                "could not acknowledge a message of %s (%r); it will be redelivered",
                self.topic,
                exc,
            )

    async def _cancel_subscription(self) -> None:
        tag, self._tag = self._tag, None
        channel_open = self._channel is not None and not self._channel.is_closed
        if self._queue is not None and tag is not None and channel_open:
            await self._queue.cancel(tag)

    async def _close(self) -> None:
        if self._channel is not None and not self._channel.is_closed:
            await _quietly(self._channel.close(), "close a consumer channel")
        self._bus._forget(self)
        self._stopped.set()

    async def stop(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stop taking messages; see :meth:`Consumer.stop`.

        An un-acknowledged message goes back to the queue when the consumer's
        channel closes, which is what the broker does when a process dies too.
        """
        async with self._stop_lock:
            if self._stopped.is_set():
                return
            if self._crash is not None:
                await asyncio.wait({self._crash})
                return
            self._stopping = True
            await _quietly(self._cancel_subscription(), "cancel a consumer")
            in_hand = self._in_hand
            if in_hand is not None and grace > 0:
                await asyncio.wait({in_hand}, timeout=grace)
            if in_hand is not None and not in_hand.done():
                in_hand.cancel()
                await asyncio.wait({in_hand})
            await self._close()


class RabbitBus(Bus):
    """A :class:`~kumo.common.bus.base.Bus` on a RabbitMQ broker (``amqp://`` URL)."""

    def __init__(self, url: str, *, publish_timeout: float = 30.0) -> None:
        """Make a bus for broker ``url``; ``cast`` and ``fanout`` give up after ``publish_timeout``.

        aio-pika reads connection options from the URL's query string, for
        example ``?heartbeat=30&reconnect_interval=1``.
        """
        self._url = url
        self._publish_timeout = publish_timeout
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._reply_queue: AbstractQueue | None = None
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._declared_queues: set[str] = set()
        self._fanout_exchanges: dict[str, AbstractExchange] = {}
        self._consumers: set[RabbitConsumer] = set()

    @property
    def connection(self) -> AbstractRobustConnection:
        """The aio-pika connection (for health checks, and for tests that cut it)."""
        if self._connection is None:
            raise BusError("the bus is not started: await bus.start() first")
        return self._connection

    @property
    def _publisher(self) -> AbstractRobustChannel:
        if self._channel is None:
            raise BusError("the bus is not started: await bus.start() first")
        return self._channel

    @property
    def _reply_to(self) -> str:
        if self._reply_queue is None:
            raise BusError("the bus is not started: await bus.start() first")
        return self._reply_queue.name

    async def start(self) -> None:
        """Connect to the broker and open the reply queue."""
        name = f"kumo {socket.gethostname()} pid {os.getpid()}"
        self._connection = await aio_pika.connect_robust(
            self._url, client_properties={"connection_name": name}
        )
        self._channel = await self._connection.channel(publisher_confirms=True)
        self._reply_queue = await self._channel.declare_queue(
            f"{PREFIX}reply.{uuid.uuid4().hex}", exclusive=True, auto_delete=True
        )
        await self._reply_queue.consume(self._on_reply, no_ack=True)

    async def close(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stop every consumer of this bus and close the connection."""
        await asyncio.gather(*(consumer.stop(grace=grace) for consumer in list(self._consumers)))
        for future in self._pending.values():
            future.cancel()
        if self._connection is not None and not self._connection.is_closed:
            await _quietly(self._connection.close(), "close the connection")
        self._connection = self._channel = self._reply_queue = None
        self._declared_queues.clear()
        self._fanout_exchanges.clear()

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.get(message.correlation_id or "")
        if future is None or future.done():
            log.debug("dropping a late or unknown reply %s", message.correlation_id)
            return
        future.set_result(message.body)

    async def _declare_queue(self, topic: str) -> None:
        name = queue_name(topic)
        if name not in self._declared_queues:
            await self._publisher.declare_queue(name, durable=True)
            self._declared_queues.add(name)

    async def _fanout_exchange(self, topic: str) -> AbstractExchange:
        exchange = self._fanout_exchanges.get(topic)
        if exchange is None:
            exchange = await self._publisher.declare_exchange(
                fanout_exchange_name(topic), aio_pika.ExchangeType.FANOUT, durable=True
            )
            self._fanout_exchanges[topic] = exchange
        return exchange

    async def _publish(
        self, message: aio_pika.Message, topic: str, *, kind: Literal["call", "cast", "fanout"]
    ) -> None:
        """Publish, riding out a reconnection: a robust channel refuses work until restored.

        A message whose confirmation was lost with the link is sent again, so
        a reconnection may duplicate it (delivery is at-least-once anyway).
        """
        while True:
            channel = self._publisher
            try:
                await channel.ready()
                if kind == "fanout":
                    exchange, routing_key = await self._fanout_exchange(topic), ""
                else:
                    if kind == "cast":
                        await self._declare_queue(topic)
                    exchange, routing_key = channel.default_exchange, queue_name(topic)
                await exchange.publish(message, routing_key=routing_key)
                return
            except _LINK_DOWN as exc:
                log.info("broker link down (%r); publishing to %s once it is back", exc, topic)
                await asyncio.sleep(_REPUBLISH_PAUSE)

    async def _publish_within_timeout(
        self, message: aio_pika.Message, topic: str, *, kind: Literal["cast", "fanout"]
    ) -> None:
        try:
            async with asyncio.timeout(self._publish_timeout):
                await self._publish(message, topic, kind=kind)
        except TimeoutError:
            raise BusUnavailable(
                f"could not publish to {kind} topic {topic!r} within {self._publish_timeout:g}s"
            ) from None

    async def call(
        self,
        topic: str,
        method: str,
        payload: dict[str, Any],
        *,
        timeout: float = DEFAULT_CALL_TIMEOUT,
    ) -> Any:
        """Ask one consumer of ``topic``; see :meth:`Bus.call`.

        The queue is not declared here: a call to a topic nobody ever served
        is dropped by the broker and times out, as with oslo.messaging.
        """
        body = encode_request(method, payload)
        correlation_id = uuid.uuid4().hex
        message = aio_pika.Message(
            body,
            content_type=_CONTENT_TYPE,
            correlation_id=correlation_id,
            reply_to=self._reply_to,
            expiration=timeout,
        )
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = reply
        try:
            async with asyncio.timeout(timeout):
                await self._publish(message, topic, kind="call")
                reply_body = await reply
        except TimeoutError:
            raise BusTimeout(topic, method, timeout) from None
        finally:
            self._pending.pop(correlation_id, None)
        return decode_reply(reply_body, topic=topic, method=method)

    async def cast(self, topic: str, method: str, payload: dict[str, Any]) -> None:
        """Queue a persistent message for one consumer of ``topic``; see :meth:`Bus.cast`.

        While the broker is unreachable this waits for the reconnection, up to
        ``publish_timeout``, then raises :class:`BusUnavailable`.
        """
        message = aio_pika.Message(
            encode_request(method, payload),
            content_type=_CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await self._publish_within_timeout(message, topic, kind="cast")

    async def fanout(self, topic: str, method: str, payload: dict[str, Any]) -> None:
        """Publish to every subscriber of ``topic``; see :meth:`Bus.fanout` and :meth:`cast`."""
        message = aio_pika.Message(encode_request(method, payload), content_type=_CONTENT_TYPE)
        await self._publish_within_timeout(message, topic, kind="fanout")

    async def serve(self, topic: str, endpoint: object, *, fanout: bool = False) -> Consumer:
        """Start a consumer of ``topic`` on a channel of its own; see :meth:`Bus.serve`."""
        consumer = RabbitConsumer(self, topic, endpoint, fanout=fanout)
        await consumer._start(self.connection)
        self._consumers.add(consumer)
        return consumer

    def _forget(self, consumer: RabbitConsumer) -> None:
        self._consumers.discard(consumer)
