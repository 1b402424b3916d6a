"""Image routes' helpers: the caller, and Glance's way of enforcing image policy.

Glance hides images a caller may not see: when a rule fails on an image and the
caller could not even ``get_image`` it, the answer is 404, not 403.
"""

from __future__ import annotations

from typing import Any

from kumo.common.api import Authz
from kumo.common.errors import Forbidden, NotFound
from kumo.image.db.models import Image
from kumo.image.policies.base import literal_creds
from kumo.image.service.images import Caller


def caller(authz: Authz) -> Caller:
    """The caller's project, and whether policy makes them an admin."""
    is_admin = authz.enforcer.check_rule("context_is_admin", authz.creds(), {})
    return Caller(project_id=authz.ctx.project_id, is_admin=is_admin)


def image_target(image: Image, member_id: str | None = None) -> dict[str, Any]:
    """What Glance's image rules see of an image (``ImageTarget``)."""
    target: dict[str, Any] = {
        "id": image.id,
        "project_id": image.owner,
        "owner": image.owner,
        "visibility": image.visibility,
        "member_id": member_id,
        "protected": image.protected,
        "status": image.status,
    }
    for prop in image.properties:
        target.setdefault(prop.name, prop.value)
    return target


def allows(authz: Authz, rule: str, target: dict[str, Any]) -> bool:
    """True when ``rule`` passes for ``target`` (Glance's literal checks understood)."""
    return authz.enforcer.check_rule(rule, literal_creds(authz.creds()), target)


def enforce(authz: Authz, rule: str, target: dict[str, Any]) -> None:
    """Raise Forbidden unless ``rule`` passes for ``target``."""
    if not allows(authz, rule, target):
        raise Forbidden(f"You are not authorized to perform the requested action: {rule}.")


def enforce_on_image(authz: Authz, rule: str, image: Image, member_id: str | None = None) -> None:
    """Enforce ``rule`` on an existing image, 404 when the caller cannot even see it."""
    target = image_target(image, member_id)
    if allows(authz, rule, target):
        return
    if rule == "get_image" or not allows(authz, "get_image", target):
        raise NotFound(f"No image found with ID {image.id}")
    raise Forbidden(f"You are not authorized to perform the requested action: {rule}.")
