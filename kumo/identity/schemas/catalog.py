"""Request bodies of /v3/regions, /v3/services and /v3/endpoints (Keystone's catalog schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from kumo.identity.schemas import Open, Strict

Interface = Literal["public", "internal", "admin"]
#: Keystone's URL rule: a scheme, a colon, something; at most 225 characters.
URL_PATTERN = r"^[a-zA-Z0-9+.-]+:.+"
URL_MAX = 225


class RegionCreate(Open):
    # An empty id means "make one up", as in Keystone.
    id: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=255)
    parent_region_id: str | None = Field(None, min_length=1, max_length=255)


class RegionUpdate(Open):
    id: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=255)
    parent_region_id: str | None = Field(None, min_length=1, max_length=255)


class RegionCreateRequest(Strict):
    region: RegionCreate


class RegionUpdateRequest(Strict):
    region: RegionUpdate


class ServiceCreate(Open):
    type: str = Field(min_length=1, max_length=255)
    name: str | None = Field(None, min_length=1, max_length=255)
    enabled: StrictBool = True


class ServiceUpdate(Open):
    type: str | None = Field(None, min_length=1, max_length=255)
    name: str | None = Field(None, min_length=1, max_length=255)
    enabled: StrictBool | None = None


class ServiceCreateRequest(Strict):
    service: ServiceCreate


class ServiceUpdateRequest(Strict):
    service: ServiceUpdate


class EndpointCreate(Open):
    interface: Interface
    service_id: str = Field(min_length=1, max_length=64)
    url: str = Field(max_length=URL_MAX, pattern=URL_PATTERN)
    region_id: str | None = Field(None, max_length=255)
    #: The v3.0 name of region_id; a region named here is created when missing.
    region: str | None = Field(None, max_length=255)
    enabled: StrictBool = True


class EndpointUpdate(Open):
    interface: Interface | None = None
    service_id: str | None = Field(None, min_length=1, max_length=64)
    url: str | None = Field(None, max_length=URL_MAX, pattern=URL_PATTERN)
    region_id: str | None = Field(None, max_length=255)
    region: str | None = Field(None, max_length=255)
    enabled: StrictBool | None = None


class EndpointCreateRequest(Strict):
    endpoint: EndpointCreate


class EndpointUpdateRequest(Strict):
    endpoint: EndpointUpdate
