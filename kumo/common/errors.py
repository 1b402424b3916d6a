"""One exception tree for every service.

Services raise these domain exceptions; each service's API renders them once in
that service's own error body (Keystone's ``{"error": …}``, Nova's
``{"itemNotFound": …}``, Neutron's ``{"NeutronError": …}``, …).
"""

from __future__ import annotations


class KumoError(Exception):
    """Base of every error Kumo raises on purpose."""

    status = 500
    title = "Internal Server Error"
    #: A stable machine-readable code (Neutron's ``type``, Placement's ``code``).
    code = "Error"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.title
        if code:
            self.code = code
        super().__init__(self.message)


class BadRequest(KumoError):
    """The request is malformed or fails validation."""

    status = 400
    title = "Bad Request"
    code = "BadRequest"


class ValidationError(BadRequest):
    """A request body or parameter does not fit its schema."""

    code = "ValidationError"


class Unauthorized(KumoError):
    """The caller could not be authenticated."""

    status = 401
    title = "Unauthorized"
    code = "Unauthorized"


class Forbidden(KumoError):
    """The caller is authenticated but not allowed to do this."""

    status = 403
    title = "Forbidden"
    code = "Forbidden"


class NotFound(KumoError):
    """The resource does not exist (or is hidden from the caller)."""

    status = 404
    title = "Not Found"
    code = "NotFound"


class MethodNotAllowed(KumoError):
    """The resource exists but does not take this HTTP method."""

    status = 405
    title = "Method Not Allowed"
    code = "MethodNotAllowed"


class NotAcceptable(KumoError):
    """An unsupported microversion or media type was asked for."""

    status = 406
    title = "Not Acceptable"
    code = "NotAcceptable"


class Conflict(KumoError):
    """The request conflicts with the current state (duplicate, in use, wrong state)."""

    status = 409
    title = "Conflict"
    code = "Conflict"


class Gone(KumoError):
    """The resource existed but is gone."""

    status = 410
    title = "Gone"
    code = "Gone"


class RequestTooLarge(KumoError):
    """The request body is larger than allowed."""

    status = 413
    title = "Request Entity Too Large"
    code = "RequestEntityTooLarge"


class UnsupportedMediaType(KumoError):
    """The request body has a Content-Type the route does not take."""

    status = 415
    title = "Unsupported Media Type"
    code = "UnsupportedMediaType"


class OverQuota(KumoError):
    """A quota or rate limit would be exceeded."""

    status = 413
    title = "Over Limit"
    code = "OverQuota"


class NotImplementedYet(KumoError):
    """The API exists upstream but Kumo does not implement it."""

    status = 501
    title = "Not Implemented"
    code = "NotImplemented"


class ServiceUnavailable(KumoError):
    """A dependency (database, bus) is temporarily unreachable; retry later."""

    status = 503
    title = "Service Unavailable"
    code = "ServiceUnavailable"
