"""/servers/{id}/metadata: a server's user metadata (Nova's ``server_metadata.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import BadRequest, NotFound
from kumo.compute import states
from kumo.compute.api.server_common import is_admin, load_server
from kumo.compute.db.instances import Instance, InstanceMetadata
from kumo.compute.schemas.servers import MetadataRequest, MetaItemRequest
from kumo.compute.service import quotas, server_actions
from kumo.compute.service.errors import QuotaExceeded

router = APIRouter()
BASE = "/v2.1/servers/{server_id}/metadata"
RULE = "os_compute_api:server-metadata:%s"


def _current(s: Session, uuid: str) -> dict[str, str]:
    rows = s.scalars(select(InstanceMetadata).where(InstanceMetadata.instance_uuid == uuid))
    return {r.key: r.value for r in rows}


def _writable(instance: Instance, authz: Authz, action: str) -> None:
    server_actions.check_lock(instance, is_admin(authz))
    states.check_action(
        action,
        instance.uuid,
        instance.vm_state,
        instance.task_state,
        instance.launched_at is not None,
    )


def _save(
    s: Session, instance: Instance, metadata: dict[str, str], *, replace: bool
) -> dict[str, str]:
    merged = dict(metadata) if replace else {**_current(s, instance.uuid), **metadata}
    limit = quotas.get_limits(s, instance.project_id, instance.user_id).get("metadata_items", -1)
    if 0 <= limit < len(merged):
        raise QuotaExceeded(f"Maximum number of metadata items exceeds {limit}")
    s.execute(delete(InstanceMetadata).where(InstanceMetadata.instance_uuid == instance.uuid))
    s.flush()
    for key, value in merged.items():
        s.add(InstanceMetadata(instance_uuid=instance.uuid, key=key, value=str(value)))
    s.flush()
    return merged


@route(router, "GET", BASE, policy=RULE % "index")
def list_metadata(server_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """All metadata of the server."""
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
        return {"metadata": _current(s, instance.uuid)}


@route(router, "POST", BASE, policy=RULE % "create")
def add_metadata(
    server_id: str, body: MetadataRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Add or change items; the others stay."""
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        _writable(instance, authz, "update metadata")
        return {"metadata": _save(s, instance, body.metadata, replace=False)}


@route(router, "PUT", BASE, policy=RULE % "update_all")
def replace_metadata(
    server_id: str, body: MetadataRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Replace all metadata."""
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        _writable(instance, authz, "update metadata")
        return {"metadata": _save(s, instance, body.metadata, replace=True)}


@route(router, "GET", BASE + "/{key}", policy=RULE % "show")
def show_metadata_item(
    server_id: str, key: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One item: ``{"meta": {key: value}}``."""
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
        current = _current(s, instance.uuid)
    if key not in current:
        raise NotFound("Metadata item was not found")
    return {"meta": {key: current[key]}}


@route(router, "PUT", BASE + "/{key}", policy=RULE % "update")
def set_metadata_item(
    server_id: str, key: str, body: MetaItemRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Set one item; the body's key must be the URL's."""
    if key not in body.meta:
        raise BadRequest("Request body and URI mismatch")
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        _writable(instance, authz, "update metadata")
        _save(s, instance, {key: body.meta[key]}, replace=False)
    return {"meta": {key: body.meta[key]}}


@route(router, "DELETE", BASE + "/{key}", policy=RULE % "delete", status_code=204)
def delete_metadata_item(
    server_id: str, key: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Delete one item (404 when missing)."""
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        if key not in _current(s, instance.uuid):
            raise NotFound("Metadata item was not found")
        _writable(instance, authz, "delete metadata")
        s.execute(
            delete(InstanceMetadata).where(
                InstanceMetadata.instance_uuid == instance.uuid, InstanceMetadata.key == key
            )
        )
    return Response(status_code=204)
