"""The compute service's ASGI app (Nova API v2.1), mounted at /compute."""

from __future__ import annotations

from fastapi import APIRouter

from kumo.common.api import Authenticate, create_service
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.microversion import Version, VersionRange
from kumo.common.web import ServiceApp
from kumo.compute import policies
from kumo.compute.api import aggregates as r_aggregates
from kumo.compute.api import availability_zones as r_availability_zones
from kumo.compute.api import console_proxy as h2_console_proxy
from kumo.compute.api import flavors as r_flavors
from kumo.compute.api import floating_ips as w1_floating_ips
from kumo.compute.api import hosts as r_hosts
from kumo.compute.api import hypervisors as r_hypervisors
from kumo.compute.api import images as c_images
from kumo.compute.api import instance_actions as s_instance_actions
from kumo.compute.api import instance_usage_audit_log as w1_audit_log
from kumo.compute.api import keypairs as r_keypairs
from kumo.compute.api import migrations as w1_migrations
from kumo.compute.api import networks as w1_networks
from kumo.compute.api import novnc as w5_novnc
from kumo.compute.api import quota_sets as r_quota_sets
from kumo.compute.api import remote_consoles as h2_remote_consoles
from kumo.compute.api import security_groups as w1_security_groups
from kumo.compute.api import server_actions as s_server_actions
from kumo.compute.api import server_create as s_server_create
from kumo.compute.api import server_diagnostics as s_server_diagnostics
from kumo.compute.api import server_external_events as w1_external_events
from kumo.compute.api import server_groups as r_server_groups
from kumo.compute.api import server_list as s_server_list
from kumo.compute.api import server_metadata as s_server_metadata
from kumo.compute.api import server_password as s_server_password
from kumo.compute.api import server_screenshot as w5_server_screenshot
from kumo.compute.api import server_tags as s_server_tags
from kumo.compute.api import server_usage as s_server_usage
from kumo.compute.api import servers as s_servers
from kumo.compute.api import services as r_services
from kumo.compute.api import versions as r_versions
from kumo.compute.api.errors import render_error
from kumo.compute.api.middleware import ComputeRequestId

#: Nova's microversions: 2.1 up to 2.100; clients name them with either header.
VERSIONS = VersionRange(
    "compute", Version(2, 1), Version(2, 100), legacy_header="X-OpenStack-Nova-API-Version"
)

ROUTERS: list[APIRouter] = [
    # Helper R (resources)
    r_versions.router,
    r_flavors.router,
    r_keypairs.router,
    r_quota_sets.router,
    r_server_groups.router,
    r_aggregates.router,
    r_availability_zones.router,
    r_services.router,
    r_hypervisors.router,
    r_hosts.router,
    # Helper S (servers); the list router first, so /servers/detail is not a server id.
    s_server_list.router,
    s_server_create.router,
    s_servers.router,
    s_server_actions.router,
    s_server_metadata.router,
    s_server_tags.router,
    s_instance_actions.router,
    s_server_usage.router,
    s_server_password.router,
    s_server_diagnostics.router,
    c_images.router,
    # Helper H2 (remote consoles and their websocket proxy; W5: VNC, noVNC, screenshots)
    h2_remote_consoles.router,
    h2_console_proxy.router,
    w5_server_screenshot.router,
    # Helper W1 (nova-network proxies, migrations, usage audit log, external events)
    w1_security_groups.router,
    w1_floating_ips.router,
    w1_networks.router,
    w1_migrations.router,
    w1_audit_log.router,
    w1_external_events.router,
]


def create_app(settings: Settings, db: Database, authenticate: Authenticate) -> ServiceApp:
    """Compute's app with every route, rendering errors in Nova's format."""
    service = create_service(
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
    # noVNC's page for VNC console URLs (static files, public: see kumo.compute.api.novnc).
    service.app.mount(w5_novnc.MOUNT_PATH, w5_novnc.NoVNCFiles(), name="novnc")
    # /v2 (legacy) and /v2[.1]/{project_id}/… are served by the /v2.1 routes.
    service.asgi = ComputeRequestId(r_versions.LegacyAlias(service.asgi))
    return service
