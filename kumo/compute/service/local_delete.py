"""What Nova's API frees itself when it deletes a server no compute host holds.

A server that was never scheduled, whose host is down, or that is shelved-offloaded
is deleted by the API at once (``_local_delete``). Its ports (made by the host at
build time and kept while shelved) and its placement allocations would otherwise
stay behind: a project's security group could then never be deleted (409 "in use").
The cleanup is a swappable async callable kept on the compute app's state
(``local_cleanup``); tests put a recording fake there.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable

from kumo.common import errors
from kumo.common.clients.base import ServiceSession
from kumo.common.clients.network import NetworkClient
from kumo.common.config import Settings

log = logging.getLogger("kumo.compute.servers")

#: server uuid → frees its ports and allocations (best effort; never raises).
LocalCleanup = Callable[[str], Awaitable[None]]


def service_cleanup(settings: Settings) -> LocalCleanup:
    """A :data:`LocalCleanup` with the service token (ports of any project)."""
    session: ServiceSession | None = None

    async def cleanup(server_id: str) -> None:
        nonlocal session
        if session is None:
            session = ServiceSession(settings)
        network = NetworkClient(session)
        try:
            for port in await network.list_ports(device_id=server_id):
                await network.delete_port(str(port["id"]))
        except errors.KumoError as exc:  # the network service may be absent or down
            log.warning("could not free the ports of deleted server %s: %s", server_id, exc)
        with contextlib.suppress(errors.KumoError):
            await session.request("DELETE", "placement", f"/allocations/{server_id}")

    return cleanup
