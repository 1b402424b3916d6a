"""Version discovery at /identity and /identity/v3."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kumo.identity.api.deps import route, service_base

router = APIRouter()

VERSION_ID = "v3.14"
UPDATED = "2020-04-07T00:00:00Z"


def _version(request: Request) -> dict[str, Any]:
    return {
        "id": VERSION_ID,
        "status": "stable",
        "updated": UPDATED,
        "links": [{"rel": "self", "href": service_base(request) + "/v3/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
    }


@route(router, "GET", "/", policy="@public")
async def list_versions(request: Request) -> JSONResponse:
    """Every identity API version (Keystone answers 300 Multiple Choices)."""
    return JSONResponse({"versions": {"values": [_version(request)]}}, status_code=300)


@route(router, "GET", "/v3", policy="@public")
@route(router, "GET", "/v3/", policy="@public")
async def show_v3(request: Request) -> dict[str, Any]:
    """The v3 API's version document."""
    return {"version": _version(request)}
