"""The catalog's definitions: regions, services and endpoints (create, read, update, delete).

Tokens' catalogs are built from these rows by :mod:`kumo.identity.service.catalog`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.errors import Conflict, Forbidden, NotFound, ValidationError
from kumo.identity.db.models import Endpoint, Region, Service
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters

INTERFACES = ("public", "internal", "admin")
#: The placeholders Keystone allows in endpoint URLs, as ``$(name)s`` or ``%(name)s``.
URL_PLACEHOLDERS = ("tenant_id", "project_id", "user_id", "compute_host", "public_endpoint")
REGION_FIELDS = {"id", "description", "parent_region_id", "links"}
SERVICE_FIELDS = {"id", "type", "enabled", "links"}
ENDPOINT_FIELDS = {
    "id",
    "interface",
    "service_id",
    "url",
    "region_id",
    "region",
    "enabled",
    "links",
    "legacy_endpoint_id",
}


def _extras(data: Mapping[str, Any], fields: set[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in fields}


def _strip_id(changes: dict[str, Any], resource_id: str, kind: str) -> dict[str, Any]:
    """A PATCH body may repeat the resource's id, but not change it (400)."""
    if not changes:
        raise ValidationError(f"A {kind} update needs at least one attribute.")
    changes = dict(changes)
    changes.pop("links", None)
    if "id" in changes:
        if changes["id"] != resource_id:
            raise ValidationError(f"Cannot change the ID of a {kind}.")
        del changes["id"]
    return changes


# -- regions -------------------------------------------------------------------


def get_region_row(s: Session, region_id: str) -> Region:
    """A region by id; 404 when missing."""
    region = s.get(Region, region_id)
    if region is None:
        raise NotFound(f"Could not find region: {region_id}.")
    return region


def create_region(
    ident: Identity,
    *,
    region_id: str | None = None,
    description: str | None = None,
    parent_region_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Region:
    """Create a region; an empty or missing id is generated. A missing parent is 404."""
    with ident.db.writer() as s:
        return _add_region(
            s,
            region_id or new_id(),
            description,
            parent_region_id,
            _extras(extra or {}, REGION_FIELDS),
        )


def _add_region(
    s: Session,
    region_id: str,
    description: str | None,
    parent_region_id: str | None,
    extra: dict[str, Any],
) -> Region:
    if s.get(Region, region_id) is not None:
        raise Conflict(f"Conflict occurred attempting to store region - Duplicate ID, {region_id}.")
    if parent_region_id is not None:
        get_region_row(s, parent_region_id)
    region = Region(
        id=region_id, description=description or "", parent_region_id=parent_region_id, extra=extra
    )
    s.add(region)
    s.flush()
    return region


def show_region(ident: Identity, region_id: str) -> Region:
    """One region."""
    with ident.db.reader() as s:
        return get_region_row(s, region_id)


def list_regions(ident: Identity, params: Mapping[str, str]) -> list[Region]:
    """Regions, optionally only the children of ``parent_region_id``."""
    with ident.db.reader() as s:
        query = apply_filters(select(Region), params, {"parent_region_id": Region.parent_region_id})
        return list(s.scalars(query.order_by(Region.id)))


def update_region(ident: Identity, region_id: str, changes: dict[str, Any]) -> Region:
    """Apply a PATCH; a missing parent is 404 and a parent that makes a cycle is 400."""
    changes = _strip_id(changes, region_id, "region")
    with ident.db.writer() as s:
        region = get_region_row(s, region_id)
        if "parent_region_id" in changes:
            parent_id = changes["parent_region_id"]
            if parent_id is not None:
                get_region_row(s, parent_id)
                _check_no_cycle(s, region_id, parent_id)
            region.parent_region_id = parent_id
        if "description" in changes:
            region.description = changes["description"] or ""
        extra = _extras(changes, REGION_FIELDS)
        if extra:
            region.extra = {**(region.extra or {}), **extra}
        s.flush()
        return region


def _check_no_cycle(s: Session, region_id: str, parent_id: str) -> None:
    current: str | None = parent_id
    seen: set[str] = set()
    while current is not None and current not in seen:
        if current == region_id:
            raise ValidationError(
                f"The specified parent region {parent_id} would create a circular region hierarchy."
            )
        seen.add(current)
        row = s.get(Region, current)
        current = row.parent_region_id if row else None


def _subtree(s: Session, region_id: str) -> list[str]:
    """The region and all its descendants."""
    found = [region_id]
    frontier = {region_id}
    while frontier:
        children = set(
            s.scalars(select(Region.id).where(Region.parent_region_id.in_(frontier)))
        ) - set(found)
        found.extend(sorted(children))
        frontier = children
    return found


def delete_region(ident: Identity, region_id: str) -> None:
    """Delete a region and its child regions; 403 when any of them has endpoints."""
    with ident.db.writer() as s:
        get_region_row(s, region_id)
        tree = _subtree(s, region_id)
        if s.execute(select(Endpoint.id).where(Endpoint.region_id.in_(tree))).first():
            raise Forbidden(
                f"Unable to delete region {region_id} because it or its child regions have "
                "associated endpoints."
            )
        s.execute(delete(Region).where(Region.id.in_(tree)))


# -- services ------------------------------------------------------------------


def get_service_row(s: Session, service_id: str) -> Service:
    """A service by id; 404 when missing."""
    service = s.get(Service, service_id)
    if service is None:
        raise NotFound(f"Could not find service: {service_id}.")
    return service


def create_service(
    ident: Identity,
    *,
    type: str,
    name: str | None = None,
    enabled: bool = True,
    extra: dict[str, Any] | None = None,
) -> Service:
    """Create a service; its name (default "") and description live in ``extra``."""
    with ident.db.writer() as s:
        service = Service(
            id=new_id(),
            type=type,
            enabled=enabled,
            extra={**_extras(extra or {}, SERVICE_FIELDS), "name": name or ""},
        )
        s.add(service)
        s.flush()
        return service


def show_service(ident: Identity, service_id: str) -> Service:
    """One service."""
    with ident.db.reader() as s:
        return get_service_row(s, service_id)


def list_services(ident: Identity, params: Mapping[str, str]) -> list[Service]:
    """Services, filtered by ``type`` and ``name``."""
    with ident.db.reader() as s:
        query = apply_filters(select(Service), params, {"type": Service.type})
        rows = list(s.scalars(query.order_by(Service.type, Service.id)))
    if "name" in params:
        # The name lives in the JSON extra column, so it is matched here.
        rows = [r for r in rows if (r.extra or {}).get("name", "") == params["name"]]
    return rows


def update_service(ident: Identity, service_id: str, changes: dict[str, Any]) -> Service:
    """Apply a PATCH to a service."""
    changes = _strip_id(changes, service_id, "service")
    for field in ("type", "name", "enabled"):
        if field in changes and changes[field] is None:
            raise ValidationError(f"A service's {field} cannot be null.")
    with ident.db.writer() as s:
        service = get_service_row(s, service_id)
        if "type" in changes:
            service.type = changes["type"]
        if "enabled" in changes:
            service.enabled = bool(changes["enabled"])
        extra = _extras(changes, SERVICE_FIELDS)
        if extra:
            service.extra = {**(service.extra or {}), **extra}
        s.flush()
        return service


def delete_service(ident: Identity, service_id: str) -> None:
    """Delete a service and its endpoints."""
    with ident.db.writer() as s:
        service = get_service_row(s, service_id)
        s.execute(delete(Endpoint).where(Endpoint.service_id == service_id))
        s.delete(service)


# -- endpoints -----------------------------------------------------------------


def check_url(url: str) -> None:
    """Keystone's URL check: placeholders must be known and well formed (else 400)."""
    try:
        url.replace("$(", "%(") % dict.fromkeys(URL_PLACEHOLDERS, "")
    except (KeyError, TypeError, ValueError):
        raise ValidationError(f"Invalid endpoint URL: {url}.") from None


def get_endpoint_row(s: Session, endpoint_id: str) -> Endpoint:
    """An endpoint by id; 404 when missing."""
    endpoint = s.get(Endpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"Could not find endpoint: {endpoint_id}.")
    return endpoint


def _resolve_region(s: Session, data: dict[str, Any]) -> None:
    """Turn the legacy ``region`` into ``region_id``, creating that region when missing.

    Keystone does this for clients written against v3.0; an explicit
    ``region_id`` must name an existing region (400 otherwise).
    """
    legacy = data.pop("region", None)
    if data.get("region_id") is None and legacy is not None:
        data["region_id"] = legacy
        if s.get(Region, legacy) is None:
            _add_region(s, legacy, "", None, {})
    elif data.get("region_id") is not None and s.get(Region, data["region_id"]) is None:
        raise ValidationError(
            f"Could not find region {data['region_id']} for the endpoint's region_id."
        )


def _check_service(s: Session, service_id: str) -> None:
    if s.get(Service, service_id) is None:
        raise ValidationError(f"Could not find service {service_id} for the endpoint's service_id.")


def create_endpoint(ident: Identity, data: dict[str, Any]) -> Endpoint:
    """Create an endpoint from its (validated) request fields and extras."""
    data = dict(data)
    if data.get("interface") not in INTERFACES:
        raise ValidationError(f"Invalid interface {data.get('interface')!r}.")
    check_url(data["url"])
    with ident.db.writer() as s:
        _resolve_region(s, data)
        _check_service(s, data["service_id"])
        endpoint = Endpoint(
            id=new_id(),
            service_id=data["service_id"],
            interface=data["interface"],
            url=data["url"],
            region_id=data.get("region_id"),
            enabled=data.get("enabled", True) is not False,
            extra=_extras(data, ENDPOINT_FIELDS),
        )
        s.add(endpoint)
        s.flush()
        return endpoint


def show_endpoint(ident: Identity, endpoint_id: str) -> Endpoint:
    """One endpoint."""
    with ident.db.reader() as s:
        return get_endpoint_row(s, endpoint_id)


def list_endpoints(ident: Identity, params: Mapping[str, str]) -> list[Endpoint]:
    """Endpoints filtered by ``service_id``, ``interface`` and ``region_id``."""
    if "interface" in params and params["interface"] not in INTERFACES:
        raise ValidationError(f"Invalid interface {params['interface']!r}.")
    with ident.db.reader() as s:
        query = apply_filters(
            select(Endpoint),
            params,
            {
                "service_id": Endpoint.service_id,
                "interface": Endpoint.interface,
                "region_id": Endpoint.region_id,
            },
        )
        return list(s.scalars(query.order_by(Endpoint.service_id, Endpoint.interface, Endpoint.id)))


def update_endpoint(ident: Identity, endpoint_id: str, changes: dict[str, Any]) -> Endpoint:
    """Apply a PATCH to an endpoint."""
    changes = _strip_id(changes, endpoint_id, "endpoint")
    for field in ("interface", "service_id", "url", "enabled"):
        if field in changes and changes[field] is None:
            raise ValidationError(f"An endpoint's {field} cannot be null.")
    if "interface" in changes and changes["interface"] not in INTERFACES:
        raise ValidationError(f"Invalid interface {changes['interface']!r}.")
    if "url" in changes:
        check_url(changes["url"])
    with ident.db.writer() as s:
        endpoint = get_endpoint_row(s, endpoint_id)
        had_region = "region_id" in changes or changes.get("region") is not None
        _resolve_region(s, changes)
        if "service_id" in changes:
            _check_service(s, changes["service_id"])
            endpoint.service_id = changes["service_id"]
        for field in ("interface", "url"):
            if field in changes:
                setattr(endpoint, field, changes[field])
        if had_region:
            endpoint.region_id = changes.get("region_id")
        if "enabled" in changes:
            endpoint.enabled = bool(changes["enabled"])
        extra = _extras(changes, ENDPOINT_FIELDS)
        if extra:
            endpoint.extra = {**(endpoint.extra or {}), **extra}
        s.flush()
        return endpoint


def delete_endpoint(ident: Identity, endpoint_id: str) -> None:
    """Delete an endpoint."""
    with ident.db.writer() as s:
        s.delete(get_endpoint_row(s, endpoint_id))
