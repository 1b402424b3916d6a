"""Request bodies of the placement API (Placement's JSON schemas, as pydantic models).

Models are strict (no "1" for 1) and refuse unknown fields, as Placement's
``additionalProperties: false`` schemas do. Fields that only exist from some
microversion are optional here; handlers check them against the version.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from kumo.common.errors import BadRequest
from kumo.common.schemas import RequestModel

MAX_INT = 2147483647
M = TypeVar("M", bound=RequestModel)


def _uuid(value: str) -> str:
    try:
        return str(uuidlib.UUID(value))
    except ValueError:
        raise ValueError(f"'{value}' is not a 'uuid'") from None


UUID = Annotated[str, AfterValidator(_uuid)]
ClassName = Annotated[str, Field(pattern=r"^[A-Z0-9_]+$", min_length=1, max_length=255)]


class Body(RequestModel):
    """Strict and closed, like Placement's schemas."""

    model_config = ConfigDict(strict=True, extra="forbid")


def parse(model: type[M], payload: Any) -> M:
    """``payload`` as ``model``, or 400 "JSON does not validate" naming the problems."""
    try:
        return model.model_validate(payload)
    except PydanticError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            if err.get("type") == "missing":
                parts.append(f"'{where}' is a required property")
            elif err.get("type") == "extra_forbidden":
                parts.append(
                    f"Additional properties are not allowed ('{where.rsplit('.', 1)[-1]}' "
                    "was unexpected)"
                )
            else:
                parts.append(f"{where or 'body'}: {err.get('msg')}")
        raise BadRequest("JSON does not validate: " + "; ".join(parts)) from None


class ProviderCreate(Body):
    """``POST /resource_providers``."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    uuid: UUID | None = None
    parent_provider_uuid: UUID | None = None


class ProviderUpdate(Body):
    """``PUT /resource_providers/{uuid}``."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    parent_provider_uuid: UUID | None = None


class InventoryFields(Body):
    """One inventory's fields."""

    total: Annotated[int, Field(ge=1, le=MAX_INT)]
    reserved: Annotated[int, Field(ge=0, le=MAX_INT)] = 0
    min_unit: Annotated[int, Field(ge=1, le=MAX_INT)] = 1
    max_unit: Annotated[int, Field(ge=1, le=MAX_INT)] = MAX_INT
    step_size: Annotated[int, Field(ge=1, le=MAX_INT)] = 1
    allocation_ratio: Annotated[float, Field(gt=0, le=3.40282e38)] = 1.0


class InventoryPut(InventoryFields):
    """``PUT /resource_providers/{uuid}/inventories/{rc}``."""

    resource_provider_generation: int


class InventoryPost(InventoryPut):
    """``POST /resource_providers/{uuid}/inventories``."""

    resource_class: ClassName


class InventoriesPut(Body):
    """``PUT /resource_providers/{uuid}/inventories``."""

    resource_provider_generation: int
    inventories: dict[ClassName, InventoryFields]


class AggregatesPut(Body):
    """``PUT /resource_providers/{uuid}/aggregates`` from 1.19."""

    aggregates: list[UUID]
    resource_provider_generation: int


class ProviderTraitsPut(Body):
    """``PUT /resource_providers/{uuid}/traits``."""

    traits: list[Annotated[str, Field(min_length=1, max_length=255)]]
    resource_provider_generation: int


class ResourceClassBody(Body):
    """``POST /resource_classes`` and (before 1.7) ``PUT /resource_classes/{name}``."""

    name: Annotated[str, Field(min_length=1, max_length=255)]


class ProviderRef(Body):
    """``{"uuid": …}`` in list-style allocations."""

    uuid: UUID


class ListAllocation(Body):
    """One provider's part of a list-style (before 1.12) allocation."""

    resource_provider: ProviderRef
    resources: dict[ClassName, Annotated[int, Field(ge=1, le=MAX_INT)]]


class ListAllocations(Body):
    """``PUT /allocations/{consumer}`` before 1.12."""

    allocations: Annotated[list[ListAllocation], Field(min_length=1)]
    project_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    user_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class DictAllocation(Body):
    """One provider's part of a dict-style allocation."""

    resources: Annotated[
        dict[ClassName, Annotated[int, Field(ge=1, le=MAX_INT)]], Field(min_length=1)
    ]
    generation: int | None = None


class DictAllocations(Body):
    """``PUT /allocations/{consumer}`` from 1.12 (and each consumer of ``POST /allocations``)."""

    allocations: dict[UUID, DictAllocation]
    project_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    user_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    consumer_generation: int | None = None
    consumer_type: Annotated[str, Field(pattern=r"^[A-Z0-9_]+$", max_length=255)] | None = None


class ReshapeInventories(Body):
    """One provider's inventories in a reshape."""

    resource_provider_generation: int
    inventories: dict[ClassName, InventoryFields]


class Reshape(Body):
    """``POST /reshaper``: the complete new inventories and the moved allocations."""

    inventories: dict[str, ReshapeInventories]
    allocations: dict[str, dict[str, Any]]
