"""Assemble every service into the one ASGI app served by `kumo serve`."""

from __future__ import annotations

from starlette.types import ASGIApp

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.web import root_app
from kumo.identity.api.app import create_app as create_identity_app
from kumo.identity.api.app import make_identity


def build_app(settings: Settings, db: Database | None = None) -> ASGIApp:
    """The whole API: identity now; compute, image, network, volume, placement later."""
    db = db or Database(settings.effective_database_url)
    identity = create_identity_app(make_identity(settings, db))
    return root_app([identity])
