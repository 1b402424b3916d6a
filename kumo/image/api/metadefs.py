"""/v2/metadefs: the metadata definition catalog (namespaces, objects, properties,
tags, resource types) and /v2/schemas/metadefs/*.

Reads are allowed on namespaces the caller can see (public, own project, admin);
a namespace the caller cannot see is 404. Changes are admin-only by default.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.db import Database
from kumo.common.errors import BadRequest
from kumo.image.api.deps import caller, enforce
from kumo.image.db.models import MetadefNamespace
from kumo.image.schemas import AnyObject
from kumo.image.service import metadefs
from kumo.image.service.images import Caller

router = APIRouter()

NSS = "/v2/metadefs/namespaces"
NS = NSS + "/{namespace_name}"


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _target(ns: MetadefNamespace) -> dict[str, Any]:
    return {"project_id": ns.owner, "owner": ns.owner, "visibility": ns.visibility}


def _authorize(request: Request, authz: Authz, name: str, rule: str) -> Caller:
    """The caller, once ``rule`` passes on namespace ``name`` (404 if it is invisible)."""
    who = caller(authz)
    ns = metadefs.get_namespace(_db(request), name, who)
    enforce(authz, rule, _target(ns))
    return who


def _self(name: str, *parts: str) -> str:
    return "/".join([f"{NSS}/{quote(name, safe='')}", *(quote(p, safe="") for p in parts)])


def namespace_view(ns: MetadefNamespace, full: bool) -> dict[str, Any]:
    """A namespace as Glance shows it (children only in the full view)."""
    view: dict[str, Any] = {
        "namespace": ns.namespace,
        "display_name": ns.display_name,
        "description": ns.description,
        "visibility": ns.visibility,
        "protected": ns.protected,
        "owner": ns.owner,
        "created_at": metadefs.isotime(ns.created_at),
        "updated_at": metadefs.isotime(ns.updated_at),
        "schema": "/v2/schemas/metadefs/namespace",
        "self": _self(ns.namespace),
    }
    view = {k: v for k, v in view.items() if v is not None}
    if ns.resource_types:
        view["resource_type_associations"] = list(ns.resource_types.values())
    if full:
        if ns.properties:
            view["properties"] = {k: _property(v, False) for k, v in ns.properties.items()}
        if ns.objects:
            view["objects"] = [_object(o, ns.namespace, False) for o in ns.objects.values()]
        if ns.tags:
            view["tags"] = [{"name": t["name"]} for t in ns.tags.values()]
    return view


def _property(prop: dict[str, Any], with_name: bool) -> dict[str, Any]:
    view = {k: v for k, v in prop.items() if k not in ("created_at", "updated_at")}
    if not with_name:
        view.pop("name", None)
    return view


def _object(obj: dict[str, Any], namespace: str, links: bool) -> dict[str, Any]:
    view = {k: v for k, v in obj.items() if v is not None}
    if links:
        view["schema"] = "/v2/schemas/metadefs/object"
        view["self"] = _self(namespace, "objects", obj["name"])
    return view


# --- namespaces ----------------------------------------------------------------------


def _limit(value: str | None) -> int:
    if value is None:
        return metadefs.LIMIT_DEFAULT
    try:
        limit = int(value)
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if limit < 0:
        raise BadRequest("limit param must be positive")
    return min(limit, metadefs.LIMIT_MAX)


@route(router, "GET", NSS, policy="get_metadef_namespaces")
def list_namespaces(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A page of the namespaces the caller can see (``limit``, ``marker``, ``sort_key``,
    ``sort_dir``); ``visibility`` and ``resource_types`` (comma-separated) filter."""
    authz.enforce()
    params = request.query_params
    visibility = params.get("visibility")
    if visibility is not None and visibility not in metadefs.VISIBILITIES:
        raise BadRequest(f"Invalid visibility value: {visibility}")
    rts = [r for r in (params.get("resource_types") or "").split(",") if r]
    limit = _limit(params.get("limit"))
    found = metadefs.list_namespaces(
        _db(request),
        caller(authz),
        visibility=visibility,
        resource_types=rts or None,
        sort_key=params.get("sort_key") or "created_at",
        sort_dir=params.get("sort_dir") or "desc",
        marker=params.get("marker"),
        limit=limit,
    )
    query = {k: v for k, v in params.items() if k != "marker"}
    body: dict[str, Any] = {
        "namespaces": [namespace_view(ns, False) for ns in found],
        "first": f"{NSS}?{urlencode(query)}" if query else NSS,
        "schema": "/v2/schemas/metadefs/namespaces",
    }
    if found and len(found) == limit:
        body["next"] = f"{NSS}?{urlencode({**query, 'marker': found[-1].namespace})}"
    return body


@route(router, "POST", NSS, policy="add_metadef_namespace", status_code=201)
def create_namespace(body: AnyObject, request: Request, authz: Authz = AuthzDep) -> JSONResponse:
    """Create a namespace (``namespace`` is its unique name)."""
    authz.enforce()
    ns = metadefs.create_namespace(_db(request), body.members(), caller(authz))
    view = namespace_view(ns, True)
    return JSONResponse(view, status_code=201, headers={"Location": view["self"]})


@route(router, "GET", NS, policy="get_metadef_namespace")
def show_namespace(namespace_name: str, request: Request, authz: Authz = AuthzDep) -> Any:
    """One namespace with its properties, objects, tags and associations."""
    who = caller(authz)
    ns = metadefs.get_namespace(_db(request), namespace_name, who)
    enforce(authz, "get_metadef_namespace", _target(ns))
    return namespace_view(ns, True)


@route(router, "PUT", NS, policy="modify_metadef_namespace")
def update_namespace(
    namespace_name: str, body: AnyObject, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Replace the namespace's attributes (it may be renamed)."""
    who = _authorize(request, authz, namespace_name, "modify_metadef_namespace")
    ns = metadefs.update_namespace(_db(request), namespace_name, body.members(), who)
    return namespace_view(ns, True)


@route(router, "DELETE", NS, policy="delete_metadef_namespace", status_code=204)
def delete_namespace(namespace_name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a namespace and its definitions (403 while protected)."""
    who = _authorize(request, authz, namespace_name, "delete_metadef_namespace")
    metadefs.delete_namespace(_db(request), namespace_name, who)
    return Response(status_code=204)


# --- objects -------------------------------------------------------------------------


@route(router, "GET", NS + "/objects", policy="get_metadef_objects")
def list_objects(namespace_name: str, request: Request, authz: Authz = AuthzDep) -> Any:
    """The namespace's objects."""
    who = _authorize(request, authz, namespace_name, "get_metadef_objects")
    items = metadefs.children(_db(request), namespace_name, "objects", who)
    return {
        "objects": [_object(o, namespace_name, True) for o in items.values()],
        "schema": "/v2/schemas/metadefs/objects",
    }


@route(router, "POST", NS + "/objects", policy="add_metadef_object", status_code=201)
def create_object(
    namespace_name: str, body: AnyObject, request: Request, authz: Authz = AuthzDep
) -> Any:
    """Add an object (``name``, ``description``, ``properties``, ``required``)."""
    who = _authorize(request, authz, namespace_name, "add_metadef_object")
    obj = metadefs.parse_object(body.members())
    made = metadefs.add_child(_db(request), namespace_name, "objects", obj, who)
    return _object(made, namespace_name, True)


@route(router, "GET", NS + "/objects/{object_name}", policy="get_metadef_object")
def show_object(
    namespace_name: str, object_name: str, request: Request, authz: Authz = AuthzDep
) -> Any:
    """One object."""
    who = _authorize(request, authz, namespace_name, "get_metadef_object")
    obj = metadefs.child(_db(request), namespace_name, "objects", object_name, who)
    return _object(obj, namespace_name, True)


@route(router, "PUT", NS + "/objects/{object_name}", policy="modify_metadef_object")
def update_object(
    namespace_name: str,
    object_name: str,
    body: AnyObject,
    request: Request,
    authz: Authz = AuthzDep,
) -> Any:
    """Replace an object (it may be renamed)."""
    who = _authorize(request, authz, namespace_name, "modify_metadef_object")
    obj = metadefs.parse_object(body.members())
    made = metadefs.replace_child(_db(request), namespace_name, "objects", object_name, obj, who)
    return _object(made, namespace_name, True)


@route(
    router,
    "DELETE",
    NS + "/objects/{object_name}",
    policy="delete_metadef_object",
    status_code=204,
)
def delete_object(
    namespace_name: str, object_name: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Delete an object."""
    who = _authorize(request, authz, namespace_name, "delete_metadef_object")
    metadefs.delete_child(_db(request), namespace_name, "objects", object_name, who)
    return Response(status_code=204)


# --- properties ----------------------------------------------------------------------


@route(router, "GET", NS + "/properties", policy="get_metadef_properties")
def list_properties(namespace_name: str, request: Request, authz: Authz = AuthzDep) -> Any:
    """The namespace's properties, keyed by name."""
    who = _authorize(request, authz, namespace_name, "get_metadef_properties")
    items = metadefs.children(_db(request), namespace_name, "properties", who)
    return {"properties": {k: _property(v, False) for k, v in items.items()}}


@route(router, "POST", NS + "/properties", policy="add_metadef_property", status_code=201)
def create_property(
    namespace_name: str, body: AnyObject, request: Request, authz: Authz = AuthzDep
) -> Any:
    """Add a property definition (``name``, ``title``, ``type`` and JSON-Schema keys)."""
    who = _authorize(request, authz, namespace_name, "add_metadef_property")
    prop = metadefs.parse_property(body.members())
    made = metadefs.add_child(_db(request), namespace_name, "properties", prop, who)
    return _property(made, True)


@route(router, "GET", NS + "/properties/{property_name}", policy="get_metadef_property")
def show_property(
    namespace_name: str, property_name: str, request: Request, authz: Authz = AuthzDep
) -> Any:
    """One property definition."""
    who = _authorize(request, authz, namespace_name, "get_metadef_property")
    prop = metadefs.child(_db(request), namespace_name, "properties", property_name, who)
    return _property(prop, True)


@route(router, "PUT", NS + "/properties/{property_name}", policy="modify_metadef_property")
def update_property(
    namespace_name: str,
    property_name: str,
    body: AnyObject,
    request: Request,
    authz: Authz = AuthzDep,
) -> Any:
    """Replace a property definition (it may be renamed)."""
    who = _authorize(request, authz, namespace_name, "modify_metadef_property")
    prop = metadefs.parse_property(body.members())
    made = metadefs.replace_child(
        _db(request), namespace_name, "properties", property_name, prop, who
    )
    return _property(made, True)


@route(
    router,
    "DELETE",
    NS + "/properties/{property_name}",
    policy="remove_metadef_property",
    status_code=204,
)
def delete_property(
    namespace_name: str, property_name: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Delete a property definition."""
    who = _authorize(request, authz, namespace_name, "remove_metadef_property")
    metadefs.delete_child(_db(request), namespace_name, "properties", property_name, who)
    return Response(status_code=204)


# --- tags ----------------------------------------------------------------------------


def _tag(tag: dict[str, Any]) -> dict[str, Any]:
    return {"name": tag["name"], "created_at": tag["created_at"], "updated_at": tag["updated_at"]}


@route(router, "GET", NS + "/tags", policy="get_metadef_tags")
def list_tags(namespace_name: str, request: Request, authz: Authz = AuthzDep) -> Any:
    """The namespace's tags."""
    who = _authorize(request, authz, namespace_name, "get_metadef_tags")
    items = metadefs.children(_db(request), namespace_name, "tags", who)
    return {"tags": [_tag(t) for t in items.values()]}


@route(router, "POST", NS + "/tags", policy="add_metadef_tags", status_code=201)
def create_tags(
    namespace_name: str, body: AnyObject, request: Request, authz: Authz = AuthzDep
) -> Any:
    """Create tags from ``{"tags": [{"name": …}]}``, replacing the existing ones unless
    the ``X-OpenStack-Append: True`` header asks to add to them."""
    who = _authorize(request, authz, namespace_name, "add_metadef_tags")
    members = body.members()
    if set(members) - {"tags"}:
        raise BadRequest("Only 'tags' is allowed in the request body.")
    append = request.headers.get("X-OpenStack-Append", "").lower() == "true"
    names = metadefs.replace_tags(_db(request), namespace_name, members.get("tags"), append, who)
    return {"tags": [{"name": n} for n in names]}


@route(router, "DELETE", NS + "/tags", policy="delete_metadef_tags", status_code=204)
def delete_tags(namespace_name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete every tag of the namespace."""
    who = _authorize(request, authz, namespace_name, "delete_metadef_tags")
    metadefs.delete_child(_db(request), namespace_name, "tags", None, who)
    return Response(status_code=204)


@route(router, "POST", NS + "/tags/{tag_name}", policy="add_metadef_tag", status_code=201)
def create_tag(
    namespace_name: str, tag_name: str, request: Request, authz: Authz = AuthzDep
) -> Any:
    """Add one tag (no body)."""
    who = _authorize(request, authz, namespace_name, "add_metadef_tag")
    item = {"name": metadefs.parse_tag_name(tag_name)}
    return _tag(metadefs.add_child(_db(request), namespace_name, "tags", item, who))


@route(router, "GET", NS + "/tags/{tag_name}", policy="get_metadef_tag")
def show_tag(namespace_name: str, tag_name: str, request: Request, authz: Authz = AuthzDep) -> Any:
    """One tag."""
    who = _authorize(request, authz, namespace_name, "get_metadef_tag")
    return _tag(metadefs.child(_db(request), namespace_name, "tags", tag_name, who))


@route(router, "PUT", NS + "/tags/{tag_name}", policy="modify_metadef_tag")
def update_tag(
    namespace_name: str, tag_name: str, body: AnyObject, request: Request, authz: Authz = AuthzDep
) -> Any:
    """Rename a tag (``{"name": …}``)."""
    who = _authorize(request, authz, namespace_name, "modify_metadef_tag")
    members = body.members()
    if set(members) - {"name"} - metadefs.READ_ONLY:
        raise BadRequest("Only 'name' is allowed in the request body.")
    item = {"name": metadefs.parse_tag_name(members.get("name"))}
    made = metadefs.replace_child(_db(request), namespace_name, "tags", tag_name, item, who)
    return _tag(made)


@route(router, "DELETE", NS + "/tags/{tag_name}", policy="delete_metadef_tag", status_code=204)
def delete_tag(
    namespace_name: str, tag_name: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Delete one tag."""
    who = _authorize(request, authz, namespace_name, "delete_metadef_tag")
    metadefs.delete_child(_db(request), namespace_name, "tags", tag_name, who)
    return Response(status_code=204)


# --- resource types ------------------------------------------------------------------


@route(router, "GET", "/v2/metadefs/resource_types", policy="list_metadef_resource_types")
def list_resource_types(request: Request, authz: Authz = AuthzDep) -> Any:
    """Every resource type known (built in, or from an association)."""
    enforce(
        authz,
        "list_metadef_resource_types",
        {"project_id": authz.ctx.project_id, "visibility": "public"},
    )
    return {"resource_types": metadefs.resource_types(_db(request))}


@route(router, "GET", NS + "/resource_types", policy="get_metadef_resource_type")
def list_associations(namespace_name: str, request: Request, authz: Authz = AuthzDep) -> Any:
    """The resource types this namespace applies to."""
    who = _authorize(request, authz, namespace_name, "get_metadef_resource_type")
    items = metadefs.children(_db(request), namespace_name, "resource_types", who)
    return {"resource_type_associations": list(items.values())}


@route(
    router,
    "POST",
    NS + "/resource_types",
    policy="add_metadef_resource_type_association",
    status_code=201,
)
def create_association(
    namespace_name: str, body: AnyObject, request: Request, authz: Authz = AuthzDep
) -> Any:
    """Associate the namespace with a resource type (``name``, ``prefix``, …)."""
    who = _authorize(request, authz, namespace_name, "add_metadef_resource_type_association")
    assoc = metadefs.parse_association(body.members())
    made: dict[str, Any] = metadefs.add_child(
        _db(request), namespace_name, "resource_types", assoc, who
    )
    return {k: v for k, v in made.items() if v is not None}


@route(
    router,
    "DELETE",
    NS + "/resource_types/{name}",
    policy="remove_metadef_resource_type_association",
    status_code=204,
)
def delete_association(
    namespace_name: str, name: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Remove an association."""
    who = _authorize(request, authz, namespace_name, "remove_metadef_resource_type_association")
    metadefs.delete_child(_db(request), namespace_name, "resource_types", name, who)
    return Response(status_code=204)


# --- schemas -------------------------------------------------------------------------

_STAMPS = {
    "created_at": {"type": "string", "readOnly": True, "format": "date-time"},
    "updated_at": {"type": "string", "readOnly": True, "format": "date-time"},
}
_PROPERTY = {
    "type": "object",
    "required": ["title", "type"],
    "properties": {
        "name": {"type": "string", "maxLength": metadefs.NAME_MAX},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": "string", "enum": list(metadefs.PROPERTY_TYPES)},
        "readonly": {"type": "boolean"},
        "default": {},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "minLength": {"type": "integer", "minimum": 0},
        "maxLength": {"type": "integer", "minimum": 0},
        "pattern": {"type": "string", "format": "regex"},
        "enum": {"type": "array"},
        "items": {"type": "object"},
        "uniqueItems": {"type": "boolean", "default": False},
        "minItems": {"type": "integer", "minimum": 0},
        "maxItems": {"type": "integer", "minimum": 0},
        "additionalItems": {"type": "boolean"},
    },
    "additionalProperties": False,
}
_ASSOCIATION = {
    "name": "resource_type_association",
    "properties": {
        "name": {"type": "string", "maxLength": metadefs.NAME_MAX},
        "prefix": {"type": "string", "maxLength": 80},
        "properties_target": {"type": "string", "maxLength": 80},
        **_STAMPS,
    },
    "required": ["name"],
    "additionalProperties": False,
}
_OBJECT = {
    "name": "object",
    "properties": {
        "name": {"type": "string", "maxLength": metadefs.NAME_MAX},
        "description": {"type": "string"},
        "required": {"type": "array", "items": {"type": "string"}},
        "properties": {"type": "object", "additionalProperties": _PROPERTY},
        "schema": {"type": "string", "readOnly": True},
        "self": {"type": "string", "readOnly": True},
        **_STAMPS,
    },
    "required": ["name"],
    "additionalProperties": False,
}
_TAG = {
    "name": "tag",
    "properties": {"name": {"type": "string", "maxLength": 255}, **_STAMPS},
    "required": ["name"],
    "additionalProperties": False,
}
_NAMESPACE = {
    "name": "namespace",
    "properties": {
        "namespace": {"type": "string", "maxLength": metadefs.NAME_MAX},
        "display_name": {"type": "string", "maxLength": 80},
        "description": {"type": "string", "maxLength": 500},
        "visibility": {"type": "string", "enum": list(metadefs.VISIBILITIES)},
        "protected": {"type": "boolean"},
        "owner": {"type": "string", "maxLength": 255},
        "resource_type_associations": {"type": "array", "items": _ASSOCIATION},
        "properties": {"type": "object", "additionalProperties": _PROPERTY},
        "objects": {"type": "array", "items": _OBJECT},
        "tags": {"type": "array", "items": _TAG},
        "schema": {"type": "string", "readOnly": True},
        "self": {"type": "string", "readOnly": True},
        **_STAMPS,
    },
    "required": ["namespace"],
    "additionalProperties": False,
}


def _collection(name: str, items: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": items},
            **extra,
        },
        "links": [{"rel": "describedby", "href": "{schema}"}],
    }


_PAGING = {
    "first": {"type": "string"},
    "next": {"type": "string"},
    "schema": {"type": "string"},
}
METADEF_SCHEMAS: dict[str, dict[str, Any]] = {
    "namespace": _NAMESPACE,
    "namespaces": _collection("namespaces", _NAMESPACE, _PAGING),
    "resource_type": _ASSOCIATION,
    "resource_types": _collection("resource_type_associations", _ASSOCIATION, _PAGING),
    "object": _OBJECT,
    "objects": _collection("objects", _OBJECT, _PAGING),
    "property": {"name": "property", **_PROPERTY},
    "properties": {
        "name": "properties",
        "properties": {
            "properties": {"type": "object", "additionalProperties": _PROPERTY},
            **_PAGING,
        },
        "links": [{"rel": "describedby", "href": "{schema}"}],
    },
    "tag": _TAG,
    "tags": _collection("tags", _TAG, _PAGING),
}


def _schema_route(key: str) -> None:
    def show(authz: Authz = AuthzDep) -> dict[str, Any]:
        return METADEF_SCHEMAS[key]

    show.__doc__ = f"``/v2/schemas/metadefs/{key}``."
    show.__name__ = f"show_metadef_{key}_schema"
    route(router, "GET", f"/v2/schemas/metadefs/{key}", policy="get_image_info")(show)


for _key in METADEF_SCHEMAS:
    _schema_route(_key)
