"""Glance's error body, as webob renders it for JSON clients.

``{"code": "404 Not Found", "title": "Not Found", "message": "…"}`` with
``Content-Type: application/json`` (never an empty body: clients show it).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from kumo.common.errors import KumoError


def render_error(error: KumoError, request: Request) -> Response:
    """Render a domain error the way Glance's webob faults look in JSON."""
    body = {
        "code": f"{error.status} {error.title}",
        "title": error.title,
        "message": error.message,
    }
    return JSONResponse(body, status_code=error.status)
