"""Request bodies of the servers API (Nova's ``schemas/servers.py``, as pydantic models).

Fields added by later microversions are declared here and refused by the API
below their microversion (Nova's "Additional properties are not allowed").
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from kumo.common.schemas import RequestModel

#: Tags: 1–60 characters without "/" or "," (Nova's ``tag`` format).
TAG_PATTERN = r"^[^,/]{1,60}$"


def _name(value: str) -> str:
    # Nova's "name" format: printable, no leading or trailing whitespace.
    if not value or value != value.strip():
        raise ValueError("Invalid input: a name must not be empty or start/end with spaces")
    if not value.isprintable():
        raise ValueError("Invalid input: a name must be printable")
    return value


def _count(value: Any) -> int:
    # Nova takes integers and their string form ("2") for min_count/max_count.
    if isinstance(value, bool | float) or (isinstance(value, str) and not value.isdigit()):
        # 2.5 (or 2.0) is not an integer in Nova's schema; int() would truncate it.
        raise ValueError(f"{value!r} is not of type 'integer'")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not of type 'integer'") from None
    if number < 1:
        raise ValueError(f"{number} is less than the minimum of 1")
    return number


class NetworkRequest(RequestModel):
    """One entry of ``networks``: a network, a port, or a fixed IP on a network."""

    model_config = ConfigDict(extra="forbid")

    uuid: str | None = None
    port: str | None = None
    fixed_ip: str | None = None
    tag: str | None = Field(default=None, pattern=TAG_PATTERN)

    @field_validator("fixed_ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_address(value)
        return value


class BlockDeviceMappingV2(RequestModel):
    """One ``block_device_mapping_v2`` entry."""

    model_config = ConfigDict(extra="forbid")

    source_type: Literal["volume", "image", "snapshot", "blank"] | None = None
    destination_type: Literal["local", "volume"] | None = None
    uuid: str | None = Field(default=None, max_length=255)
    volume_id: str | None = Field(default=None, max_length=255)
    snapshot_id: str | None = Field(default=None, max_length=255)
    image_id: str | None = Field(default=None, max_length=255)
    volume_size: int | None = Field(default=None, ge=0)
    volume_type: str | None = Field(default=None, max_length=255)
    boot_index: int | str | None = None
    device_name: str | None = Field(default=None, max_length=255)
    device_type: str | None = Field(default=None, max_length=255)
    disk_bus: str | None = Field(default=None, max_length=255)
    guest_format: str | None = Field(default=None, max_length=255)
    delete_on_termination: bool = False
    no_device: Any = None
    tag: str | None = Field(default=None, pattern=TAG_PATTERN)
    connection_info: str | None = None


class SecurityGroupRef(RequestModel):
    """A security group named at create."""

    name: str = Field(min_length=1, max_length=255)


class ServerCreateBody(RequestModel):
    """The ``server`` object of ``POST /servers``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(max_length=255)
    imageRef: str | None = Field(default=None, max_length=255)
    flavorRef: str | int
    adminPass: str | None = Field(default=None, max_length=255)
    metadata: dict[str, str] | None = None
    networks: list[NetworkRequest] | Literal["auto", "none"] | None = None
    disk_config: Literal["AUTO", "MANUAL"] | None = Field(default=None, alias="OS-DCF:diskConfig")
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    personality: list[dict[str, str]] | None = None
    availability_zone: str | None = Field(default=None, max_length=255)
    block_device_mapping: list[dict[str, Any]] | None = None
    block_device_mapping_v2: list[BlockDeviceMappingV2] | None = None
    config_drive: bool | str | None = None
    key_name: str | None = Field(default=None, max_length=255)
    min_count: Any = None
    max_count: Any = None
    return_reservation_id: bool | str | None = None
    security_groups: list[SecurityGroupRef] | None = None
    user_data: str | None = Field(default=None, max_length=65535)
    description: str | None = Field(default=None, max_length=255)
    tags: list[str] | None = Field(default=None, max_length=50)
    trusted_image_certificates: list[str] | None = Field(default=None, min_length=1, max_length=50)
    host: str | None = Field(default=None, min_length=1, max_length=255)
    hypervisor_hostname: str | None = Field(default=None, min_length=1, max_length=255)
    hostname: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("min_count", "max_count")
    @classmethod
    def _check_count(cls, value: Any) -> int | None:
        return None if value is None else _count(value)

    @field_validator("accessIPv4")
    @classmethod
    def _v4(cls, value: str | None) -> str | None:
        if value:
            ipaddress.IPv4Address(value)
        return value

    @field_validator("accessIPv6")
    @classmethod
    def _v6(cls, value: str | None) -> str | None:
        # Nova stores the canonical form (RFC 5952): "0:0::babe:220.12.22.2" → "::babe:dc0c:1602".
        if value:
            return str(ipaddress.IPv6Address(value))
        return value

    @field_validator("metadata")
    @classmethod
    def _meta(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else check_metadata(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [check_tag(t) for t in value]


class ServerCreateRequest(RequestModel):
    """``POST /servers``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    server: ServerCreateBody
    scheduler_hints: dict[str, Any] | None = Field(default=None, alias="os:scheduler_hints")
    legacy_scheduler_hints: dict[str, Any] | None = Field(
        default=None, alias="OS-SCH-HNT:scheduler_hints"
    )


class ServerUpdateBody(RequestModel):
    """The ``server`` object of ``PUT /servers/{id}``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=255)
    disk_config: Literal["AUTO", "MANUAL"] | None = Field(default=None, alias="OS-DCF:diskConfig")
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    hostname: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return None if value is None else _name(value)

    @field_validator("accessIPv4")
    @classmethod
    def _v4(cls, value: str | None) -> str | None:
        if value:
            ipaddress.IPv4Address(value)
        return value

    @field_validator("accessIPv6")
    @classmethod
    def _v6(cls, value: str | None) -> str | None:
        # Nova stores the canonical form (RFC 5952): "0:0::babe:220.12.22.2" → "::babe:dc0c:1602".
        if value:
            return str(ipaddress.IPv6Address(value))
        return value


class ServerUpdateRequest(RequestModel):
    """``PUT /servers/{id}``."""

    model_config = ConfigDict(extra="forbid")

    server: ServerUpdateBody


def check_metadata(value: dict[str, Any]) -> dict[str, str]:
    """Nova's metadata rules: ≤128 items is the quota; keys 1–255, values ≤255 strings."""
    for key, item in value.items():
        if not key or len(key) > 255:
            raise ValueError("Metadata property key greater than 255 characters or empty")
        if not isinstance(item, str):
            raise ValueError(f"Metadata property value for {key!r} is not a string")
        if len(item) > 255:
            raise ValueError("Metadata property value greater than 255 characters")
    return value


def check_tag(tag: str) -> str:
    """A server tag: 1–60 characters, no "/" or ","."""
    if not tag or len(tag) > 60 or "/" in tag or "," in tag:
        raise ValueError(f"Tag {tag!r} is invalid: 1 to 60 characters without '/' or ','")
    return tag


class MetadataRequest(RequestModel):
    """``{"metadata": {...}}`` of the metadata routes."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any]

    @field_validator("metadata")
    @classmethod
    def _meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_metadata(value)


class MetaItemRequest(RequestModel):
    """``{"meta": {key: value}}`` of ``PUT /servers/{id}/metadata/{key}``."""

    model_config = ConfigDict(extra="forbid")

    meta: dict[str, Any] = Field(min_length=1, max_length=1)

    @field_validator("meta")
    @classmethod
    def _meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_metadata(value)


class TagsRequest(RequestModel):
    """``{"tags": [...]}`` of ``PUT /servers/{id}/tags``."""

    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(max_length=50)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return [check_tag(t) for t in value]


class ActionRequest(RequestModel):
    """``POST /servers/{id}/action``: one key naming the action, its arguments as value."""

    model_config = ConfigDict(extra="allow")
