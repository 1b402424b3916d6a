"""Assemble every service into the one ASGI app served by `kumo serve`."""

from __future__ import annotations

from starlette.types import ASGIApp

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

#: Every service but identity, each a factory of (settings, db, authenticate).
SERVICES = (create_compute_app, create_image_app, create_network_app, create_placement_app)


def build_app(settings: Settings, db: Database | None = None) -> ASGIApp:
    """The whole API: identity, and every service validating tokens through it locally."""
    db = db or Database(settings.effective_database_url)
    ident = make_identity(settings, db)
    authenticate = local_authenticator(ident)
    apps = [create_identity_app(ident)]
    apps += [factory(settings, db, authenticate) for factory in SERVICES]
    return root_app(apps)
