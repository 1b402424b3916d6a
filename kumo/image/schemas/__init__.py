"""Request bodies of the image API."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, ValidationError

from kumo.common.errors import BadRequest
from kumo.common.schemas import RequestModel


class AnyObject(RequestModel):
    """A JSON object with any members (image create, import): checked for storable text."""

    model_config = ConfigDict(extra="allow")

    def members(self) -> dict[str, Any]:
        """The object's members."""
        return dict(self.model_extra or {})


class _Wrapped(RequestModel):
    value: Any


def storable(value: Any) -> Any:
    """``value`` unchanged, or 400 if it holds text no database can store."""
    try:
        _Wrapped.model_validate({"value": value})
    except ValidationError as exc:
        raise BadRequest("The request contains a NUL character or an unpaired surrogate.") from exc
    return value


class MemberCreateRequest(RequestModel):
    """``POST /v2/images/{id}/members``."""

    member: str


class MemberUpdateRequest(RequestModel):
    """``PUT /v2/images/{id}/members/{member_id}``."""

    status: str
