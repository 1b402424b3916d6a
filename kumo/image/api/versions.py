"""Version discovery at /image and /image/versions (Glance answers 300 at the root)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kumo.common.api import route, service_base

router = APIRouter()

#: Every v2 minor version Glance lists with a single store and no image cache.
CURRENT = "2.17"
SUPPORTED = ("2.16", "2.15", "2.9", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0")


def versions(request: Request) -> list[dict[str, Any]]:
    """The version list, each linking to the v2 API."""
    href = service_base(request) + "/v2/"

    def entry(version: str, status: str) -> dict[str, Any]:
        return {"id": f"v{version}", "status": status, "links": [{"rel": "self", "href": href}]}

    return [entry(CURRENT, "CURRENT"), *(entry(v, "SUPPORTED") for v in SUPPORTED)]


@route(router, "GET", "/", policy="@public")
async def list_versions(request: Request) -> JSONResponse:
    """Every image API version, 300 Multiple Choices as Glance answers at its root."""
    return JSONResponse({"versions": versions(request)}, status_code=300)


@route(router, "GET", "/versions", policy="@public")
async def list_versions_explicit(request: Request) -> JSONResponse:
    """``/versions`` lists the same, with 200 (Glance's explicit version request)."""
    return JSONResponse({"versions": versions(request)}, status_code=200)
