"""Images: creation, visibility, listing, JSON-patch updates, state changes, quotas.

Who sees what follows Glance's database layer exactly: an admin sees every
image; anyone else sees their project's images, public and community images,
and shared images their project is a member of. Lists leave out community
images of other projects unless asked (``visibility=community``), shared images
whose membership is not ``accepted`` unless asked (``member_status``), hidden
images unless asked (``os_hidden=true``), and killed images.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, Forbidden, NotFound, OverQuota
from kumo.image.db.models import Image, ImageMember, ImageProperty, ImageTag

DISK_FORMATS = (
    "ami",
    "ari",
    "aki",
    "vhd",
    "vhdx",
    "vmdk",
    "raw",
    "qcow2",
    "vdi",
    "iso",
    "ploop",
)
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "private", "shared", "community")
STATUSES = (
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
)
MEMBER_STATUSES = ("pending", "accepted", "rejected")

#: Attributes that are columns and may be set by the user.
WRITABLE = (
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "disk_format",
    "container_format",
    "min_ram",
    "min_disk",
    "owner",
)
READ_ONLY = (
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
    "direct_url",
    "self",
    "file",
    "schema",
    "id",
    "os_hash_algo",
    "os_hash_value",
)
DISALLOWED_ON_CREATE = ("direct_url", "self", "file", "schema", "stores")
RESERVED = ("location", "deleted", "deleted_at")
RESERVED_PREFIX = "os_glance"
#: Every attribute that is part of the image itself, not a user property.
BASE = (*WRITABLE, "tags", *READ_ONLY, "locations", "stores")
SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
)
#: Glance's image_tag_quota and image_property_quota.
TAG_LIMIT = 128
PROPERTY_LIMIT = 128
LIMIT_DEFAULT = 25
LIMIT_MAX = 1000

_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Caller:
    """Who asks: their project and whether policy makes them an admin."""

    project_id: str | None
    is_admin: bool = False


# --- reading -------------------------------------------------------------------------


def _visible_clause(caller: Caller, member_status: str | None = None) -> Any:
    """SQL condition: images ``caller`` may see (shared ones by membership status)."""
    if caller.is_admin:
        return True
    clauses: list[Any] = [Image.visibility.in_(("public", "community")), Image.owner.is_(None)]
    if caller.project_id is not None:
        member = and_(
            ImageMember.image_id == Image.id,
            ImageMember.member == caller.project_id,
        )
        if member_status is not None and member_status != "all":
            member = and_(member, ImageMember.status == member_status)
        clauses.append(Image.owner == caller.project_id)
        clauses.append(and_(Image.visibility == "shared", exists().where(member)))
    return or_(*clauses)


def find(session: Session, caller: Caller, image_id: str, lock: bool = False) -> Image:
    """The image, if ``caller`` may see it; else :class:`NotFound`.

    ``lock`` takes the row lock (``SELECT … FOR UPDATE``) so that two requests
    changing the image's status one after the other never both see the old one.
    """
    stmt = select(Image).where(Image.id == image_id, _visible_clause(caller))
    if lock:
        stmt = stmt.with_for_update()
    image = session.scalar(stmt)
    if image is None:
        raise NotFound(f"No image found with ID {image_id}")
    return image


def get_image(db: Database, caller: Caller, image_id: str) -> Image:
    """Show one image (404 when it does not exist or is hidden from the caller)."""
    with db.reader() as session:
        return find(session, caller, image_id)


def membership(session: Session, image_id: str, project_id: str | None) -> ImageMember | None:
    """``project_id``'s membership of an image, if any."""
    if project_id is None:
        return None
    return session.get(ImageMember, (image_id, project_id))


def member_status_of(db: Database, image_id: str, project_id: str | None) -> str | None:
    """The caller's member status on an image (None when not a member)."""
    with db.reader() as session:
        found = membership(session, image_id, project_id)
        return found.status if found else None


def properties(image: Image) -> dict[str, str | None]:
    """An image's user properties."""
    return {p.name: p.value for p in image.properties}


@dataclass
class ListQuery:
    """A parsed ``GET /v2/images`` query."""

    filters: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    member_status: str = "accepted"
    visibility: str | None = None
    marker: str | None = None
    limit: int = LIMIT_DEFAULT
    sort_keys: list[str] = field(default_factory=lambda: ["created_at"])
    sort_dirs: list[str] = field(default_factory=lambda: ["desc"])


def _split_op(expression: str) -> tuple[str, str]:
    """Glance's ``op:value`` filter syntax (``in:a,b``, ``gte:2016-…``); ``eq`` by default."""
    left, sep, right = expression.partition(":")
    if not sep:
        return "eq", expression
    try:
        _parse_time(expression)
        return "eq", expression
    except ValueError:
        return left, right


def _parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _split_quoted(value: str) -> list[str]:
    """``a,"b,c",d`` → ``["a", "b,c", "d"]`` (Glance's ``in:`` list)."""
    out: list[str] = []
    current = ""
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
    if quoted:
        raise BadRequest("Invalid filter value: there is an unclosed quotation mark.")
    out.append(current)
    return out


_COMPARE = {
    "lt": lambda col, v: col < v,
    "lte": lambda col, v: col <= v,
    "gt": lambda col, v: col > v,
    "gte": lambda col, v: col >= v,
    "eq": lambda col, v: col == v,
    "neq": lambda col, v: col != v,
}


def _conditions(query: ListQuery) -> list[Any]:
    conds: list[Any] = []
    for key, raw in query.filters.items():
        if key.endswith(("_min", "_max")) and key[:-4] in ("size", "virtual_size"):
            try:
                number = int(raw)
            except ValueError:
                raise BadRequest("Unable to filter on a range with a non-numeric value.") from None
            column = getattr(Image, key[:-4])
            conds.append(column >= number if key.endswith("_min") else column <= number)
        elif key in ("created_at", "updated_at"):
            op, text = _split_op(raw)
            try:
                when = _parse_time(text)
            except ValueError:
                raise BadRequest(
                    f'Bad "{key}" query filter format. Use ISO 8601 DateTime notation.'
                ) from None
            if op not in _COMPARE:
                raise BadRequest(f"Unable to filter by unknown operator '{op}'.")
            conds.append(_COMPARE[op](getattr(Image, key), when))
        elif key in ("name", "id", "status", "container_format", "disk_format"):
            op, text = _split_op(raw)
            column = getattr(Image, key)
            if op == "in":
                conds.append(column.in_(_split_quoted(text)))
            elif op == "eq":
                conds.append(column == text)
            else:
                raise BadRequest(f"Unable to filter by unknown operator '{op}'.")
        elif key in ("protected", "os_hidden"):
            if raw not in ("true", "false"):
                raise BadRequest(
                    f"Invalid value '{raw}' for '{key}' filter. Valid values are 'true' or 'false'."
                )
            conds.append(getattr(Image, key).is_(raw == "true"))
        elif key in ("owner", "checksum", "os_hash_value", "os_hash_algo"):
            conds.append(getattr(Image, key) == raw)
        elif key in ("min_ram", "min_disk", "size", "virtual_size"):
            try:
                conds.append(getattr(Image, key) == int(raw))
            except ValueError:
                raise BadRequest(f"Invalid value '{raw}' for '{key}' filter.") from None
        else:
            # Anything else names a user property (exact value match).
            conds.append(
                exists().where(
                    ImageProperty.image_id == Image.id,
                    ImageProperty.name == key,
                    ImageProperty.value == raw,
                )
            )
    for tag in query.tags:
        conds.append(exists().where(ImageTag.image_id == Image.id, ImageTag.value == tag))
    return conds


def _sort_value(image: Image, key: str) -> tuple[int, Any]:
    value = getattr(image, key)
    # NULLs first when ascending (as SQLite and MySQL order them).
    return (0, "") if value is None else (1, value)


def _sorted(images: list[Image], keys: list[str], dirs: list[str]) -> list[Image]:
    ordered = list(images)
    for key, direction in reversed(list(zip(keys, dirs, strict=True))):
        ordered.sort(key=lambda i, k=key: _sort_value(i, k), reverse=direction == "desc")  # type: ignore[misc]
    return ordered


def list_images(db: Database, caller: Caller, query: ListQuery) -> tuple[list[Image], bool]:
    """One page of the images ``caller`` may list, and whether the page is full."""
    keys = list(query.sort_keys)
    dirs = list(query.sort_dirs)
    if len(dirs) == 1 and len(keys) > 1:
        dirs = dirs * len(keys)
    for extra in ("created_at", "id"):
        if extra not in keys:
            keys.append(extra)
            dirs.append(dirs[0] if dirs else "desc")
    with db.reader() as session:
        stmt = select(Image).where(
            _visible_clause(caller, query.member_status),
            Image.status != "killed",
            Image.status != "deleted",
            *_conditions(query),
        )
        if query.visibility is not None:
            if query.visibility != "all":
                stmt = stmt.where(Image.visibility == query.visibility)
        elif caller.project_id is None:
            stmt = stmt.where(Image.visibility != "community")
        else:
            stmt = stmt.where(
                or_(Image.owner == caller.project_id, Image.visibility != "community")
            )
        rows = list(session.scalars(stmt).unique())
        marker_image: Image | None = None
        if query.marker is not None:
            marker_image = session.scalar(
                select(Image).where(Image.id == query.marker, _visible_clause(caller))
            )
            if marker_image is None:
                raise BadRequest(f"No image found with ID {query.marker}")
    if marker_image is not None and all(r.id != marker_image.id for r in rows):
        rows.append(marker_image)
    ordered = _sorted(rows, keys, dirs)
    if marker_image is not None:
        position = next(i for i, r in enumerate(ordered) if r.id == marker_image.id)
        ordered = ordered[position + 1 :]
    page = ordered[: query.limit]
    return page, len(page) == query.limit and query.limit > 0


# --- validation ----------------------------------------------------------------------


def _check_writable_key(key: str) -> None:
    if key in READ_ONLY:
        raise Forbidden(f"Attribute '{key}' is read-only.")
    if key in RESERVED or key.startswith(RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{key}' is reserved.")


def _valid_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(
            f"Provided object does not match schema 'image': {value!r} is not of "
            f"type 'integer' (in '{key}')."
        )
    if value < 0:
        raise BadRequest(f"Invalid value for '{key}': it must be >= 0.")
    if value > 2**31 - 1:
        raise BadRequest(f"Invalid value for '{key}': it must be <= 2147483647.")
    return value


def _valid_bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(
            f"Provided object does not match schema 'image': {value!r} is not of "
            f"type 'boolean' (in '{key}')."
        )
    return value


def _valid_enum(key: str, value: Any, allowed: Iterable[str], nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    allowed = tuple(allowed)
    if value not in allowed:
        raise BadRequest(
            f"Provided object does not match schema 'image': {value!r} is not one of "
            f"{[*([None] if nullable else []), *allowed]!r} (in '{key}')."
        )
    assert isinstance(value, str)
    return value


def _valid_string(key: str, value: Any, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise BadRequest(
            f"Provided object does not match schema 'image': {value!r} is not of "
            f"type 'string' (in '{key}')."
        )
    if len(value) > 255:
        raise BadRequest(
            f"Provided object does not match schema 'image': '{key}' is longer than 255 characters."
        )
    return value


def validate_attribute(key: str, value: Any) -> Any:
    """A base attribute's value as stored, or 400 as Glance's schema would say."""
    if key in ("protected", "os_hidden"):
        return _valid_bool(key, value)
    if key in ("min_ram", "min_disk"):
        return _valid_int(key, value)
    if key == "visibility":
        return _valid_enum(key, value, VISIBILITIES, nullable=False)
    if key == "disk_format":
        return _valid_enum(key, value, DISK_FORMATS, nullable=True)
    if key == "container_format":
        return _valid_enum(key, value, CONTAINER_FORMATS, nullable=True)
    if key in ("name", "owner"):
        return _valid_string(key, value)
    raise BadRequest(f"Unknown attribute '{key}'.")


def validate_tags(value: Any) -> list[str]:
    """A list of tags (each a string of at most 255 characters), duplicates dropped."""
    if not isinstance(value, list):
        raise BadRequest("Provided object does not match schema 'image': 'tags' must be an array.")
    tags: list[str] = []
    for tag in value:
        checked = _valid_string("tags", tag, nullable=False)
        assert checked is not None
        if checked not in tags:
            tags.append(checked)
    return tags


def validate_property(key: str, value: Any) -> str:
    """A user property's value: Glance's schema takes strings only."""
    if len(key) > 255:
        raise BadRequest("Custom property should not be greater than 255 characters.")
    if not isinstance(value, str):
        raise BadRequest(
            f"Provided object does not match schema 'image': {value!r} is not of "
            f"type 'string' (in '{key}')."
        )
    return value


# --- writing -------------------------------------------------------------------------


def _check_limits(tags: int, props: int) -> None:
    if tags > TAG_LIMIT:
        raise OverQuota(
            "The limit has been exceeded on the number of allowed image tags. "
            f"Attempted: {tags}, Maximum: {TAG_LIMIT}"
        )
    if props > PROPERTY_LIMIT:
        raise OverQuota(
            "The limit has been exceeded on the number of allowed image properties. "
            f"Attempted: {props}, Maximum: {PROPERTY_LIMIT}"
        )


@dataclass
class NewImage:
    """A validated create request."""

    id: str | None
    attributes: dict[str, Any]
    properties: dict[str, str]
    tags: list[str]


def parse_create(body: Mapping[str, Any], project_id: str | None) -> NewImage:
    """Validate a ``POST /v2/images`` body as Glance's deserializer and schema do."""
    for key in DISALLOWED_ON_CREATE:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")
    image_id = body.get("id")
    if image_id is not None and (not isinstance(image_id, str) or not _UUID.match(image_id)):
        raise BadRequest(
            f"Provided object does not match schema 'image': {image_id!r} does not "
            "match the UUID pattern (in 'id')."
        )
    attributes: dict[str, Any] = {"visibility": "shared", "owner": project_id}
    props: dict[str, str] = {}
    tags: list[str] = []
    for key, value in body.items():
        if key == "id":
            continue
        if key == "tags":
            tags = validate_tags(value)
        elif key in WRITABLE:
            attributes[key] = validate_attribute(key, value)
        else:
            _check_writable_key(key)
            if key == "locations":
                raise Forbidden("Attribute 'locations' is read-only.")
            props[key] = validate_property(key, value)
    return NewImage(image_id, attributes, props, tags)


def _over_count(session: Session, owner: str | None, limit: int) -> None:
    if limit < 0 or owner is None:
        return
    used = session.scalar(select(func.count()).select_from(Image).where(Image.owner == owner)) or 0
    if used + 1 > limit:
        raise OverQuota(
            f"Resource image_count_total is over limit of {limit} due to current usage {used} "
            "and delta 1"
        )


def create_image(db: Database, new: NewImage, count_limit: int) -> Image:
    """Store a new ``queued`` image (413 over the owner's image count quota)."""
    _check_limits(len(new.tags), len(new.properties))
    now = utcnow()
    with db.writer() as session:
        _over_count(session, new.attributes.get("owner"), count_limit)
        image_id = new.id or str(uuid.uuid4())
        if session.get(Image, image_id) is not None:
            raise Conflict(f"Image with identifier {image_id} already exists!")
        fields: dict[str, Any] = {
            "protected": False,
            "os_hidden": False,
            "min_ram": 0,
            "min_disk": 0,
            **new.attributes,
        }
        image = Image(id=image_id, status="queued", created_at=now, updated_at=now, **fields)
        image.properties = [ImageProperty(name=k, value=v) for k, v in new.properties.items()]
        image.tags = [ImageTag(value=t, created_at=now) for t in new.tags]
        session.add(image)
    return image


@dataclass
class Change:
    """One JSON-patch operation: ``op`` on top-level attribute ``path``."""

    op: str
    path: str
    value: Any = None
    #: v2.0 patches refuse ``add`` of an attribute that is already there.
    strict_add: bool = False


def _decode_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str):
        raise BadRequest("Pointer must be a string.")
    if not pointer.startswith("/"):
        raise BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if "//" in pointer:
        raise BadRequest(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise BadRequest(f'Pointer `{pointer}` end with "/".')
    if pointer == "/":
        raise BadRequest(f"Pointer `{pointer}` does not contains valid token.")
    if re.search(r"~[^01]|~$", pointer):
        raise BadRequest(
            f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.'
        )
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _op_and_pointer(raw: dict[str, Any], draft: int) -> tuple[str, Any]:
    """The operation and its pointer, in draft-10 (``op``/``path``) or draft-4 syntax."""
    ops = ("add", "remove", "replace")
    if draft == 4:
        # v2.0 patches name the operation as the key: {"replace": "/name", "value": …}.
        found = [key for key in ops if key in raw]
        if len(found) != 1:
            raise BadRequest(
                'Operation objects must contain exactly one member named "add", "remove", '
                'or "replace".'
            )
        return found[0], raw[found[0]]
    op = raw.get("op")
    if op is None:
        raise BadRequest(
            "Unable to find `op` in JSON Schema change. It must be one of the "
            "following: add, remove, replace."
        )
    if op not in ops:
        raise BadRequest(
            f"Invalid operation: `{op}`. It must be one of the following: add, remove, replace."
        )
    if "path" not in raw:
        raise BadRequest("Unable to find 'path' in JSON Schema change")
    return str(op), raw["path"]


def parse_patch(body: Any, draft: int = 10) -> list[Change]:
    """Validate a JSON-patch body: v2.1 (``draft`` 10) or v2.0 (``draft`` 4) syntax."""
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    changes: list[Change] = []
    for raw in body:
        if not isinstance(raw, dict):
            raise BadRequest("Operations must be JSON objects.")
        op, pointer = _op_and_pointer(raw, draft)
        path = _decode_pointer(pointer)
        if len(path) != 1:
            raise BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
        key = path[0]
        _check_writable_key(key)
        if op != "remove" and "value" not in raw:
            raise BadRequest(f'Operation "{op}" requires a member named "value".')
        value = raw.get("value")
        if op != "remove":
            if key == "tags":
                value = validate_tags(value)
            elif key in WRITABLE:
                value = validate_attribute(key, value)
            elif key not in ("locations", "stores"):
                value = validate_property(key, value)
        changes.append(Change(op, key, value, strict_add=draft == 4))
    return changes


def update_image(db: Database, caller: Caller, image_id: str, changes: list[Change]) -> Image:
    """Apply validated JSON-patch ``changes`` in order, all or nothing."""
    with db.writer() as session:
        image = find(session, caller, image_id, lock=True)
        props = {p.name: p for p in image.properties}
        for change in changes:
            key = change.path
            if key in ("locations", "stores"):
                raise Forbidden("It's not allowed to update locations if locations are invisible.")
            if key == "owner" and not caller.is_admin:
                raise Forbidden("Owner can't be updated by non admin.")
            if (
                key in ("disk_format", "container_format")
                and image.status != "queued"
                and change.value != getattr(image, key)
            ):
                raise Forbidden(f"Attribute {key} can be only replaced for a queued image.")
            if change.op == "remove":
                if key in BASE:
                    raise Forbidden(f"Property {key} may not be removed.")
                if key not in props:
                    raise Conflict(f"Property {key} does not exist.")
                image.properties.remove(props.pop(key))
                continue
            if (
                change.op == "add"
                and change.strict_add
                and (key in props or key in (*WRITABLE, "tags"))
            ):
                raise Conflict(f"Property {key} already present.")
            if key == "tags":
                now = utcnow()
                image.tags = [ImageTag(value=t, created_at=now) for t in change.value]
            elif key in WRITABLE:
                setattr(image, key, change.value)
            elif key in props:
                props[key].value = change.value
            elif change.op == "replace":
                raise Conflict(f"Property {key} does not exist.")
            else:
                prop = ImageProperty(name=key, value=change.value)
                image.properties.append(prop)
                props[key] = prop
        _check_limits(len(image.tags), len(image.properties))
        image.updated_at = utcnow()
    return image


def delete_image(db: Database, caller: Caller, image_id: str) -> str | None:
    """Delete an image (403 when protected); returns its data file to remove."""
    with db.writer() as session:
        image = find(session, caller, image_id, lock=True)
        if image.protected:
            raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
        location = image.location
        session.delete(image)
    return location


def set_status(
    db: Database, caller: Caller, image_id: str, to: str, allowed_from: Iterable[str]
) -> Image:
    """Move an image between states (deactivate/reactivate); 400 from the wrong state."""
    with db.writer() as session:
        image = find(session, caller, image_id, lock=True)
        if image.status == to:
            return image
        if image.status not in allowed_from:
            verb = "deactivate" if to == "deactivated" else "reactivate"
            raise BadRequest(f"Not allowed to {verb} image in status '{image.status}'")
        image.status = to
        image.updated_at = utcnow()
    return image


def add_tag(db: Database, caller: Caller, image_id: str, tag: str) -> None:
    """Tag an image (idempotent)."""
    checked = _valid_string("tag", tag, nullable=False)
    with db.writer() as session:
        image = find(session, caller, image_id)
        if all(t.value != checked for t in image.tags):
            _check_limits(len(image.tags) + 1, 0)
            image.tags.append(ImageTag(value=checked, created_at=utcnow()))
        image.updated_at = utcnow()


def delete_tag(db: Database, caller: Caller, image_id: str, tag: str) -> None:
    """Remove a tag (404 when the image does not have it)."""
    with db.writer() as session:
        image = find(session, caller, image_id)
        for found in image.tags:
            if found.value == tag:
                image.tags.remove(found)
                image.updated_at = utcnow()
                return
        raise NotFound(f"Tag {tag} not found")


# --- data ----------------------------------------------------------------------------


def bytes_used(session: Session, owner: str, excluding: str | None = None) -> int:
    """Bytes of image data ``owner`` stores (Glance's image_size_total usage)."""
    stmt = select(func.coalesce(func.sum(Image.size), 0)).where(
        Image.owner == owner,
        Image.size > 0,
        Image.status.not_in(("killed", "deleted", "pending_delete")),
    )
    if excluding is not None:
        stmt = stmt.where(Image.id != excluding)
    return int(session.scalar(stmt) or 0)


def begin_upload(
    db: Database, caller: Caller, image_id: str, to: str, size_limit_mib: int
) -> tuple[Image, int | None]:
    """Move a queued image to ``saving`` (or ``uploading`` when staging).

    Returns the image and how many bytes its owner may still store (None:
    unlimited); 413 when the owner is already at the quota, 409 unless queued.
    """
    with db.writer() as session:
        image = find(session, caller, image_id, lock=True)
        if to == "saving" and (image.disk_format is None or image.container_format is None):
            raise BadRequest(
                "Properties disk_format, container_format must be set prior to saving data."
            )
        if image.status != "queued":
            raise Conflict(f"Image status transition from {image.status} to {to} is not allowed")
        remaining: int | None = None
        if size_limit_mib >= 0 and image.owner is not None:
            limit = size_limit_mib * 1024 * 1024
            used = bytes_used(session, image.owner, excluding=image.id)
            if used >= limit:
                raise OverQuota(
                    f"Resource image_size_total is over limit of {size_limit_mib} MiB due to "
                    f"current usage {used} bytes"
                )
            remaining = limit - used
        image.status = to
        image.updated_at = utcnow()
    return image, remaining


def finish_upload(
    db: Database,
    image_id: str,
    *,
    size: int,
    checksum: str,
    os_hash_algo: str,
    os_hash_value: str,
    virtual_size: int | None,
    location: str,
) -> Image | None:
    """Record uploaded data and make the image active (None if it was deleted meanwhile)."""
    with db.writer() as session:
        image = session.get(Image, image_id)
        if image is None:
            return None
        image.size = size
        image.checksum = checksum
        image.os_hash_algo = os_hash_algo
        image.os_hash_value = os_hash_value
        image.virtual_size = virtual_size
        image.location = location
        image.status = "active"
        image.failure_reason = None
        image.updated_at = utcnow()
    return image


def finish_staging(db: Database, image_id: str, size: int) -> None:
    """Staged data is complete: the image waits in ``uploading`` for its import."""
    with db.writer() as session:
        image = session.get(Image, image_id)
        if image is not None:
            image.size = size
            image.updated_at = utcnow()


def fail_upload(db: Database, image_id: str, status: str, reason: str | None) -> None:
    """Upload failed: back to ``queued`` (retryable) or ``killed`` (bad data)."""
    with db.writer() as session:
        image = session.get(Image, image_id)
        if image is None:
            return
        image.status = status
        image.failure_reason = reason
        if status == "queued":
            image.size = None
        image.updated_at = utcnow()


def begin_import(db: Database, caller: Caller, image_id: str) -> Image:
    """Start a ``glance-direct`` import of staged data (image goes ``importing``)."""
    with db.writer() as session:
        image = find(session, caller, image_id, lock=True)
        if image.status == "active":
            raise Conflict("Image with status active cannot be target for import")
        if image.status != "uploading":
            raise Conflict("Image needs to be staged before 'glance-direct' method can be used")
        if image.container_format is None:
            raise BadRequest("'container_format' needs to be set before import")
        if image.disk_format is None:
            raise BadRequest("'disk_format' needs to be set before import")
        image.status = "importing"
        image.updated_at = utcnow()
    return image
