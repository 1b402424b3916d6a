"""Request bodies of the Identity API, as Keystone's JSON schemas define them.

These are plain data shapes (no HTTP types), shared by the API layer, which
validates requests with them, and the service layer, which reads them.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from kumo.common.schemas import RequestModel


class Strict(RequestModel):
    """A schema that rejects unknown properties (Keystone: additionalProperties false)."""

    model_config = ConfigDict(extra="forbid")


class Open(RequestModel):
    """A schema that keeps unknown properties as extra attributes (Keystone's "extra")."""

    model_config = ConfigDict(extra="allow")

    def extras(self) -> dict[str, Any]:
        """The attributes not declared by the schema."""
        return dict(self.model_extra or {})


class NotNullUpdate(Open):
    """An update whose ``NOT_NULL`` attributes may be left out but never set to null.

    Keystone types them as string or boolean, not nullable: null is a 400, and must
    never reach the database's NOT NULL constraint.
    """

    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _refuse_null(self) -> Self:
        for name in self.NOT_NULL:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"'{name}' cannot be null")
        return self


# -- authentication -------------------------------------------------------


class DomainRef(Open):
    id: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=255)


class UserRef(Open):
    id: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=255)
    domain: DomainRef | None = None
    password: str | None = Field(None, max_length=4096)


class PasswordMethod(Open):
    user: UserRef


class TokenMethod(Open):
    id: str = Field(min_length=1, max_length=8192)


class ApplicationCredentialMethod(Open):
    id: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=255)
    secret: str = Field(min_length=1, max_length=4096)
    user: UserRef | None = None


class AuthIdentity(Open):
    methods: list[str] = Field(min_length=1)
    password: PasswordMethod | None = None
    token: TokenMethod | None = None
    application_credential: ApplicationCredentialMethod | None = None


class ProjectRef(Open):
    id: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=255)
    domain: DomainRef | None = None


class SystemRef(Open):
    all: bool = False


class AuthScope(Open):
    project: ProjectRef | None = None
    domain: DomainRef | None = None
    system: SystemRef | None = None
    trust: dict[str, Any] | None = Field(None, alias="OS-TRUST:trust")


class Auth(Open):
    identity: AuthIdentity
    scope: AuthScope | Literal["unscoped"] | None = None


class AuthRequest(Open):
    auth: Auth


# -- resources ----------------------------------------------------------------
# Names must contain a non-space character, as Keystone's schemas require.
NAME_PATTERN = r"\S"


class DomainCreate(Open):
    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    description: str | None = Field(None, max_length=65535)
    enabled: StrictBool = True
    explicit_domain_id: str | None = Field(None, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class DomainUpdate(NotNullUpdate):
    NOT_NULL = ("name", "enabled")

    name: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    description: str | None = Field(None, max_length=65535)
    enabled: StrictBool | None = None
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class DomainCreateRequest(Strict):
    domain: DomainCreate


class DomainUpdateRequest(Strict):
    domain: DomainUpdate


class ProjectCreate(Open):
    name: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    domain_id: str | None = Field(None, max_length=64)
    parent_id: str | None = Field(None, max_length=64)
    is_domain: StrictBool = False
    description: str | None = Field(None, max_length=65535)
    enabled: StrictBool = True
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class ProjectUpdate(NotNullUpdate):
    NOT_NULL = ("name", "enabled")

    name: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    description: str | None = Field(None, max_length=65535)
    enabled: StrictBool | None = None
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class ProjectCreateRequest(Strict):
    project: ProjectCreate


class ProjectUpdateRequest(Strict):
    project: ProjectUpdate


class TagsRequest(Strict):
    tags: list[str]


class UserCreate(Open):
    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)
    domain_id: str | None = Field(None, max_length=64)
    default_project_id: str | None = Field(None, max_length=64)
    enabled: StrictBool = True
    password: str | None = Field(None, max_length=4096)
    options: dict[str, Any] | None = None


class UserUpdate(NotNullUpdate):
    NOT_NULL = ("name", "enabled")

    name: str | None = Field(None, min_length=1, max_length=255, pattern=NAME_PATTERN)
    default_project_id: str | None = Field(None, max_length=64)
    enabled: StrictBool | None = None
    password: str | None = Field(None, max_length=4096)
    options: dict[str, Any] | None = None


class UserCreateRequest(Strict):
    user: UserCreate


class UserUpdateRequest(Strict):
    user: UserUpdate


class PasswordChange(Strict):
    password: str = Field(min_length=1, max_length=4096)
    original_password: str = Field(min_length=1, max_length=4096)


class PasswordChangeRequest(Strict):
    user: PasswordChange


def changes_of(model: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body actually set, declared and extra."""
    data = {name: getattr(model, name) for name in model.model_fields_set}
    data.update(model.model_extra or {})
    return data
