"""The networking service's ASGI app (Neutron API v2.0), mounted at /networking."""

from __future__ import annotations

from fastapi import APIRouter

from kumo.common.api import Authenticate, create_service
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.web import ServiceApp
from kumo.network import policies
from kumo.network.api import (
    agents,
    floatingips,
    ip_availability,
    networks,
    ports,
    quotas,
    routers,
    security_groups,
    service_providers,
    subnetpools,
    subnets,
    tags,
    versions,
)
from kumo.network.api.errors import render_error
from kumo.network.policies.enforcer import NeutronEnforcer

ROUTERS: list[APIRouter] = [
    versions.router,
    networks.router,
    subnets.router,
    subnetpools.router,
    ports.router,
    routers.router,
    floatingips.router,
    security_groups.router,
    quotas.router,
    ip_availability.router,
    tags.router,
    service_providers.router,
    agents.router,
]


def create_app(settings: Settings, db: Database, authenticate: Authenticate) -> ServiceApp:
    """Networking's app with every route, rendering errors in Neutron's format."""
    service = create_service(
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
    # Neutron's rules test resource fields (``field:networks:shared=True``).
    service.app.state.enforcer = NeutronEnforcer(policies.RULES, settings.policy_file)
    return service
