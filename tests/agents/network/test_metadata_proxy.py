"""The metadata proxy inside a namespace, against a stub metadata API on the host."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
import textwrap
from pathlib import Path
from typing import Any

from kumo.agents.network.metadata_proxy import Instance, MetadataProxy, sign
from tests.agents.network import netlab

SECRET = "s3cret"

CLIENT = textwrap.dedent(
    """
    import socket, sys
    s = socket.create_connection(("169.254.169.254", 80), timeout=10,
                                 source_address=(sys.argv[1], 0))
    s.sendall(b"GET /openstack/latest/meta_data.json HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    print(data.decode())
    """
)


async def _stub(seen: list[dict[str, str]]) -> tuple[asyncio.Server, int]:
    """A metadata API that checks the signature the way Nova does."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = (await reader.readuntil(b"\r\n\r\n")).decode()
        headers = {}
        for line in raw.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        seen.append(headers)
        want = hmac.new(SECRET.encode(), headers["x-instance-id"].encode(), hashlib.sha256)
        ok = hmac.compare_digest(want.hexdigest(), headers["x-instance-id-signature"])
        body = b'{"uuid": "%s"}' % headers["x-instance-id"].encode() if ok else b"forged"
        status = "200 OK" if ok else "403 Forbidden"
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _get(netns: str, source: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "ip",
        "netns",
        "exec",
        netns,
        sys.executable,
        "-c",
        CLIENT,
        source,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return out.decode()


async def test_proxy_signs_and_forwards(state_dir: Path) -> None:
    netns = f"kumo-t{netlab.uid()[:6]}-meta"
    netlab.sh("ip", "netns", "add", netns)
    seen: list[dict[str, Any]] = []
    server, port = await _stub(seen)
    proxy = MetadataProxy(f"http://127.0.0.1:{port}", SECRET)
    try:
        netlab.sh("ip", "link", "set", "lo", "up", netns=netns)
        for cidr in ("169.254.169.254/32", "10.90.1.11/32", "10.90.1.66/32"):
            netlab.sh("ip", "addr", "add", cidr, "dev", "lo", netns=netns)
        await proxy.serve(netns)
        proxy.set_instances(netns, {"10.90.1.11": Instance("inst-1", "proj-1")})
        answer = await _get(netns, "10.90.1.11")
        assert answer.startswith("HTTP/1.1 200"), answer
        assert '{"uuid": "inst-1"}' in answer
        assert seen[-1]["x-tenant-id"] == "proj-1"
        assert seen[-1]["x-forwarded-for"] == "10.90.1.11"
        assert seen[-1]["x-instance-id-signature"] == sign(SECRET, "inst-1")
        # An address no instance owns gets 404 and never reaches the API.
        count = len(seen)
        assert (await _get(netns, "10.90.1.66")).startswith("HTTP/1.1 404")
        assert len(seen) == count
        # A proxy with the wrong secret is refused by the API (forged signature).
        wrong = MetadataProxy(f"http://127.0.0.1:{port}", "wrong")
        try:
            await proxy.stop_serving(netns)
            await wrong.serve(netns)
            wrong.set_instances(netns, {"10.90.1.11": Instance("inst-1", "proj-1")})
            assert (await _get(netns, "10.90.1.11")).startswith("HTTP/1.1 403")
        finally:
            await wrong.close()
    finally:
        await proxy.close()
        server.close()
        netlab.sh("ip", "netns", "delete", netns)
