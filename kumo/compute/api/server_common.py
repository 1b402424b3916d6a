"""Helpers shared by the servers routes: finding the caller's server, the request id."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from kumo.common.api import Authz
from kumo.common.errors import NotFound, ValidationError
from kumo.common.microversion import Version
from kumo.compute.api.server_views import ServerViewer
from kumo.compute.api.versions import compute_version
from kumo.compute.db.instances import Instance
from kumo.compute.service import images, local_delete, security_groups, server_extras
from kumo.compute.service.servers import get_instance


def is_admin(authz: Authz) -> bool:
    """Whether the caller is an admin (Nova's ``context.is_admin``)."""
    return authz.allows({"project_id": authz.ctx.project_id}, rule="context_is_admin")


def request_id(request: Request) -> str:
    """This request's id (``x-openstack-request-id``), the key of its instance action."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def load_server(
    s: Session, authz: Authz, server_id: str, *, read_deleted: bool = False
) -> Instance:
    """The server, if the caller's project owns it (or the caller is admin); else 404.

    Then enforces the route's rule against the server's project (403).
    """
    try:
        instance = get_instance(s, server_id, read_deleted=read_deleted)
    except NotFound:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    if instance.project_id != authz.ctx.project_id and not is_admin(authz):
        raise NotFound(f"Instance {server_id} could not be found.")
    authz.enforce(target(instance))
    return instance


def target(instance: Instance) -> dict[str, Any]:
    """The policy target of a server."""
    return {"project_id": instance.project_id, "user_id": instance.user_id}


def since(request: Request, field: str, minimum: Version, name: str) -> None:
    """Refuse ``field`` below microversion ``minimum`` like Nova's schemas do."""
    if compute_version(request) < minimum:
        raise ValidationError(
            f"Invalid input for field/attribute {name}. Additional properties are not "
            f"allowed ('{field}' was unexpected)"
        )


def db(request: Request) -> Any:
    """The compute database of this app."""
    return request.app.state.db


def down_time(request: Request) -> int:
    """Seconds after which a silent compute service counts as down."""
    return int(getattr(request.app.state.settings, "service_down_time", 60))


def image_lookup(request: Request) -> images.ImageLookup:
    """The app's image lookup (the image API by default; tests put a fake there)."""
    state = request.app.state
    lookup = getattr(state, "image_lookup", None)
    if lookup is None:
        lookup = images.glance_lookup(state.settings)
        state.image_lookup = lookup
    result: images.ImageLookup = lookup
    return result


def security_group_check(request: Request) -> security_groups.SecurityGroupCheck:
    """The app's security group check (the networking API; tests put a fake there)."""
    state = request.app.state
    check = getattr(state, "security_group_check", None)
    if check is None:
        check = security_groups.neutron_check(state.settings)
        state.security_group_check = check
    result: security_groups.SecurityGroupCheck = check
    return result


def local_cleanup(request: Request) -> local_delete.LocalCleanup:
    """What frees a locally deleted server's ports and allocations (tests: a fake)."""
    state = request.app.state
    cleanup = getattr(state, "local_cleanup", None)
    if cleanup is None:
        cleanup = local_delete.service_cleanup(state.settings)
        state.local_cleanup = cleanup
    result: local_delete.LocalCleanup = cleanup
    return result


def image_store(request: Request) -> images.ImageStore:
    """Where snapshots and backups are recorded (the image API; tests put a fake there)."""
    state = request.app.state
    store = getattr(state, "image_store", None)
    if store is None:
        store = images.GlanceImageStore(state.settings)
        state.image_store = store
    result: images.ImageStore = store
    return result


def render(
    request: Request,
    authz: Authz,
    instance: Instance,
    *,
    full: bool = True,
    show_keypair: bool | None = None,
) -> dict[str, Any]:
    """One server's view for this request (opens its own read transaction)."""
    viewer = ServerViewer.for_request(request, authz)
    with db(request).reader() as s:
        extras = server_extras.load_extras(s, [instance], down_time(request))
    return viewer.show(instance, extras[instance.uuid], full=full, show_keypair=show_keypair)
