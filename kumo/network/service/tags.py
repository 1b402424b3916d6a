"""Tags on every standard-attribute resource."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.network.db.models import (
    FloatingIP,
    Network,
    Port,
    Router,
    SecurityGroup,
    Subnet,
    SubnetPool,
    Tag,
)
from kumo.network.service import core

#: Collection name → (resource type in the tags table, model).
TAGGABLE: dict[str, tuple[str, Any]] = {
    "networks": ("networks", Network),
    "subnets": ("subnets", Subnet),
    "ports": ("ports", Port),
    "routers": ("routers", Router),
    "subnetpools": ("subnetpools", SubnetPool),
    "floatingips": ("floatingips", FloatingIP),
    "security-groups": ("security_groups", SecurityGroup),
}


def _parent(session: Session, collection: str, resource_id: str) -> Any:
    kind, model = TAGGABLE[collection]
    row = session.get(model, resource_id)
    if row is None:
        raise core.not_found(
            "NotFound",
            f"{kind[:-1].replace('_', ' ').capitalize()} {resource_id} could not be found.",
        )
    return row


def get_tags(db: Database, collection: str, resource_id: str) -> list[str]:
    """A resource's tags."""
    kind, _ = TAGGABLE[collection]
    with db.reader() as session:
        _parent(session, collection, resource_id)
        return sorted(core.tags_of(session, kind, [resource_id])[resource_id])


def replace_tags(db: Database, collection: str, resource_id: str, tags: list[str]) -> list[str]:
    """Replace a resource's tags."""
    kind, _ = TAGGABLE[collection]
    with db.writer() as session:
        row = _parent(session, collection, resource_id)
        core.set_tags(session, kind, resource_id, tags)
        core.touch(row)
    return sorted(set(tags))


def add_tag(db: Database, collection: str, resource_id: str, tag: str) -> None:
    """Add one tag (idempotent)."""
    kind, _ = TAGGABLE[collection]
    with db.writer() as session:
        row = _parent(session, collection, resource_id)
        if session.get(Tag, (kind, resource_id, tag)) is None:
            session.add(Tag(resource_type=kind, resource_id=resource_id, tag=tag))
            core.touch(row)


def remove_tag(db: Database, collection: str, resource_id: str, tag: str | None) -> None:
    """Remove one tag (``TagNotFound`` if absent) or all of them."""
    kind, _ = TAGGABLE[collection]
    with db.writer() as session:
        row = _parent(session, collection, resource_id)
        if tag is None:
            core.drop_tags(session, kind, resource_id)
        else:
            existing = session.get(Tag, (kind, resource_id, tag))
            if existing is None:
                raise core.not_found(
                    "TagNotFound",
                    f"Tag {tag} could not be found for {kind[:-1]} {resource_id}.",
                )
            session.delete(existing)
        core.touch(row)


def has_tag(db: Database, collection: str, resource_id: str, tag: str) -> None:
    """``TagNotFound`` unless the resource carries the tag."""
    kind, _ = TAGGABLE[collection]
    with db.reader() as session:
        _parent(session, collection, resource_id)
        if session.get(Tag, (kind, resource_id, tag)) is None:
            raise core.not_found(
                "TagNotFound", f"Tag {tag} could not be found for {kind[:-1]} {resource_id}."
            )
