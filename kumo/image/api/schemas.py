"""/v2/schemas/*: the JSON Schemas glanceclient and tempest read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kumo.common.api import Authz, AuthzDep, route
from kumo.image.service.images import (
    CONTAINER_FORMATS,
    DISK_FORMATS,
    MEMBER_STATUSES,
    STATUSES,
    VISIBILITIES,
)

router = APIRouter()

_NULLABLE_STRING = {"type": ["null", "string"]}


def _ro(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {**schema, "readOnly": True, "description": description}


#: Glance's image properties that are user properties, not base attributes.
_USER_PROPERTIES = {
    "kernel_id": "ID of image stored in Glance that should be used as the kernel when "
    "booting an AMI-style image.",
    "ramdisk_id": "ID of image stored in Glance that should be used as the ramdisk when "
    "booting an AMI-style image.",
    "instance_uuid": "Metadata which can be used to record which instance this image is "
    "associated with. (Informational only, does not create an instance snapshot.)",
    "architecture": "Operating system architecture as specified in "
    "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
    "os_distro": "Common name of operating system distribution as specified in "
    "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
    "os_version": "Operating system version as specified by the distributor.",
    "description": "A human-readable string describing this image.",
    "cinder_encryption_key_id": "Identifier in the OpenStack Key Management Service for "
    "the encryption key for the Block Storage Service to use when mounting a volume created "
    "from this image",
    "cinder_encryption_key_deletion_policy": "States the condition under which the Image "
    "Service will delete the object associated with the 'cinder_encryption_key_id' image "
    "property.",
}


def image_schema() -> dict[str, Any]:
    """``/v2/schemas/image``."""
    properties: dict[str, Any] = {
        "id": {
            "type": "string",
            "description": "An identifier for the image",
            "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
            "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
        },
        "name": {
            **_NULLABLE_STRING,
            "description": "Descriptive name for the image",
            "maxLength": 255,
        },
        "status": _ro({"type": "string", "enum": list(STATUSES)}, "Status of the image"),
        "visibility": {
            "type": "string",
            "description": "Scope of image accessibility",
            "enum": list(VISIBILITIES),
        },
        "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
        "os_hidden": {
            "type": "boolean",
            "description": "If true, image will not appear in default image list response.",
        },
        "checksum": _ro({**_NULLABLE_STRING, "maxLength": 32}, "md5 hash of image contents."),
        "os_hash_algo": _ro(
            {**_NULLABLE_STRING, "maxLength": 64}, "Algorithm to calculate the os_hash_value"
        ),
        "os_hash_value": _ro(
            {**_NULLABLE_STRING, "maxLength": 128},
            "Hexdigest of the image contents using the algorithm specified by the os_hash_algo",
        ),
        "owner": {**_NULLABLE_STRING, "description": "Owner of the image", "maxLength": 255},
        "size": _ro({"type": ["null", "integer"]}, "Size of image file in bytes"),
        "virtual_size": _ro({"type": ["null", "integer"]}, "Virtual size of image in bytes"),
        "container_format": {
            **_NULLABLE_STRING,
            "description": "Format of the container",
            "enum": [None, *CONTAINER_FORMATS],
        },
        "disk_format": {
            **_NULLABLE_STRING,
            "description": "Format of the disk",
            "enum": [None, *DISK_FORMATS],
        },
        "created_at": _ro({"type": "string"}, "Date and time of image registration"),
        "updated_at": _ro({"type": "string"}, "Date and time of the last image modification"),
        "tags": {
            "type": "array",
            "description": "List of strings related to the image",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": _ro(
            {"type": "string"}, "URL to access the image file kept in external store"
        ),
        "min_ram": {
            "type": "integer",
            "description": "Amount of ram (in MB) required to boot image.",
        },
        "min_disk": {
            "type": "integer",
            "description": "Amount of disk space (in GB) required to boot image.",
        },
        "self": _ro({"type": "string"}, "An image self url"),
        "file": _ro({"type": "string"}, "An image file url"),
        "stores": _ro({"type": "string"}, "Store in which image data resides."),
        "schema": _ro({"type": "string"}, "An image schema url"),
        "locations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "url": {"type": "string", "maxLength": 255},
                    "metadata": {"type": "object"},
                },
                "required": ["url", "metadata"],
            },
            "description": "A set of URLs to access the image file kept in external store",
        },
    }
    for key, description in _USER_PROPERTIES.items():
        properties[key] = {"type": "string", "description": description, "is_base": False}
    return {
        "name": "image",
        "properties": properties,
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def member_schema() -> dict[str, Any]:
    """``/v2/schemas/member``."""
    return {
        "name": "member",
        "properties": {
            "created_at": {
                "type": "string",
                "description": "Date and time of image member creation",
            },
            "image_id": {
                "type": "string",
                "description": "An identifier for the image",
                "pattern": image_schema()["properties"]["id"]["pattern"],
            },
            "member_id": {
                "type": "string",
                "description": "An identifier for the image member (tenantId)",
            },
            "status": {
                "type": "string",
                "description": "The status of this image member",
                "enum": list(MEMBER_STATUSES),
            },
            "updated_at": {
                "type": "string",
                "description": "Date and time of last modification of image member",
            },
            "schema": {"readOnly": True, "type": "string"},
        },
    }


@route(router, "GET", "/v2/schemas/image", policy="get_image_info")
def show_image_schema(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The schema of one image."""
    return image_schema()


@route(router, "GET", "/v2/schemas/images", policy="get_image_info")
def show_images_schema(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The schema of an image list."""
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema()},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


@route(router, "GET", "/v2/schemas/member", policy="get_image_info")
def show_member_schema(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The schema of one image member."""
    return member_schema()


@route(router, "GET", "/v2/schemas/members", policy="get_image_info")
def show_members_schema(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The schema of a member list."""
    return {
        "name": "members",
        "properties": {
            "members": {"type": "array", "items": member_schema()},
            "schema": {"type": "string"},
        },
        "links": [{"rel": "describedby", "href": "{schema}"}],
    }
