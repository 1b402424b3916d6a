"""Version discovery at ``GET /placement/``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kumo.common.api import route
from kumo.placement.api.util import prefix

router = APIRouter()

MIN_VERSION = "1.0"
MAX_VERSION = "1.39"


@route(router, "GET", "/", policy="@public")
def list_versions(request: Request) -> JSONResponse:
    """The one placement API version and its microversion range."""
    return JSONResponse(
        {
            "versions": [
                {
                    "id": "v1.0",
                    "max_version": MAX_VERSION,
                    "min_version": MIN_VERSION,
                    "status": "CURRENT",
                    "links": [{"rel": "self", "href": prefix(request) + "/"}],
                }
            ]
        }
    )
