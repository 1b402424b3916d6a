"""Resource classes and traits: standard ones from os-resource-classes / os-traits, custom rows.

A resource class is an integer id inside the service (standard: its index in
os-resource-classes' append-only list; custom: ``CUSTOM_RC_OFFSET`` + row
id), a trait is its name. Custom names match ``CUSTOM_[A-Z0-9_]+``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import os_resource_classes  # type: ignore[import-untyped]
import os_traits  # type: ignore[import-untyped]
from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, NotFound
from kumo.placement.db.models import (
    CUSTOM_RC_OFFSET,
    Allocation,
    Inventory,
    ProviderTrait,
    ResourceClass,
    Trait,
)

STANDARD_CLASSES: list[str] = list(os_resource_classes.STANDARDS)
_STANDARD_CLASS_IDS = {name: i for i, name in enumerate(STANDARD_CLASSES)}
STANDARD_TRAITS: frozenset[str] = frozenset(os_traits.get_traits())

CUSTOM_NAME = re.compile(r"^CUSTOM_[A-Z0-9_]+$")
_MAX_NAME = 255


def is_custom(name: str) -> bool:
    """True for a well-formed custom name."""
    return bool(CUSTOM_NAME.match(name)) and len(name) <= _MAX_NAME


# -- resource classes ------------------------------------------------------------


class ClassCache:
    """Name ↔ id of every resource class, read once per call site that needs it."""

    def __init__(self, session: Session) -> None:
        self.by_name = dict(_STANDARD_CLASS_IDS)
        for row_id, name in session.execute(select(ResourceClass.id, ResourceClass.name)):
            self.by_name[name] = CUSTOM_RC_OFFSET + row_id
        self.by_id = {v: k for k, v in self.by_name.items()}

    def id_of(self, name: str) -> int:
        """The id of ``name``; 400 when no such class exists (as Placement answers)."""
        try:
            return self.by_name[name]
        except KeyError:
            raise BadRequest(f"No such resource class {name}.") from None

    def name_of(self, rc_id: int) -> str:
        """The name of class ``rc_id``."""
        return self.by_id.get(rc_id, f"UNKNOWN_{rc_id}")


def list_classes(db: Database) -> list[tuple[str, dt.datetime | None]]:
    """Every resource class name (standard first) with its last change."""
    with db.reader() as s:
        rows = s.execute(
            select(ResourceClass.name, ResourceClass.created_at, ResourceClass.updated_at).order_by(
                ResourceClass.id
            )
        ).all()
    out: list[tuple[str, dt.datetime | None]] = [(n, None) for n in STANDARD_CLASSES]
    out += [(n, u or c) for n, c, u in rows]
    return out


def show_class(db: Database, name: str) -> dt.datetime | None:
    """The last change of class ``name`` (None for a standard one); 404 when unknown."""
    if name in _STANDARD_CLASS_IDS:
        return None
    with db.reader() as s:
        row = s.execute(
            select(ResourceClass.created_at, ResourceClass.updated_at).where(
                ResourceClass.name == name
            )
        ).first()
    if row is None:
        raise NotFound(f"No such resource class {name}.")
    return row[1] or row[0]


def _check_custom_class(name: str) -> None:
    if not is_custom(name):
        raise BadRequest(f"JSON does not validate: {name!r} does not match '^CUSTOM\\_[A-Z0-9_]+$'")


def create_class(db: Database, name: str) -> None:
    """Create custom class ``name``; 409 ``placement.duplicate_name`` when it exists."""
    _check_custom_class(name)
    try:
        with db.writer() as s:
            if s.scalar(select(ResourceClass.id).where(ResourceClass.name == name)) is not None:
                raise _dup_class(name)
            s.add(ResourceClass(name=name))
    except IntegrityError:
        raise _dup_class(name) from None


def _dup_class(name: str) -> Conflict:
    return Conflict(
        f"Conflicting resource class already exists: {name}", code="placement.duplicate_name"
    )


def ensure_class(db: Database, name: str) -> bool:
    """Create custom class ``name`` unless it exists (1.7+ PUT); True when created."""
    if name in _STANDARD_CLASS_IDS:
        return False
    _check_custom_class(name)
    try:
        with db.writer() as s:
            if s.scalar(select(ResourceClass.id).where(ResourceClass.name == name)) is not None:
                return False
            s.add(ResourceClass(name=name))
            return True
    except IntegrityError:
        return False


def rename_class(db: Database, name: str, new_name: str) -> None:
    """Rename custom class ``name`` (PUT before 1.7)."""
    if name in _STANDARD_CLASS_IDS:
        raise BadRequest(f"Cannot update standard resource class {name}")
    _check_custom_class(new_name)
    try:
        with db.writer() as s:
            row = s.scalar(select(ResourceClass).where(ResourceClass.name == name))
            if row is None:
                raise NotFound(f"No such resource class {name}.")
            if s.scalar(select(ResourceClass.id).where(ResourceClass.name == new_name)):
                raise _dup_class(new_name)
            row.name = new_name
            row.updated_at = utcnow()
    except IntegrityError:
        raise _dup_class(new_name) from None


def delete_class(db: Database, name: str) -> None:
    """Delete custom class ``name``; 400 for a standard class, 409 while in use."""
    if name in _STANDARD_CLASS_IDS:
        raise BadRequest(f"Cannot delete standard resource class {name}")
    with db.writer() as s:
        row = s.scalar(select(ResourceClass).where(ResourceClass.name == name))
        if row is None:
            raise NotFound(f"No such resource class {name}.")
        rc_id = CUSTOM_RC_OFFSET + row.id
        used = s.scalar(
            select(
                exists().where(Inventory.resource_class_id == rc_id)
                | exists().where(Allocation.resource_class_id == rc_id)
            )
        )
        if used:
            raise Conflict(
                f"Error in delete resource class: Cannot delete resource class {name}. "
                "Class is in use in inventory."
            )
        s.delete(row)


# -- traits ----------------------------------------------------------------------


def known_traits(session: Session, names: Iterable[str]) -> set[str]:
    """Those of ``names`` that exist (standard or custom)."""
    wanted = set(names)
    found = wanted & STANDARD_TRAITS
    custom = wanted - found
    if custom:
        found |= set(session.scalars(select(Trait.name).where(Trait.name.in_(custom))))
    return found


def require_traits(session: Session, names: Iterable[str]) -> None:
    """400 unless every trait in ``names`` exists."""
    wanted = set(names)
    missing = wanted - known_traits(session, wanted)
    if missing:
        raise BadRequest(f"No such trait(s): {', '.join(sorted(missing))}.")


def list_traits(
    db: Database, prefix: str | None, names: list[str] | None, associated: bool | None
) -> list[str]:
    """Trait names, filtered by ``startswith:``/``in:`` and association with providers."""
    with db.reader() as s:
        custom = set(s.scalars(select(Trait.name)))
        everything: set[str] = set(STANDARD_TRAITS | custom)
        if associated is not None:
            linked = set(s.scalars(select(ProviderTrait.trait).distinct()))
            everything = everything & linked if associated else everything - linked
    if prefix is not None:
        everything = {t for t in everything if t.startswith(prefix)}
    if names is not None:
        everything &= set(names)
    return sorted(everything)


def show_trait(db: Database, name: str) -> dt.datetime | None:
    """The trait's last change (None when standard); 404 when unknown."""
    if name in STANDARD_TRAITS:
        return None
    with db.reader() as s:
        row = s.execute(
            select(Trait.created_at, Trait.updated_at).where(Trait.name == name)
        ).first()
    if row is None:
        raise NotFound(f"No such trait(s): {name}.")
    return row[1] or row[0]


def ensure_trait(db: Database, name: str) -> bool:
    """Create custom trait ``name`` unless it exists; True when created."""
    if name in STANDARD_TRAITS:
        return False
    if not is_custom(name):
        raise BadRequest(
            "The trait is invalid. A valid trait must be no longer than 255 characters, "
            'start with the prefix "CUSTOM_" and use following characters: '
            '"A"-"Z", "0"-"9" and "_"'
        )
    try:
        with db.writer() as s:
            if s.scalar(select(Trait.id).where(Trait.name == name)) is not None:
                return False
            s.add(Trait(name=name))
            return True
    except IntegrityError:
        return False


def delete_trait(db: Database, name: str) -> None:
    """Delete custom trait ``name``; 400 when standard, 409 while a provider has it."""
    if name in STANDARD_TRAITS:
        raise BadRequest(f"Cannot delete standard trait {name}.")
    with db.writer() as s:
        row = s.scalar(select(Trait).where(Trait.name == name))
        if row is None:
            raise NotFound(f"No such trait(s): {name}.")
        in_use = s.scalar(
            select(func.count()).select_from(ProviderTrait).where(ProviderTrait.trait == name)
        )
        if in_use:
            raise Conflict(f"The trait {name} is in use by a resource provider.")
        s.execute(delete(Trait).where(Trait.id == row.id))
