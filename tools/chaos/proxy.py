"""A TCP forwarder on loopback whose links can be cut: a broker or database "restart".

RabbitMQ and PostgreSQL on this machine are shared services: they are never
restarted. Kumo talks to them through this proxy instead, and cutting every
link of the proxy is what Kumo sees when its server restarts. The proxy runs
its own event loop in a thread, so synchronous scenario code can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from typing import Any


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to ``target``; :meth:`cut` drops every open link."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._refusing = False
        self.cuts = 0

    def _run(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=30)

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1."""
        self._thread.start()

        async def listen() -> None:
            self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)

        self._run(listen())

    def cut(self, refuse_for: float = 0.0) -> None:
        """Abort every open link; refuse new ones for ``refuse_for`` seconds (server down)."""

        async def do() -> None:
            self.cuts += 1
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()
            if refuse_for > 0:
                self._refusing = True
                await asyncio.sleep(refuse_for)
                self._refusing = False

        self._run(do())

    def close(self) -> None:
        """Cut every link, stop listening and stop the loop."""

        async def do() -> None:
            for writer in list(self._writers):
                writer.transport.abort()
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        with contextlib.suppress(Exception):
            self._run(do())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _link(self, reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        if self._refusing:
            client.transport.abort()
            return
        try:
            up_reader, upstream = await asyncio.open_connection(*self._target)
        except OSError:
            client.transport.abort()
            return
        self._writers |= {client, upstream}
        await asyncio.gather(self._pipe(reader, upstream), self._pipe(up_reader, client))
        self._writers -= {client, upstream}

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
