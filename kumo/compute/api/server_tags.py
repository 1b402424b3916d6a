"""/servers/{id}/tags (≥2.26): a server's tags (Nova's ``server_tags.py``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version
from kumo.compute import states
from kumo.compute.api.server_common import load_server
from kumo.compute.api.versions import compute_version
from kumo.compute.db.instances import Instance, InstanceTag
from kumo.compute.schemas.servers import TagsRequest, check_tag

router = APIRouter()
BASE = "/v2.1/servers/{server_id}/tags"
RULE = "os_compute_api:os-server-tags:%s"
MAX_TAGS = 50


def _gate(request: Request) -> None:
    # Before 2.26 the resource does not exist.
    if compute_version(request) < Version(2, 26):
        raise NotFound("The resource could not be found.")


def _tags(s: Session, uuid: str) -> list[str]:
    rows = s.scalars(
        select(InstanceTag).where(InstanceTag.instance_uuid == uuid).order_by(InstanceTag.tag)
    )
    return [r.tag for r in rows]


def _writable(instance: Instance, action: str) -> None:
    states.check_action(
        action, instance.uuid, instance.vm_state, instance.task_state, launched=True
    )


@route(router, "GET", BASE, policy=RULE % "index")
def list_tags(server_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The server's tags."""
    _gate(request)
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
        return {"tags": _tags(s, instance.uuid)}


@route(router, "PUT", BASE, policy=RULE % "update_all")
def replace_tags(
    server_id: str, body: TagsRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Replace every tag."""
    _gate(request)
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        _writable(instance, "update tags")
        s.execute(delete(InstanceTag).where(InstanceTag.instance_uuid == instance.uuid))
        s.flush()
        for tag in dict.fromkeys(body.tags):
            s.add(InstanceTag(instance_uuid=instance.uuid, tag=tag))
        s.flush()
        return {"tags": _tags(s, instance.uuid)}


@route(router, "DELETE", BASE, policy=RULE % "delete_all", status_code=204)
def delete_tags(server_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Remove every tag."""
    _gate(request)
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        _writable(instance, "delete tags")
        s.execute(delete(InstanceTag).where(InstanceTag.instance_uuid == instance.uuid))
    return Response(status_code=204)


@route(router, "GET", BASE + "/{tag}", policy=RULE % "show", status_code=204)
def check_tag_exists(
    server_id: str, tag: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """204 when the server has the tag, else 404."""
    _gate(request)
    with request.app.state.db.reader() as s:
        instance = load_server(s, authz, server_id)
        if s.get(InstanceTag, (instance.uuid, tag)) is None:
            raise NotFound(f"Tag '{tag}' could not be found.")
    return Response(status_code=204)


@route(router, "PUT", BASE + "/{tag}", policy=RULE % "update", status_code=201)
def add_tag(server_id: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Add a tag: 201 with Location, or 204 when it was already there."""
    _gate(request)
    try:
        check_tag(tag)
    except ValueError:
        raise BadRequest(
            f"Tag '{tag}' is invalid. It must be a non empty string without characters '/' and ','."
        ) from None
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        _writable(instance, "update tag")
        existing = _tags(s, instance.uuid)
        if tag in existing:
            return Response(status_code=204)
        if len(existing) >= MAX_TAGS:
            raise BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
        s.add(InstanceTag(instance_uuid=instance.uuid, tag=tag))
    # Header values are Latin-1: a tag may hold any character, so it is percent-encoded.
    location = f"{service_base(request)}/v2.1/servers/{quote(server_id)}/tags/{quote(tag)}"
    return Response(status_code=201, headers={"Location": location})


@route(router, "DELETE", BASE + "/{tag}", policy=RULE % "delete", status_code=204)
def delete_tag(server_id: str, tag: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Remove one tag (404 when missing)."""
    _gate(request)
    with request.app.state.db.writer() as s:
        instance = load_server(s, authz, server_id)
        _writable(instance, "delete tag")
        row = s.get(InstanceTag, (instance.uuid, tag))
        if row is None:
            raise NotFound(f"Tag '{tag}' could not be found.")
        s.delete(row)
    return Response(status_code=204)
