"""The placement service's ASGI app, mounted at /placement."""

from __future__ import annotations

from fastapi import APIRouter

from kumo.common.api import Authenticate, create_service
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.microversion import Version, VersionRange
from kumo.common.web import ServiceApp
from kumo.placement import policies
from kumo.placement.api import (
    aggregates,
    allocation_candidates,
    allocations,
    inventories,
    reshaper,
    resource_classes,
    resource_providers,
    root,
    traits,
    usages,
)
from kumo.placement.api.errors import render_error

#: Placement's microversions: 1.0 up to 1.39.
VERSIONS = VersionRange("placement", Version(1, 0), Version(1, 39))

ROUTERS: list[APIRouter] = [
    root.router,
    resource_providers.router,
    inventories.router,
    aggregates.router,
    traits.router,
    resource_classes.router,
    allocations.router,
    usages.router,
    allocation_candidates.router,
    reshaper.router,
]


def create_app(settings: Settings, db: Database, authenticate: Authenticate) -> ServiceApp:
    """Placement's app with every route, rendering errors in Placement's format."""
    return create_service(
        name="placement",
        prefix="/placement",
        render=render_error,
        rules=policies.RULES,
        routers=ROUTERS,
        authenticate=authenticate,
        max_body=settings.max_request_body,
        policy_file=settings.policy_file,
        versions=VERSIONS,
        state={"settings": settings, "db": db},
    )
