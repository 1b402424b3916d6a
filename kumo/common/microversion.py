"""API microversions (Nova, Placement, Cinder style), negotiated once per request.

A service declares a :class:`VersionRange`; :class:`MicroversionMiddleware`
reads ``OpenStack-API-Version: <service> X.Y`` (and the legacy header, e.g.
``X-OpenStack-Nova-API-Version``), refuses a version outside the range with
406 in the service's error format, stores the result in the request scope and
echoes it on the response with ``Vary``. Handlers read it with
:func:`request_version` and compare with ``>=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kumo.common import errors
from kumo.common.web import ErrorRenderer

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")
SCOPE_KEY = "microversion"


@dataclass(frozen=True, order=True)
class Version:
    """A microversion such as 2.61 (ordered by major, then minor)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """``"2.61"`` → Version(2, 61); raises ValueError when malformed."""
        m = _VERSION.match(text.strip())
        if not m:
            raise ValueError(text)
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class VersionRange:
    """The microversions a service supports, and how clients name them."""

    service: str  # the token in OpenStack-API-Version, e.g. "compute"
    min: Version
    max: Version
    legacy_header: str | None = None  # e.g. "X-OpenStack-Nova-API-Version"

    def negotiate(self, headers: dict[str, str]) -> Version:
        """The version the client asked for (the minimum when it asked for none)."""
        requested: str | None = None
        for part in headers.get("openstack-api-version", "").split(","):
            words = part.split()
            if len(words) == 2 and words[0].lower() == self.service:
                requested = words[1]
        if requested is None and self.legacy_header:
            requested = headers.get(self.legacy_header.lower())
        if requested is None:
            return self.min
        if requested.strip().lower() == "latest":
            return self.max
        try:
            version = Version.parse(requested)
        except ValueError:
            raise errors.BadRequest(
                f"Invalid format for the {self.service} API version: {requested!r}; "
                "use MAJOR.MINOR or 'latest'."
            ) from None
        if not self.min <= version <= self.max:
            raise errors.NotAcceptable(
                f"Version {version} is not supported by the API. "
                f"Minimum is {self.min} and maximum is {self.max}."
            )
        return version

    def response_headers(self, version: Version) -> list[tuple[bytes, bytes]]:
        """The headers that echo ``version`` to the client."""
        headers = [(b"openstack-api-version", f"{self.service} {version}".encode())]
        vary = "OpenStack-API-Version"
        if self.legacy_header:
            headers.append((self.legacy_header.lower().encode(), str(version).encode()))
            vary += f", {self.legacy_header}"
        headers.append((b"vary", vary.encode()))
        return headers


class MicroversionMiddleware:
    """Negotiate the microversion of every request under ``paths`` (all when empty)."""

    def __init__(
        self,
        app: ASGIApp,
        versions: VersionRange,
        render: ErrorRenderer,
        paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.versions = versions
        self.render = render
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._applies(scope):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            version = self.versions.negotiate(headers)
        except errors.KumoError as exc:
            response = self.render(exc, Request(scope, receive))
            for name, value in self.versions.response_headers(self.versions.min):
                response.headers[name.decode()] = value.decode()
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[SCOPE_KEY] = version
        echo = self.versions.response_headers(version)

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *echo]
            await send(message)

        await self.app(scope, receive, send_with_version)

    def _applies(self, scope: Scope) -> bool:
        if not self.paths:
            return True
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        return any(path == p or path.startswith(p + "/") for p in self.paths)


def request_version(request: Request, default: Version | None = None) -> Version:
    """The microversion negotiated for this request."""
    version = request.scope.get("state", {}).get(SCOPE_KEY)
    if version is None:
        if default is None:
            raise LookupError("no microversion was negotiated for this request")
        return default
    assert isinstance(version, Version)
    return version
