"""Image members: the projects a ``shared`` image is offered to, and their answer.

The owner adds and removes members; each member accepts, rejects or leaves
pending its own membership. A member sees only its own membership; the owner
(and an admin) sees all of them.
"""

from __future__ import annotations

from sqlalchemy import select

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, Forbidden, NotFound, OverQuota
from kumo.image.db.models import Image, ImageMember
from kumo.image.service.images import MEMBER_STATUSES, Caller, find

MEMBER_LIMIT = 128


def _shared_only(image: Image) -> None:
    if image.visibility != "shared":
        raise Forbidden("Only shared images have members.")


def _can_see_all(caller: Caller, image: Image) -> bool:
    return caller.is_admin or (caller.project_id is not None and caller.project_id == image.owner)


def list_members(db: Database, caller: Caller, image_id: str) -> list[ImageMember]:
    """The memberships of an image the caller may see."""
    with db.reader() as session:
        image = find(session, caller, image_id)
        _shared_only(image)
        stmt = select(ImageMember).where(ImageMember.image_id == image_id)
        if not _can_see_all(caller, image):
            stmt = stmt.where(ImageMember.member == caller.project_id)
        return list(session.scalars(stmt.order_by(ImageMember.created_at, ImageMember.member)))


def get_member(db: Database, caller: Caller, image_id: str, member_id: str) -> ImageMember:
    """One membership (404 when absent or not the caller's to see)."""
    with db.reader() as session:
        image = find(session, caller, image_id)
        if image.visibility != "shared":
            raise NotFound("Only shared images have members.")
        found = session.get(ImageMember, (image_id, member_id))
        if found is None or not (_can_see_all(caller, image) or member_id == caller.project_id):
            raise NotFound(f"{member_id} not found in the member list of the image {image_id}.")
        return found


def add_member(db: Database, caller: Caller, image_id: str, member_id: str) -> ImageMember:
    """Offer a shared image to a project (409 when already a member)."""
    with db.writer() as session:
        image = find(session, caller, image_id)
        _shared_only(image)
        if not _can_see_all(caller, image):
            raise Forbidden(f"Not allowed to create members for image {image_id}.")
        if session.get(ImageMember, (image_id, member_id)) is not None:
            raise Conflict(f"Member {member_id} is duplicated for image {image_id}")
        count = len(
            list(
                session.scalars(select(ImageMember.member).where(ImageMember.image_id == image_id))
            )
        )
        if count >= MEMBER_LIMIT:
            raise OverQuota(
                f"Image member limit exceeded for image {image_id}: the limit is {MEMBER_LIMIT}"
            )
        now = utcnow()
        member = ImageMember(
            image_id=image_id, member=member_id, status="pending", created_at=now, updated_at=now
        )
        session.add(member)
    return member


def update_member(
    db: Database, caller: Caller, image_id: str, member_id: str, status: object
) -> ImageMember:
    """A member sets its own status: pending, accepted or rejected."""
    if status not in MEMBER_STATUSES:
        raise BadRequest(f"Incorrect request: Invalid status: {status}")
    assert isinstance(status, str)
    with db.writer() as session:
        image = find(session, caller, image_id)
        _shared_only(image)
        found = session.get(ImageMember, (image_id, member_id))
        if found is None or not (_can_see_all(caller, image) or member_id == caller.project_id):
            raise NotFound(f"{member_id} not found in the member list of the image {image_id}.")
        if member_id != caller.project_id and not caller.is_admin:
            raise Forbidden(f"Not allowed to update members for image {image_id}.")
        found.status = status
        found.updated_at = utcnow()
    return found


def delete_member(db: Database, caller: Caller, image_id: str, member_id: str) -> None:
    """The owner withdraws a shared image from a project."""
    with db.writer() as session:
        image = find(session, caller, image_id)
        _shared_only(image)
        found = session.get(ImageMember, (image_id, member_id))
        if found is None or not (_can_see_all(caller, image) or member_id == caller.project_id):
            raise NotFound(f"{member_id} not found in the member list of the image {image_id}.")
        if not _can_see_all(caller, image):
            raise Forbidden(f"You cannot delete image member {member_id}.")
        session.delete(found)
