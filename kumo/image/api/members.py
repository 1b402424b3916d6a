"""/v2/images/{id}/members: sharing an image with other projects."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.db import Database
from kumo.common.errors import Forbidden, NotFound
from kumo.image.api.deps import caller, enforce_on_image
from kumo.image.api.views import member_view
from kumo.image.schemas import MemberCreateRequest, MemberUpdateRequest
from kumo.image.service import images, members

router = APIRouter()


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _my_member_id(db: Database, image_id: str, project_id: str | None) -> str | None:
    return project_id if images.member_status_of(db, image_id, project_id) else None


@route(router, "POST", "/v2/images/{image_id}/members", policy="add_member")
def add_member(
    image_id: str, body: MemberCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Offer a shared image to a project (its membership starts ``pending``)."""
    db, who = _db(request), caller(authz)
    image = images.get_image(db, who, image_id)
    enforce_on_image(authz, "add_member", image)
    return member_view(members.add_member(db, who, image_id, body.member))


@route(router, "GET", "/v2/images/{image_id}/members", policy="get_members")
def list_members(image_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The image's memberships (a member sees only its own)."""
    db, who = _db(request), caller(authz)
    image = images.get_image(db, who, image_id)
    enforce_on_image(authz, "get_members", image, _my_member_id(db, image_id, who.project_id))
    found = members.list_members(db, who, image_id)
    return {"members": [member_view(m) for m in found], "schema": "/v2/schemas/members"}


@route(router, "GET", "/v2/images/{image_id}/members/{member_id}", policy="get_member")
def show_member(
    image_id: str, member_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One membership."""
    db, who = _db(request), caller(authz)
    image = images.get_image(db, who, image_id)
    try:
        enforce_on_image(authz, "get_member", image, _my_member_id(db, image_id, who.project_id))
    except Forbidden as exc:
        raise NotFound(exc.message) from None
    return member_view(members.get_member(db, who, image_id, member_id))


@route(router, "PUT", "/v2/images/{image_id}/members/{member_id}", policy="modify_member")
def update_member(
    image_id: str,
    member_id: str,
    body: MemberUpdateRequest,
    request: Request,
    authz: Authz = AuthzDep,
) -> dict[str, Any]:
    """A member accepts, rejects or resets (pending) its membership."""
    db, who = _db(request), caller(authz)
    image = images.get_image(db, who, image_id)
    members.get_member(db, who, image_id, member_id)  # 404 before 403, as Glance
    enforce_on_image(authz, "modify_member", image, member_id)
    return member_view(members.update_member(db, who, image_id, member_id, body.status))


@route(
    router,
    "DELETE",
    "/v2/images/{image_id}/members/{member_id}",
    policy="delete_member",
    status_code=204,
)
def delete_member(
    image_id: str, member_id: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """The owner withdraws the image from a project."""
    db, who = _db(request), caller(authz)
    image = images.get_image(db, who, image_id)
    enforce_on_image(authz, "delete_member", image)
    members.delete_member(db, who, image_id, member_id)
    return Response(status_code=204)
