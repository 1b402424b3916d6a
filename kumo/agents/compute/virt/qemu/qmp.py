"""Talking to one guest's QEMU over its QMP unix socket (the ``qemu.qmp`` package).

A QMP socket serves one client at a time, so the driver holds a per-guest lock
and connects for each operation: that also makes re-adoption free — a new Kumo
process simply connects to the socket the old one left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from qemu.qmp import QMPClient, QMPError

from kumo.agents.compute.virt.driver import VirtError

# qemu.qmp logs every disconnect at WARNING/ERROR; the driver reports what matters.
logging.getLogger("qemu.qmp").setLevel(logging.CRITICAL)


class QMPSession:
    """One connected QMP session: ``async with QMPSession(path) as qmp: await qmp.run(...)``."""

    def __init__(self, socket_path: Path, *, timeout: float = 10.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._client = QMPClient(f"kumo:{socket_path.parent.name}")

    async def __aenter__(self) -> QMPSession:
        try:
            await asyncio.wait_for(self._client.connect(str(self.socket_path)), self.timeout)
        except (QMPError, OSError, TimeoutError) as exc:
            raise VirtError(f"cannot reach QEMU's monitor at {self.socket_path}: {exc}") from exc
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # The guest may have quit under us (quit, poweroff): nothing to close then.
        with contextlib.suppress(QMPError, OSError, EOFError):
            await self._client.disconnect()

    async def run(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        """Execute one QMP command and return its ``return`` value."""
        try:
            return await asyncio.wait_for(self._client.execute(command, arguments), self.timeout)
        except (QMPError, OSError, TimeoutError) as exc:
            raise VirtError(f"QMP {command} failed: {exc}") from exc
