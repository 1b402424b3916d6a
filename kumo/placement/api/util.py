"""Helpers every placement route uses: microversion checks, responses, query parameters."""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, NotFound
from kumo.common.microversion import Version, request_version


def db_of(request: Request) -> Database:
    """The service's database."""
    db: Database = request.app.state.db
    return db


def at_least(request: Request, minor: int) -> bool:
    """True when the request's microversion is at least 1.``minor``."""
    return request_version(request) >= Version(1, minor)


def require(request: Request, minor: int) -> None:
    """404 (as Placement answers) for a route that does not exist before 1.``minor``."""
    if not at_least(request, minor):
        raise NotFound("The resource could not be found.")


def respond(
    request: Request,
    body: dict[str, Any],
    *,
    status: int = 200,
    last_modified: dt.datetime | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON response; from 1.15 GETs carry ``last-modified`` and ``cache-control``."""
    response = JSONResponse(body, status_code=status, headers=headers)
    if at_least(request, 15) and request.method == "GET":
        stamp = last_modified or utcnow()
        response.headers["last-modified"] = email.utils.format_datetime(
            stamp.astimezone(dt.UTC), usegmt=True
        )
        response.headers["cache-control"] = "no-cache"
    return response


def no_content() -> Response:
    """204 with no body."""
    return Response(status_code=204)


def prefix(request: Request) -> str:
    """The path this service is mounted at (e.g. ``/placement``), for relative links."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def one(request: Request, name: str) -> str | None:
    """A query parameter given at most once; 400 ``placement.query.duplicate_key`` otherwise."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(
            f"Query parameter {name!r} is allowed only once.",
            code="placement.query.duplicate_key",
        )
    return values[0] if values else None


def check_params(request: Request, allowed: set[str]) -> None:
    """400 for an unknown query parameter (Placement's schemas refuse them)."""
    for key in request.query_params:
        if key not in allowed:
            raise BadRequest(
                f"Invalid query string parameters: Additional properties are not allowed "
                f"('{key}' was unexpected)"
            )


def newest(*stamps: dt.datetime | None) -> dt.datetime | None:
    """The latest of ``stamps`` (None when there are none)."""
    found = [s for s in stamps if s is not None]
    return max(found) if found else None
