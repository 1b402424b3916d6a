"""Request bodies of /v3/credentials and application credentials, after Keystone's schemas."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, StrictBool, StrictStr, model_validator

from kumo.identity.schemas import NAME_PATTERN, Open, Strict

#: Large enough for certificates; the encrypted form must still fit a MySQL TEXT.
MAX_BLOB = 32768


class CredentialCreate(Open):
    # Keystone ignores a client-chosen id: it makes one (sha256 of the access key for ec2).
    id: StrictStr | None = Field(None, max_length=64)
    user_id: StrictStr = Field(min_length=1, max_length=64)
    type: StrictStr = Field(min_length=1, max_length=255)
    blob: StrictStr = Field(max_length=MAX_BLOB)
    project_id: StrictStr | None = Field(None, max_length=64)


class CredentialUpdate(Open):
    user_id: StrictStr | None = Field(None, min_length=1, max_length=64)
    type: StrictStr | None = Field(None, min_length=1, max_length=255)
    blob: StrictStr | None = Field(None, max_length=MAX_BLOB)
    project_id: StrictStr | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _not_empty_nor_null(self) -> Self:
        # Keystone: minProperties 1, and only project_id may be null.
        if not self.model_fields_set and not self.model_extra:
            raise ValueError("at least one attribute must be given")
        for name in ("user_id", "type", "blob"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class CredentialCreateRequest(Strict):
    credential: CredentialCreate


class CredentialUpdateRequest(Strict):
    credential: CredentialUpdate


class RoleRef(Strict):
    """A role by id or by name (exactly one of them)."""

    id: StrictStr | None = Field(None, min_length=1, max_length=64)
    name: StrictStr | None = Field(None, min_length=1, max_length=255)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.id is None) == (self.name is None):
            raise ValueError("a role is given by exactly one of id or name")
        return self


class AccessRule(Strict):
    """An API call the application credential may make (stored, not enforced yet)."""

    id: StrictStr | None = Field(None, min_length=1, max_length=64)
    service: StrictStr | None = Field(None, min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9-]+$")
    path: StrictStr | None = Field(None, max_length=225, pattern=r"^/")
    method: Literal["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"] | None = None


class ApplicationCredentialCreate(Strict):
    # id, project_id and system are accepted as Keystone does, then ignored:
    # the id is generated and the project is the caller token's.
    id: StrictStr | None = Field(None, max_length=64)
    name: StrictStr = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)
    secret: StrictStr | None = Field(None, max_length=4096)
    description: StrictStr | None = Field(None, max_length=65535)
    expires_at: StrictStr | None = Field(None, max_length=64)
    project_id: StrictStr | None = Field(None, max_length=64)
    system: StrictStr | None = Field(None, max_length=64)
    unrestricted: StrictBool | None = None
    roles: list[RoleRef] | None = None
    access_rules: list[AccessRule] | None = None


class ApplicationCredentialCreateRequest(Strict):
    application_credential: ApplicationCredentialCreate
