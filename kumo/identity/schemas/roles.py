"""Request bodies of /v3/roles, as Keystone's role schemas define them."""

from __future__ import annotations

from pydantic import Field, StrictBool

from kumo.identity.schemas import NAME_PATTERN, Open, Strict

#: Keystone's domain ids are letters, digits and dashes (kumo also allows '_').
DOMAIN_ID_PATTERN = r"^[a-zA-Z0-9_-]+$"


class RoleOptions(Strict):
    """Keystone's role resource options; ``null`` removes an option."""

    immutable: StrictBool | None = None


class RoleCreate(Open):
    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)
    domain_id: str | None = Field(None, min_length=1, max_length=64, pattern=DOMAIN_ID_PATTERN)
    description: str | None = Field(None, max_length=255)
    options: RoleOptions | None = None


class RoleUpdate(Open):
    name: str | None = Field(None, min_length=1, max_length=255, pattern=NAME_PATTERN)
    domain_id: str | None = Field(None, min_length=1, max_length=64, pattern=DOMAIN_ID_PATTERN)
    description: str | None = Field(None, max_length=255)
    options: RoleOptions | None = None


class RoleCreateRequest(Strict):
    role: RoleCreate


class RoleUpdateRequest(Strict):
    role: RoleUpdate
