"""The identity service's ASGI app, mounted at /identity."""

from __future__ import annotations

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.policy import Enforcer
from kumo.common.web import ServiceApp, make_service_app
from kumo.identity import policies
from kumo.identity.api import (
    access_rules,
    application_credentials,
    auth,
    catalog,
    credentials,
    domains,
    ec2_credentials,
    extensions,
    grants,
    groups,
    projects,
    role_assignments,
    roles,
    users,
    versions,
)
from kumo.identity.api.errors import render_error
from kumo.identity.service.core import Identity

ROUTERS = [
    versions.router,
    auth.router,
    domains.router,
    projects.router,
    users.router,
    groups.router,
    roles.router,
    grants.router,
    role_assignments.router,
    catalog.router,
    credentials.router,
    ec2_credentials.router,
    application_credentials.router,
    access_rules.router,
    extensions.router,
]


def make_identity(settings: Settings, db: Database) -> Identity:
    """The identity service bundle for this process."""
    return Identity(
        db=db, settings=settings, enforcer=Enforcer(policies.RULES, settings.policy_file)
    )


def create_app(ident: Identity) -> ServiceApp:
    """Identity's app with every route, rendering errors in Keystone's format."""
    app, asgi = make_service_app("identity", render_error, ident.settings.max_request_body)
    app.state.identity = ident
    for router in ROUTERS:
        app.include_router(router)
    return ServiceApp(prefix="/identity", app=app, asgi=asgi, render=render_error)
