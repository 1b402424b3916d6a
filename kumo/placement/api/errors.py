"""Placement's error body: ``{"errors": [{status, title, detail, code, request_id}]}``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from kumo.common.errors import KumoError


def render_error(error: KumoError, request: Request) -> Response:
    """Render a domain error as Placement does; ``code`` is a stable ``placement.*`` code."""
    code = error.code if error.code.startswith("placement.") else "placement.undefined_code"
    body = {
        "errors": [
            {
                "status": error.status,
                "title": error.title,
                "detail": error.message,
                "code": code,
                "request_id": request.scope.get("state", {}).get("request_id"),
            }
        ]
    }
    return JSONResponse(body, status_code=error.status)
