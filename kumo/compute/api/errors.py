"""Nova's error body: ``{"itemNotFound": {"code": 404, "message": "…"}}``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from kumo.common.errors import KumoError

#: Nova's body key per HTTP status (webob fault names as Nova renders them).
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def render_error(error: KumoError, request: Request) -> Response:
    """Render a domain error as Nova does; 413/429 carry Retry-After like Nova's limits."""
    name = FAULT_NAMES.get(error.status, "computeFault")
    headers = {"X-Compute-Request-Id": request.scope.get("state", {}).get("request_id", "")}
    if error.status in (413, 429, 503):
        headers["Retry-After"] = "0"
    body = {name: {"code": error.status, "message": error.message}}
    return JSONResponse(body, status_code=error.status, headers=headers)
