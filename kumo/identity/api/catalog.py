"""/v3/regions, /v3/services and /v3/endpoints: the catalog's administration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.errors import ValidationError
from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, links
from kumo.identity.db.models import Endpoint, Region, Service
from kumo.identity.schemas import changes_of
from kumo.identity.schemas.catalog import (
    EndpointCreateRequest,
    EndpointUpdateRequest,
    RegionCreateRequest,
    RegionUpdateRequest,
    ServiceCreateRequest,
    ServiceUpdateRequest,
)
from kumo.identity.service import catalog_admin

router = APIRouter()


def region_view(request: Request, r: Region) -> dict[str, Any]:
    """A region."""
    return {
        **(r.extra or {}),
        "id": r.id,
        "description": r.description or "",
        "parent_region_id": r.parent_region_id,
        "links": links(request, "regions", r.id),
    }


def service_view(request: Request, s: Service) -> dict[str, Any]:
    """A service; name and description are kept with its extra attributes."""
    extra = s.extra or {}
    return {
        **extra,
        "id": s.id,
        "type": s.type,
        "name": extra.get("name", ""),
        "description": extra.get("description", ""),
        "enabled": s.enabled,
        "links": links(request, "services", s.id),
    }


def endpoint_view(request: Request, e: Endpoint) -> dict[str, Any]:
    """An endpoint, with the legacy ``region`` repeating ``region_id``."""
    return {
        **(e.extra or {}),
        "id": e.id,
        "interface": e.interface,
        "region": e.region_id,
        "region_id": e.region_id,
        "service_id": e.service_id,
        "url": e.url,
        "enabled": e.enabled,
        "links": links(request, "endpoints", e.id),
    }


# -- regions -------------------------------------------------------------------


@route(router, "POST", "/v3/regions", policy="identity:create_region", status_code=201)
def create_region(
    body: RegionCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a region; without an id one is generated."""
    authz.enforce({})
    r = body.region
    region = catalog_admin.create_region(
        authz.ident,
        region_id=r.id,
        description=r.description,
        parent_region_id=r.parent_region_id,
        extra=r.extras(),
    )
    return {"region": region_view(request, region)}


@route(router, "PUT", "/v3/regions/{region_id}", policy="identity:create_region", status_code=201)
def create_region_with_id(
    region_id: str, body: RegionCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a region with the id given in the URL."""
    authz.enforce({})
    r = body.region
    if r.id and r.id != region_id:
        raise ValidationError(f'Conflicting region IDs specified: "{region_id}" != "{r.id}"')
    region = catalog_admin.create_region(
        authz.ident,
        region_id=region_id,
        description=r.description,
        parent_region_id=r.parent_region_id,
        extra=r.extras(),
    )
    return {"region": region_view(request, region)}


@route(router, "GET", "/v3/regions", policy="identity:list_regions")
def list_regions(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List regions, optionally the children of ``parent_region_id``."""
    authz.enforce({})
    rows = catalog_admin.list_regions(authz.ident, request.query_params)
    return {"regions": [region_view(request, r) for r in rows], "links": collection_links(request)}


@route(router, "GET", "/v3/regions/{region_id}", policy="identity:get_region")
def get_region(region_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a region."""
    authz.enforce({})
    return {"region": region_view(request, catalog_admin.show_region(authz.ident, region_id))}


@route(router, "PATCH", "/v3/regions/{region_id}", policy="identity:update_region")
def update_region(
    region_id: str, body: RegionUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a region's description, parent or extra attributes."""
    authz.enforce({})
    region = catalog_admin.update_region(authz.ident, region_id, changes_of(body.region))
    return {"region": region_view(request, region)}


@route(
    router, "DELETE", "/v3/regions/{region_id}", policy="identity:delete_region", status_code=204
)
def delete_region(region_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a region and its children (403 while any has endpoints)."""
    authz.enforce({})
    catalog_admin.delete_region(authz.ident, region_id)
    return Response(status_code=204)


# -- services ------------------------------------------------------------------


@route(router, "POST", "/v3/services", policy="identity:create_service", status_code=201)
def create_service(
    body: ServiceCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a service."""
    authz.enforce({})
    s = body.service
    service = catalog_admin.create_service(
        authz.ident, type=s.type, name=s.name, enabled=s.enabled, extra=s.extras()
    )
    return {"service": service_view(request, service)}


@route(router, "GET", "/v3/services", policy="identity:list_services")
def list_services(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List services, filtered by ``type`` and ``name``."""
    authz.enforce({})
    rows = catalog_admin.list_services(authz.ident, request.query_params)
    return {
        "services": [service_view(request, s) for s in rows],
        "links": collection_links(request),
    }


@route(router, "GET", "/v3/services/{service_id}", policy="identity:get_service")
def get_service(service_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a service."""
    authz.enforce({})
    return {"service": service_view(request, catalog_admin.show_service(authz.ident, service_id))}


@route(router, "PATCH", "/v3/services/{service_id}", policy="identity:update_service")
def update_service(
    service_id: str, body: ServiceUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a service; a disabled service leaves token catalogs."""
    authz.enforce({})
    service = catalog_admin.update_service(authz.ident, service_id, changes_of(body.service))
    return {"service": service_view(request, service)}


@route(
    router, "DELETE", "/v3/services/{service_id}", policy="identity:delete_service", status_code=204
)
def delete_service(service_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a service and its endpoints."""
    authz.enforce({})
    catalog_admin.delete_service(authz.ident, service_id)
    return Response(status_code=204)


# -- endpoints -----------------------------------------------------------------


@route(router, "POST", "/v3/endpoints", policy="identity:create_endpoint", status_code=201)
def create_endpoint(
    body: EndpointCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create an endpoint; a legacy ``region`` that does not exist yet is created."""
    authz.enforce({})
    endpoint = catalog_admin.create_endpoint(authz.ident, body.endpoint.model_dump())
    return {"endpoint": endpoint_view(request, endpoint)}


@route(router, "GET", "/v3/endpoints", policy="identity:list_endpoints")
def list_endpoints(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List endpoints, filtered by ``service_id``, ``interface`` and ``region_id``."""
    authz.enforce({})
    rows = catalog_admin.list_endpoints(authz.ident, request.query_params)
    return {
        "endpoints": [endpoint_view(request, e) for e in rows],
        "links": collection_links(request),
    }


@route(router, "GET", "/v3/endpoints/{endpoint_id}", policy="identity:get_endpoint")
def get_endpoint(endpoint_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show an endpoint."""
    authz.enforce({})
    return {
        "endpoint": endpoint_view(request, catalog_admin.show_endpoint(authz.ident, endpoint_id))
    }


@route(router, "PATCH", "/v3/endpoints/{endpoint_id}", policy="identity:update_endpoint")
def update_endpoint(
    endpoint_id: str, body: EndpointUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update an endpoint."""
    authz.enforce({})
    endpoint = catalog_admin.update_endpoint(authz.ident, endpoint_id, changes_of(body.endpoint))
    return {"endpoint": endpoint_view(request, endpoint)}


@route(
    router,
    "DELETE",
    "/v3/endpoints/{endpoint_id}",
    policy="identity:delete_endpoint",
    status_code=204,
)
def delete_endpoint(endpoint_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete an endpoint."""
    authz.enforce({})
    catalog_admin.delete_endpoint(authz.ident, endpoint_id)
    return Response(status_code=204)
