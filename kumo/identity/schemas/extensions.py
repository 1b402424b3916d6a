"""Request bodies of /v3/policies and OS-EP-FILTER endpoint groups."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kumo.identity.schemas import Open, Strict


class PolicyCreate(Open):
    type: str = Field(min_length=1, max_length=255)
    blob: str = Field(max_length=65535)


class PolicyUpdate(Open):
    type: str | None = Field(None, min_length=1, max_length=255)
    blob: str | None = Field(None, max_length=65535)


class PolicyCreateRequest(Strict):
    policy: PolicyCreate


class PolicyUpdateRequest(Strict):
    policy: PolicyUpdate


class EndpointGroupCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=65535)
    filters: dict[str, Any]


class EndpointGroupUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=65535)
    filters: dict[str, Any] | None = None


class EndpointGroupCreateRequest(Strict):
    endpoint_group: EndpointGroupCreate


class EndpointGroupUpdateRequest(Strict):
    endpoint_group: EndpointGroupUpdate
