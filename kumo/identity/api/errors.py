"""Keystone's error body: ``{"error": {"code": …, "title": …, "message": …}}``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from kumo.common.errors import KumoError


def render_error(error: KumoError, request: Request) -> Response:
    """Render a domain error the way Keystone does, with WWW-Authenticate on 401."""
    headers = {}
    if error.status == 401:
        base = str(request.base_url).rstrip("/") + request.scope.get("root_path", "")
        headers["WWW-Authenticate"] = f'Keystone uri="{base}"'
    body = {"error": {"code": error.status, "title": error.title, "message": error.message}}
    return JSONResponse(body, status_code=error.status, headers=headers)
