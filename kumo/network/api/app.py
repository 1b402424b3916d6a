"""The networking service's ASGI app (Neutron API v2.0), mounted at /networking."""

from __future__ import annotations

from fastapi import APIRouter

from kumo.common.api import Authenticate, create_service
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.web import ServiceApp
from kumo.network import policies
from kumo.network.api.errors import render_error

ROUTERS: list[APIRouter] = []


def create_app(settings: Settings, db: Database, authenticate: Authenticate) -> ServiceApp:
    """Networking's app with every route, rendering errors in Neutron's format."""
    return create_service(
        name="network",
        prefix="/networking",
        render=render_error,
        rules=policies.RULES,
        routers=ROUTERS,
        authenticate=authenticate,
        max_body=settings.max_request_body,
        policy_file=settings.policy_file,
        state={"settings": settings, "db": db},
    )
