"""The message bus interface, its errors, and the parts both implementations share.

Kumo's services talk over a bus with three verbs, as in oslo.messaging:

* ``call`` sends a request to *one* consumer of a topic and waits for its reply;
* ``cast`` sends a message to *one* consumer of a topic and does not wait
  (competing consumers: a work queue);
* ``fanout`` sends a message to *every* subscriber of a fanout topic.

A consumer is an *endpoint*: any object whose public methods, sync or async,
are named like the ``method`` of the messages it handles. The payload, a
JSON-serialisable dict, is passed as keyword arguments.

Delivery guarantee (the same for every implementation): a ``call`` or ``cast``
message is acknowledged only after its handler has finished. If the consumer
dies while the handler runs (it is stopped abruptly, its connection drops, or
the handler raises :class:`ConsumerCrashed`), the message is requeued and
delivered to another, or a restarted, consumer. A handler that raises any
other exception has still *handled* the message: a ``call`` gets the error
back as :class:`RemoteError`, a ``cast`` logs it, and either way the message is
acknowledged, so a poison message is not redelivered forever. Delivery is
therefore at-least-once: handlers should be idempotent. Fanout subscribers
own private queues that die with them, so fanout is at-most-once per
subscriber.
"""

from __future__ import annotations

import inspect
import json
import logging
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Self

log = logging.getLogger(__name__)

DEFAULT_CALL_TIMEOUT = 30.0
DEFAULT_STOP_GRACE = 10.0


class BusError(Exception):
    """Base class of the errors the bus raises."""


class BusTimeout(BusError, TimeoutError):
    """No reply to a ``call`` arrived within its timeout."""

    def __init__(self, topic: str, method: str, timeout: float) -> None:
        super().__init__(f"no reply to {method!r} on topic {topic!r} within {timeout:g}s")
        self.topic = topic
        self.method = method
        self.timeout = timeout


class BusUnavailable(BusError):
    """The broker stayed unreachable for longer than the bus was willing to wait."""


class RemoteError(BusError):
    """The remote handler of a ``call`` raised; carries its exception's type name and message."""

    def __init__(self, exc_type: str, message: str, *, topic: str = "", method: str = "") -> None:
        super().__init__(f"{exc_type}: {message}" if message else exc_type)
        self.exc_type = exc_type
        self.message = message
        self.topic = topic
        self.method = method


class UnknownMethod(BusError):
    """The endpoint has no public method of the requested name."""


class ConsumerCrashed(Exception):
    """Raised by a handler to make its consumer die mid-message.

    The message is *not* acknowledged: it is requeued for another consumer and
    this consumer stops. It simulates a process crash in tests, and a handler
    may raise it when it finds its own process unfit to go on.
    """


class Consumer(ABC):
    """A handle on an endpoint registered with :meth:`Bus.serve`."""

    topic: str
    fanout: bool

    @property
    @abstractmethod
    def running(self) -> bool:
        """Whether the consumer still takes messages (false once stopped or crashed)."""

    @abstractmethod
    async def stop(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stop taking messages; give the message in hand ``grace`` seconds to finish.

        A handler still running after ``grace`` seconds is cancelled and its
        message requeued for another consumer, so ``stop(grace=0)`` is an
        abrupt stop. Stopping twice is harmless.
        """


class Bus(ABC):
    """The message bus: ``call``, ``cast``, ``fanout`` and ``serve`` over topics.

    A topic is any string; server-specific topics such as ``compute.host1`` are
    just other topics. Use as ``async with bus:`` or call :meth:`start` and
    :meth:`close`.
    """

    @abstractmethod
    async def start(self) -> None:
        """Connect; must be awaited before any other method."""

    @abstractmethod
    async def close(self, *, grace: float = DEFAULT_STOP_GRACE) -> None:
        """Stop every consumer of this bus (see :meth:`Consumer.stop`) and disconnect."""

    @abstractmethod
    async def call(
        self,
        topic: str,
        method: str,
        payload: dict[str, Any],
        *,
        timeout: float = DEFAULT_CALL_TIMEOUT,
    ) -> Any:
        """Ask one consumer of ``topic`` to run ``method(**payload)`` and return its result.

        Raises :class:`BusTimeout` when no reply arrives within ``timeout``
        seconds (the request then expires unhandled if still queued), and
        :class:`RemoteError` when the handler raised.
        """

    @abstractmethod
    async def cast(self, topic: str, method: str, payload: dict[str, Any]) -> None:
        """Queue ``method(**payload)`` for one consumer of ``topic``; do not wait.

        The message waits in the topic's queue until a consumer takes it.
        """

    @abstractmethod
    async def fanout(self, topic: str, method: str, payload: dict[str, Any]) -> None:
        """Deliver ``method(**payload)`` to every current subscriber of fanout ``topic``."""

    @abstractmethod
    async def serve(self, topic: str, endpoint: object, *, fanout: bool = False) -> Consumer:
        """Start handling messages of ``topic`` with ``endpoint``'s methods.

        With ``fanout=False`` the consumer competes with the topic's other
        consumers, one message at a time. With ``fanout=True`` it subscribes to
        the fanout topic of that name (a namespace apart from work topics) and
        receives every message sent there while it runs.
        """

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


# The wire format, shared so both implementations behave byte for byte alike.


def encode_request(method: str, payload: dict[str, Any]) -> bytes:
    """Serialise a request; raises ``TypeError`` at the sender if not JSON-serialisable."""
    return json.dumps({"method": method, "payload": payload}).encode()


def _decode_request(body: bytes) -> tuple[str, dict[str, Any]]:
    request = json.loads(body)
    method, payload = request["method"], request["payload"]
    if not isinstance(method, str) or not isinstance(payload, dict):
        raise ValueError("malformed request: method must be a string and payload a dict")
    return method, payload


def _encode_result(result: Any) -> bytes:
    return json.dumps({"result": result}).encode()


def _encode_error(exc: BaseException) -> bytes:
    return json.dumps({"error": {"type": type(exc).__name__, "message": str(exc)}}).encode()


def decode_reply(body: bytes, *, topic: str, method: str) -> Any:
    """Return the result carried by a reply, or raise its :class:`RemoteError`."""
    reply = json.loads(body)
    if "error" in reply:
        error = reply["error"]
        raise RemoteError(error["type"], error["message"], topic=topic, method=method)
    return reply["result"]


async def _invoke(endpoint: object, method: str, payload: dict[str, Any]) -> Any:
    # Private names are never callable over the bus: no dunder tricks.
    handler = None if method.startswith("_") else getattr(endpoint, method, None)
    if not callable(handler):
        raise UnknownMethod(f"{type(endpoint).__name__} has no method {method!r}")
    result = handler(**payload)
    if inspect.isawaitable(result):
        result = await result
    return result


async def handle_message(
    endpoint: object, body: bytes, *, topic: str, wants_reply: bool
) -> bytes | None:
    """Run one message through ``endpoint``; return the encoded reply, or None for a cast.

    Sync methods run on the event loop, so they must not block; make slow
    handlers async. Every handler exception becomes the reply (call) or a log
    record (cast): the caller acknowledges the message after this returns.
    :class:`ConsumerCrashed` and cancellation propagate instead: the consumer
    has died and must not acknowledge.
    """
    method = "?"
    try:
        method, payload = _decode_request(body)
        result = await _invoke(endpoint, method, payload)
        return _encode_result(result) if wants_reply else None
    except ConsumerCrashed:
        raise
    except Exception as exc:
        if wants_reply:
            log.info("call %s on topic %s raised %s: %s", method, topic, type(exc).__name__, exc)
            return _encode_error(exc)
        log.exception("cast %s on topic %s failed; message dropped", method, topic)
        return None
