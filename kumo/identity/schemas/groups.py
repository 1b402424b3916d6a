"""Request bodies of /v3/groups, as Keystone's group schemas define them."""

from __future__ import annotations

from pydantic import Field, model_validator

from kumo.identity.schemas import NAME_PATTERN, Open, Strict


class GroupCreate(Open):
    """A new group; unknown attributes are kept as the group's extras."""

    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)
    domain_id: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=65535)


class GroupUpdate(Open):
    """Changes to a group; at least one attribute (Keystone: minProperties 1)."""

    name: str | None = Field(None, min_length=1, max_length=255, pattern=NAME_PATTERN)
    description: str | None = Field(None, max_length=65535)

    @model_validator(mode="after")
    def _not_empty(self) -> GroupUpdate:
        if not self.model_fields_set and not self.model_extra:
            raise ValueError("the group must have at least one property")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("the name of a group cannot be null")
        return self


class GroupCreateRequest(Strict):
    """``POST /v3/groups``."""

    group: GroupCreate


class GroupUpdateRequest(Strict):
    """``PATCH /v3/groups/{group_id}``."""

    group: GroupUpdate
