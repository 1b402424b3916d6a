"""The metadata proxy: 169.254.169.254:80 inside router (or DHCP) namespaces.

A guest's request arrives on a socket opened inside its router's namespace;
the proxy finds the instance by the guest's source address (ports of the
networks behind that router) and forwards the request to the compute API's
metadata endpoint with ``X-Instance-ID``, ``X-Tenant-ID``, ``X-Forwarded-For``
and ``X-Instance-ID-Signature`` = HMAC-SHA256(shared secret, instance id),
as Neutron's metadata agent does for Nova. Unknown sources get 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from dataclasses import dataclass

import httpx

from kumo.agents.network.linux.netns_socket import listen_in_namespace

log = logging.getLogger(__name__)

METADATA_IP = "169.254.169.254"
MAX_HEADER = 16 * 1024
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Instance:
    """Who sits behind one fixed IP."""

    instance_id: str
    project_id: str


def sign(secret: str, instance_id: str) -> str:
    """``X-Instance-ID-Signature``: hex HMAC-SHA256 of the instance id."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


class MetadataProxy:
    """One proxy for the host; :meth:`serve` adds a namespace, :meth:`set_instances` its map."""

    def __init__(
        self,
        upstream: str,
        secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.secret = secret
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._servers: dict[str, asyncio.Server] = {}
        self._instances: dict[str, dict[str, Instance]] = {}

    def set_instances(self, netns: str, instances: dict[str, Instance]) -> None:
        """Replace the fixed IP → instance map of a namespace."""
        self._instances[netns] = dict(instances)

    @property
    def namespaces(self) -> list[str]:
        """Namespaces the proxy listens in."""
        return sorted(self._servers)

    async def serve(self, netns: str, host: str = METADATA_IP, port: int = 80) -> None:
        """Listen inside ``netns`` (idempotent)."""
        if netns in self._servers:
            return
        sock = await asyncio.to_thread(listen_in_namespace, netns, host, port)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._handle(netns, reader, writer)

        self._servers[netns] = await asyncio.start_server(handle, sock=sock)

    async def stop_serving(self, netns: str) -> None:
        """Stop listening inside ``netns``."""
        server = self._servers.pop(netns, None)
        self._instances.pop(netns, None)
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    async def close(self) -> None:
        """Stop every listener and the upstream client."""
        for netns in list(self._servers):
            await self.stop_serving(netns)
        await self._client.aclose()

    async def _handle(
        self, netns: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            status, headers, body = await self._proxy(netns, reader, writer)
        except Exception:
            log.warning("metadata request in %s failed", netns, exc_info=True)
            status, headers, body = 500, {"Content-Type": "text/plain"}, b"Internal error\n"
        head = f"HTTP/1.1 {status} {_reason(status)}\r\n"
        headers = {**headers, "Content-Length": str(len(body)), "Connection": "close"}
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        with contextlib.suppress(OSError):
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
            writer.close()

    async def _proxy(
        self, netns: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            return 400, {"Content-Type": "text/plain"}, b"Bad request\n"
        if len(raw) > MAX_HEADER:
            return 400, {"Content-Type": "text/plain"}, b"Bad request\n"
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if (
            len(parts) != 3
            or parts[0] not in ("GET", "HEAD", "POST")
            or not parts[1].startswith("/")
        ):
            return 400, {"Content-Type": "text/plain"}, b"Bad request\n"
        method, path = parts[0], parts[1]
        request_headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                request_headers[name.strip().lower()] = value.strip()
        body = b""
        length = request_headers.get("content-length", "0")
        if length.isdigit() and 0 < int(length) <= MAX_BODY:
            body = await asyncio.wait_for(reader.readexactly(int(length)), 10)
        peer = writer.get_extra_info("peername")
        source = str(peer[0]) if peer else ""
        instance = self._instances.get(netns, {}).get(source)
        if instance is None:
            log.info("metadata request from unknown source %s in %s: 404", source, netns)
            return 404, {"Content-Type": "text/plain"}, b"Not Found\n"
        forward = {
            "X-Forwarded-For": source,
            "X-Instance-ID": instance.instance_id,
            "X-Tenant-ID": instance.project_id,
            "X-Instance-ID-Signature": sign(self.secret, instance.instance_id),
        }
        if "content-type" in request_headers:
            forward["Content-Type"] = request_headers["content-type"]
        response = await self._client.request(
            method, self.upstream + path, headers=forward, content=body or None
        )
        log.debug(
            "metadata %s %s for %s (%s): %d",
            method,
            path,
            instance.instance_id,
            source,
            response.status_code,
        )
        out = {"Content-Type": response.headers.get("content-type", "text/plain")}
        return response.status_code, out, response.content


def _reason(status: int) -> str:
    return {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}.get(
        status, "Status"
    )
