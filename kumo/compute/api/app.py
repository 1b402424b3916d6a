"""The compute service's ASGI app (Nova API v2.1), mounted at /compute."""

from __future__ import annotations

from fastapi import APIRouter

from kumo.common.api import Authenticate, create_service
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.microversion import Version, VersionRange
from kumo.common.web import ServiceApp
from kumo.compute import policies
from kumo.compute.api.errors import render_error

#: Nova's microversions: 2.1 up to 2.100; clients name them with either header.
VERSIONS = VersionRange(
    "compute", Version(2, 1), Version(2, 100), legacy_header="X-OpenStack-Nova-API-Version"
)

ROUTERS: list[APIRouter] = []


def create_app(settings: Settings, db: Database, authenticate: Authenticate) -> ServiceApp:
    """Compute's app with every route, rendering errors in Nova's format."""
    return create_service(
        name="compute",
        prefix="/compute",
        render=render_error,
        rules=policies.RULES,
        routers=ROUTERS,
        authenticate=authenticate,
        max_body=settings.max_request_body,
        policy_file=settings.policy_file,
        versions=VERSIONS,
        microversion_paths=("/v2.1",),
        state={"settings": settings, "db": db},
    )
