"""The image service's ASGI app (Glance API v2), mounted at /image."""

from __future__ import annotations

from fastapi import APIRouter

from kumo.common.api import Authenticate, create_service
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.web import ServiceApp
from kumo.image import policies
from kumo.image.api import discovery, image_data, images, members, metadefs, schemas, versions
from kumo.image.api.errors import render_error

ROUTERS: list[APIRouter] = [
    versions.router,
    images.router,
    image_data.router,
    members.router,
    schemas.router,
    discovery.router,
    metadefs.router,
]


def create_app(settings: Settings, db: Database, authenticate: Authenticate) -> ServiceApp:
    """Image's app with every route, rendering errors as Glance does."""
    return create_service(
        name="image",
        prefix="/image",
        render=render_error,
        rules=policies.RULES,
        routers=ROUTERS,
        authenticate=authenticate,
        max_body=settings.max_request_body,
        policy_file=settings.policy_file,
        state={"settings": settings, "db": db},
        unlimited_body=image_data.is_data_path,
    )
