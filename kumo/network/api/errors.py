"""Neutron's error body: ``{"NeutronError": {"type": …, "message": …, "detail": ""}}``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from kumo.common.errors import KumoError

#: Neutron's ``type`` for the generic errors (specific ones set ``code``).
GENERIC_TYPES = {
    "BadRequest": "HTTPBadRequest",
    "ValidationError": "HTTPBadRequest",
    "Unauthorized": "HTTPUnauthorized",
    "Forbidden": "HTTPForbidden",
    "NotFound": "HTTPNotFound",
    "MethodNotAllowed": "HTTPMethodNotAllowed",
    "RequestEntityTooLarge": "HTTPRequestEntityTooLarge",
    "UnsupportedMediaType": "HTTPUnsupportedMediaType",
    "Error": "HTTPInternalServerError",
}


#: Prefix of codes that name a Neutron exception whose name is also a generic code
#: (Neutron's own ``BadRequest`` exception, not the HTTP-level ``HTTPBadRequest``).
NEUTRON_PREFIX = "neutron:"


def render_error(error: KumoError, request: Request) -> Response:
    """Render a domain error as Neutron does; ``type`` is the exception's name."""
    if error.code.startswith(NEUTRON_PREFIX):
        kind = error.code[len(NEUTRON_PREFIX) :]
    else:
        kind = GENERIC_TYPES.get(error.code, error.code)
    body = {"NeutronError": {"type": kind, "message": error.message, "detail": ""}}
    return JSONResponse(body, status_code=error.status)
