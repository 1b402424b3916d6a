"""Metadata definition catalog: namespaces and their objects, properties, tags and
resource type associations (Glance's ``/v2/metadefs``).

Children live in JSON members of their namespace's row, keyed by name; every change
writes a fresh mapping so the ORM sees it. Names are unique within their namespace.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, Forbidden, NotFound
from kumo.image.db.models import MetadefNamespace
from kumo.image.service.images import Caller

VISIBILITIES = ("public", "private")
NAME_MAX = 80
#: The resource types a fresh Glance knows once its metadefs are loaded.
BUILTIN_RESOURCE_TYPES = (
    "OS::Cinder::Volume",
    "OS::Glance::Image",
    "OS::Nova::Aggregate",
    "OS::Nova::Flavor",
    "OS::Nova::Server",
)
PROPERTY_TYPES = ("array", "boolean", "integer", "number", "object", "string", "null")
PROPERTY_KEYS = {
    "name",
    "title",
    "description",
    "operators",
    "type",
    "readonly",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "items",
    "uniqueItems",
    "minItems",
    "maxItems",
    "additionalItems",
}
#: Members the server sets; clients echo them back from GET, so they are ignored.
READ_ONLY = {"created_at", "updated_at", "schema", "self"}
NAMESPACE_KEYS = {
    "namespace",
    "display_name",
    "description",
    "visibility",
    "protected",
    "owner",
    "resource_type_associations",
    "properties",
    "objects",
    "tags",
}
OBJECT_KEYS = {"name", "description", "required", "properties"}
ASSOCIATION_KEYS = {"name", "prefix", "properties_target"}


def isotime(value: dt.datetime) -> str:
    """Glance's timestamps: ``2016-01-02T03:04:05Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> str:
    return isotime(utcnow())


def _check_keys(body: dict[str, Any], allowed: set[str], what: str) -> dict[str, Any]:
    extra = sorted(set(body) - allowed - READ_ONLY)
    if extra:
        raise BadRequest(f"Additional properties are not allowed ({', '.join(extra)}) in {what}.")
    return {k: v for k, v in body.items() if k in allowed}


def _name(value: Any, what: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{what}' is a required string.")
    if len(value) > NAME_MAX:
        raise BadRequest(f"'{what}' is longer than {NAME_MAX} characters.")
    return value


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{key}' must be a string.")
    return value


def _bool(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(f"'{key}' must be a boolean.")
    return value


def _visibility(body: dict[str, Any]) -> str:
    value = body.get("visibility") or "private"
    if value not in VISIBILITIES:
        raise BadRequest(f"Invalid visibility {value!r}: must be one of {', '.join(VISIBILITIES)}.")
    return str(value)


def visible(ns: MetadefNamespace, caller: Caller) -> bool:
    """Whether the caller may see ``ns`` at all (public, own project, or admin)."""
    return caller.is_admin or ns.visibility == "public" or ns.owner == caller.project_id


def _get(session: Session, name: str, caller: Caller) -> MetadefNamespace:
    ns = session.scalar(select(MetadefNamespace).where(MetadefNamespace.namespace == name))
    if ns is None or not visible(ns, caller):
        raise NotFound(f"Metadata definition namespace={name} was not found.")
    return ns


def get_namespace(db: Database, name: str, caller: Caller) -> MetadefNamespace:
    """One namespace the caller can see, or NotFound."""
    with db.reader() as session:
        ns = _get(session, name, caller)
        session.expunge(ns)
        return ns


# --- children: parsing -------------------------------------------------------------


def parse_association(body: dict[str, Any]) -> dict[str, Any]:
    """A resource type association from a request body."""
    body = _check_keys(body, ASSOCIATION_KEYS, "resource_type_association")
    return {
        "name": _name(body.get("name")),
        "prefix": _opt_str(body, "prefix"),
        "properties_target": _opt_str(body, "properties_target"),
    }


def parse_property(body: dict[str, Any]) -> dict[str, Any]:
    """A property definition (a JSON-Schema fragment) from a request body."""
    body = _check_keys(body, PROPERTY_KEYS, "property")
    _name(body.get("name"))
    if not isinstance(body.get("title"), str):
        raise BadRequest("'title' is a required string.")
    if body.get("type") not in PROPERTY_TYPES:
        raise BadRequest(f"'type' is required and must be one of {', '.join(PROPERTY_TYPES)}.")
    if "enum" in body and not isinstance(body["enum"], list):
        raise BadRequest("'enum' must be an array.")
    return body


def parse_object(body: dict[str, Any]) -> dict[str, Any]:
    """An object definition from a request body."""
    body = _check_keys(body, OBJECT_KEYS, "object")
    required = body.get("required") or []
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise BadRequest("'required' must be an array of strings.")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise BadRequest("'properties' must be an object.")
    checked = {}
    for key, prop in props.items():
        if not isinstance(prop, dict):
            raise BadRequest(f"Property {key!r} must be an object.")
        checked[key] = parse_property({**prop, "name": key})
        checked[key].pop("name")
    return {
        "name": _name(body.get("name")),
        "description": _opt_str(body, "description"),
        "required": required,
        "properties": checked,
    }


def _tag_names(tags: Any) -> list[str]:
    if not isinstance(tags, list):
        raise BadRequest("'tags' must be an array of objects with a 'name'.")
    names = []
    for tag in tags:
        if not isinstance(tag, dict):
            raise BadRequest("Each tag must be an object with a 'name'.")
        _check_keys(tag, {"name"}, "tag")
        names.append(_name(tag.get("name")))
    if len(set(names)) != len(names):
        raise Conflict("A tag is given more than once.")
    return names


# --- namespaces ----------------------------------------------------------------------


def create_namespace(db: Database, body: dict[str, Any], caller: Caller) -> MetadefNamespace:
    """Create a namespace with any children the request already carries."""
    body = _check_keys(body, NAMESPACE_KEYS, "namespace")
    now, stamp = utcnow(), _now()
    associations = body.get("resource_type_associations") or []
    objects = body.get("objects") or []
    properties = body.get("properties") or {}
    if not isinstance(associations, list) or not isinstance(objects, list):
        raise BadRequest("'resource_type_associations' and 'objects' must be arrays.")
    if not isinstance(properties, dict):
        raise BadRequest("'properties' must be an object.")
    rts = {}
    for item in associations:
        assoc = parse_association(item if isinstance(item, dict) else {})
        rts[assoc["name"]] = {**assoc, "created_at": stamp, "updated_at": stamp}
    objs = {}
    for item in objects:
        obj = parse_object(item if isinstance(item, dict) else {})
        objs[obj["name"]] = {**obj, "created_at": stamp, "updated_at": stamp}
    props = {}
    for key, value in properties.items():
        if not isinstance(value, dict):
            raise BadRequest(f"Property {key!r} must be an object.")
        props[key] = parse_property({**value, "name": key})
    tags = {
        n: {"name": n, "created_at": stamp, "updated_at": stamp}
        for n in _tag_names(body.get("tags") or [])
    }
    owner = _opt_str(body, "owner") or caller.project_id
    if owner != caller.project_id and not caller.is_admin:
        raise Forbidden("You are not permitted to create namespaces owned by another project.")
    ns = MetadefNamespace(
        id=str(uuid.uuid4()),
        namespace=_name(body.get("namespace"), "namespace"),
        display_name=_opt_str(body, "display_name"),
        description=_opt_str(body, "description"),
        visibility=_visibility(body),
        protected=_bool(body, "protected"),
        owner=owner,
        resource_types=rts,
        properties=props,
        objects=objs,
        tags=tags,
        created_at=now,
        updated_at=now,
    )
    try:
        with db.writer() as session:
            if session.scalar(
                select(MetadefNamespace.id).where(MetadefNamespace.namespace == ns.namespace)
            ):
                raise Conflict(f"Metadata definition namespace={ns.namespace} already exists.")
            session.add(ns)
            session.flush()
            session.expunge(ns)
    except IntegrityError as exc:
        raise Conflict(f"Metadata definition namespace={ns.namespace} already exists.") from exc
    return ns


LIMIT_DEFAULT = 25
LIMIT_MAX = 1000
SORT_KEYS = ("created_at", "updated_at", "namespace", "id")


def list_namespaces(
    db: Database,
    caller: Caller,
    *,
    visibility: str | None = None,
    resource_types: list[str] | None = None,
    sort_key: str = "created_at",
    sort_dir: str = "desc",
    marker: str | None = None,
    limit: int = LIMIT_DEFAULT,
) -> list[MetadefNamespace]:
    """One page of the namespaces the caller can see (newest first by default).

    ``marker`` is the name of the last namespace of the previous page.
    """
    if sort_key not in SORT_KEYS:
        raise BadRequest(f"Invalid sort key: {sort_key}.")
    if sort_dir not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {sort_dir}")
    with db.reader() as session:
        rows = session.scalars(select(MetadefNamespace)).all()
        found = [
            ns
            for ns in rows
            if visible(ns, caller)
            and (not visibility or ns.visibility == visibility)
            and (not resource_types or set(resource_types) & set(ns.resource_types))
        ]
        found.sort(key=lambda ns: (getattr(ns, sort_key), ns.id), reverse=sort_dir == "desc")
        if marker is not None:
            names = [ns.namespace for ns in found]
            if marker not in names:
                raise NotFound(f"Metadata definition namespace={marker} was not found.")
            found = found[names.index(marker) + 1 :]
        page = found[:limit]
        for ns in page:
            session.expunge(ns)
        return page


def update_namespace(
    db: Database, name: str, body: dict[str, Any], caller: Caller
) -> MetadefNamespace:
    """Replace a namespace's own attributes (as Glance's PUT: absent ones reset)."""
    body = _check_keys(body, NAMESPACE_KEYS, "namespace")
    new_name = _name(body.get("namespace", name), "namespace")
    with db.writer() as session:
        ns = _get(session, name, caller)
        if new_name != name and session.scalar(
            select(MetadefNamespace.id).where(MetadefNamespace.namespace == new_name)
        ):
            raise Conflict(f"Metadata definition namespace={new_name} already exists.")
        owner = _opt_str(body, "owner") or ns.owner
        if owner != ns.owner and not caller.is_admin:
            raise Forbidden("You are not permitted to change the owner of a namespace.")
        ns.namespace = new_name
        ns.display_name = _opt_str(body, "display_name")
        ns.description = _opt_str(body, "description")
        ns.visibility = _visibility(body)
        ns.protected = _bool(body, "protected")
        ns.owner = owner
        ns.updated_at = utcnow()
        session.flush()
        session.expunge(ns)
        return ns


def delete_namespace(db: Database, name: str, caller: Caller) -> None:
    """Delete a namespace and everything in it; 403 while it is protected."""
    with db.writer() as session:
        ns = _get(session, name, caller)
        if ns.protected:
            raise Forbidden(f"Namespace {name} is protected and cannot be deleted.")
        session.delete(ns)


# --- children: one generic read-modify-write ----------------------------------------

CHILD_WHAT = {
    "objects": "Metadata definition object",
    "properties": "Metadata definition property",
    "tags": "Metadata definition tag",
    "resource_types": "Metadata definition resource type association",
}


def children(db: Database, name: str, kind: str, caller: Caller) -> dict[str, Any]:
    """The namespace's children of ``kind``, keyed by name."""
    ns = get_namespace(db, name, caller)
    return dict(getattr(ns, kind))


def child(db: Database, name: str, kind: str, key: str, caller: Caller) -> dict[str, Any]:
    """One child of ``kind`` named ``key``, or NotFound."""
    found = children(db, name, kind, caller).get(key)
    if found is None:
        raise NotFound(f"{CHILD_WHAT[kind]}={key} not found in namespace={name}.")
    return dict(found)


def modify(
    db: Database,
    name: str,
    kind: str,
    caller: Caller,
    change: Callable[[dict[str, Any], MetadefNamespace], Any],
) -> Any:
    """Apply ``change`` to a copy of the namespace's ``kind`` mapping and store it."""
    with db.writer() as session:
        ns = _get(session, name, caller)
        items = {k: dict(v) for k, v in getattr(ns, kind).items()}
        result = change(items, ns)
        setattr(ns, kind, items)
        ns.updated_at = utcnow()
        return result


def add_child(db: Database, name: str, kind: str, item: dict[str, Any], caller: Caller) -> Any:
    """Add a new child (409 when one of that name exists)."""
    key = item["name"]

    def change(items: dict[str, Any], _ns: MetadefNamespace) -> dict[str, Any]:
        if key in items:
            raise Conflict(f"{CHILD_WHAT[kind]}={key} already exists in namespace={name}.")
        stamp = _now()
        items[key] = {**item, "created_at": stamp, "updated_at": stamp}
        return dict(items[key])

    return modify(db, name, kind, caller, change)


def replace_child(
    db: Database, name: str, kind: str, key: str, item: dict[str, Any], caller: Caller
) -> Any:
    """Replace child ``key`` with ``item`` (which may rename it)."""
    new_key = item["name"]

    def change(items: dict[str, Any], _ns: MetadefNamespace) -> dict[str, Any]:
        old = items.get(key)
        if old is None:
            raise NotFound(f"{CHILD_WHAT[kind]}={key} not found in namespace={name}.")
        if new_key != key and new_key in items:
            raise Conflict(f"{CHILD_WHAT[kind]}={new_key} already exists in namespace={name}.")
        del items[key]
        items[new_key] = {**item, "created_at": old.get("created_at"), "updated_at": _now()}
        return dict(items[new_key])

    return modify(db, name, kind, caller, change)


def delete_child(db: Database, name: str, kind: str, key: str | None, caller: Caller) -> None:
    """Delete child ``key`` (or, with ``key`` None, every child of ``kind``)."""

    def change(items: dict[str, Any], ns: MetadefNamespace) -> None:
        if ns.protected:
            raise Forbidden(f"Namespace {name} is protected: its definitions cannot be deleted.")
        if key is None:
            items.clear()
        elif items.pop(key, None) is None:
            raise NotFound(f"{CHILD_WHAT[kind]}={key} not found in namespace={name}.")

    modify(db, name, kind, caller, change)


def replace_tags(db: Database, name: str, tags: Any, append: bool, caller: Caller) -> list[str]:
    """Create tags from a list (replacing the existing ones unless ``append``)."""
    names = _tag_names(tags)

    def change(items: dict[str, Any], _ns: MetadefNamespace) -> list[str]:
        if not append:
            items.clear()
        stamp = _now()
        for tag in names:
            if tag in items:
                raise Conflict(f"Metadata definition tag={tag} already exists in namespace={name}.")
            items[tag] = {"name": tag, "created_at": stamp, "updated_at": stamp}
        return names

    result: list[str] = modify(db, name, "tags", caller, change)
    return result


def resource_types(db: Database) -> list[dict[str, Any]]:
    """Every resource type: the built-in ones and any a namespace was associated with."""
    with db.reader() as session:
        rows = session.scalars(select(MetadefNamespace.resource_types)).all()
    found: dict[str, dict[str, Any]] = {}
    for assocs in rows:
        for key, assoc in assocs.items():
            found.setdefault(
                key,
                {
                    "name": key,
                    "created_at": assoc.get("created_at"),
                    "updated_at": assoc.get("created_at"),
                },
            )
    epoch = "2014-08-28T17:13:04Z"
    for key in BUILTIN_RESOURCE_TYPES:
        found[key] = {"name": key, "created_at": epoch, "updated_at": epoch}
    return [found[k] for k in sorted(found)]


def parse_tag_name(value: Any) -> str:
    """A tag's name, checked."""
    return _name(value)
