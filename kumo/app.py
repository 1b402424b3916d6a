"""Assemble every service into the one ASGI app served by `kumo serve`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp

from kumo.agents.network import capability
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.web import root_app
from kumo.compute.api.app import create_app as create_compute_app
from kumo.identity.api.app import create_app as create_identity_app
from kumo.identity.api.app import make_identity
from kumo.identity.api.deps import local_authenticator
from kumo.image.api.app import create_app as create_image_app
from kumo.network.api.app import create_app as create_network_app
from kumo.placement.api.app import create_app as create_placement_app

log = logging.getLogger(__name__)

#: Every service but identity, each a factory of (settings, db, authenticate).
SERVICES = (create_compute_app, create_image_app, create_network_app, create_placement_app)


def build_app(
    settings: Settings,
    db: Database | None = None,
    *,
    compute_pieces: tuple[str, ...] | None = None,
    register_hosts_at_start: bool = False,
) -> ASGIApp:
    """The whole API: identity, and every service validating tokens through it locally.

    Its lifespan starts the message bus and puts a
    :class:`~kumo.compute.rpcapi.ComputeAPI` on every service app's state
    (``compute_rpc``). ``compute_pieces`` are the parts of the compute control
    plane run in this process (default: scheduler, conductor and compute agents
    when ``compute_in_process``, else none: role ``api``); they reach the other
    services through this very app, without a network hop.
    ``register_hosts_at_start`` registers the compute hosts at once (``kumo
    serve``) instead of on the first boot (tests).
    """
    from kumo.compute.runtime import PIECES, ComputeRuntime

    db = db or Database(settings.effective_database_url)
    ident = make_identity(settings, db)
    authenticate = local_authenticator(ident)
    apps = [create_identity_app(ident)]
    apps += [factory(settings, db, authenticate) for factory in SERVICES]
    if compute_pieces is None:
        compute_pieces = tuple(sorted(PIECES)) if settings.compute_in_process else ()
    asgi: list[ASGIApp] = []

    @asynccontextmanager
    async def lifespan(root: Any) -> AsyncIterator[None]:
        runtime = ComputeRuntime(
            settings,
            db,
            pieces=compute_pieces,
            transport=httpx.ASGITransport(app=asgi[0]),
            register_at_start=register_hosts_at_start,
        )
        await runtime.start()
        root.state.compute_runtime = runtime
        network_agent = None
        # Only an app running the compute pieces (role all) may run the data plane.
        decision = capability.decide(settings, role_all=bool(compute_pieces))
        if compute_pieces:
            capability.write_status(settings.state_dir, decision)
            log.log(
                logging.INFO if decision.run else logging.WARNING,
                "network agent: %s",
                decision.reason,
            )
        if decision.run:
            from kumo.agents.network.agent import start_network_agent

            network_agent = await start_network_agent(
                settings, runtime.bus, transport=httpx.ASGITransport(app=asgi[0])
            )
        lookup = runtime.image_lookup() if compute_pieces else None
        for service in apps:
            service.app.state.compute_rpc = runtime.compute_rpc
            # The networking API tells the data plane about changes over the bus.
            service.app.state.bus = runtime.bus if network_agent is not None else None
            if lookup is not None:
                # The servers API checks images in-process too (no HTTP hop to itself).
                service.app.state.image_lookup = lookup
        try:
            yield
        finally:
            if network_agent is not None:
                await network_agent.stop()
            await runtime.stop()

    from starlette.routing import Mount

    from kumo.compute.metadata import create_metadata_app

    metadata = Mount("/metadata", app=create_metadata_app(settings, db))
    asgi.append(root_app(apps, extra=[metadata], lifespan=lifespan))
    return asgi[0]
