"""Notice guest taps as QEMU creates them, so the agent plugs them at once.

QEMU makes a guest's tap (``ktp-…``) when the guest starts, again on every
start after a stop, and after the API already told the agent about the port
(the binding happens before the spawn). Waiting for the periodic resync would
leave a booting guest's first DHCP requests unanswered, so the agent follows
the host's link events (``ip -o monitor link``, the kernel's netlink
notifications) and reconciles whenever a Kumo tap appears or changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from kumo.agents.network.linux import names

log = logging.getLogger(__name__)

#: Seconds before a monitor that exited is started again.
RESTART_DELAY = 2.0


def mentions_tap(line: str) -> bool:
    """Whether an ``ip -o monitor link`` line is about a Kumo guest tap."""
    return f" {names.TAP}" in line or line.startswith(names.TAP)


async def watch_taps(on_tap: Callable[[], None]) -> None:
    """Call ``on_tap`` for every link event of a Kumo tap, until cancelled."""
    while True:
        try:
            proc = await asyncio.create_subprocess_exec(
                "ip",
                "-o",
                "monitor",
                "link",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:  # no iproute2: taps are plugged at the periodic resync
            log.warning("cannot follow link events (%s); guest taps wait for the resync", exc)
            return
        try:
            assert proc.stdout is not None
            while line := await proc.stdout.readline():
                if mentions_tap(line.decode(errors="replace")):
                    on_tap()
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.wait(), 5)
        log.warning("ip monitor exited (status %s); restarting it", proc.returncode)
        await asyncio.sleep(RESTART_DELAY)
