"""The ASGI application: one server, every service under devstack's path prefixes.

Pure-ASGI middleware (cheap on the hot path) gives every response a request id
(``X-Openstack-Request-Id``) that also lands in the log records, and enforces
the request-body size limit. Each service is its own FastAPI app, mounted at
its prefix, with its own exception handlers so every error comes back in the
owning service's format.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kumo.common import errors
from kumo.common.context import request_id_var

log = logging.getLogger("kumo.web")

#: Renders a domain error as (status, body, extra headers) in a service's format.
ErrorRenderer = Callable[[errors.KumoError, Request], Response]

REQUEST_ID_HEADER = b"x-openstack-request-id"


class RequestIdMiddleware:
    """Tags every request with an id, echoes it, logs one access line per request."""

    def __init__(self, app: ASGIApp, extra_headers: Iterable[bytes] = ()) -> None:
        self.app = app
        self.extra_headers = tuple(extra_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4()}"
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder: list[int] = [0]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status_holder[0],
                (time.perf_counter() - started) * 1000,
            )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed.

    ``unlimited`` names the paths exempt from the limit (e.g. image data
    uploads, which their handlers stream to disk and bound themselves).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        render: ErrorRenderer,
        unlimited: Callable[[str], bool] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.render = render
        self.unlimited = unlimited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.unlimited and self.unlimited(scope["path"])):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit or declared < 0:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = errors.RequestTooLarge(
            f"Request body is larger than the limit of {self.limit} bytes."
        )
        response = self.render(error, Request(scope, receive))
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


@dataclass
class ServiceApp:
    """A service's FastAPI app, its mountable ASGI wrapper and its prefix."""

    prefix: str
    app: FastAPI
    asgi: ASGIApp
    render: ErrorRenderer


def make_service_app(
    name: str,
    render: ErrorRenderer,
    max_body: int,
    unlimited_body: Callable[[str], bool] | None = None,
    **fastapi_kwargs: Any,
) -> tuple[FastAPI, ASGIApp]:
    """A FastAPI app whose every error, from any source, is rendered by ``render``.

    Returns the app (to add routes to) and the ASGI callable to mount (the app
    wrapped in the body-size limit).
    """
    app = FastAPI(
        title=name, openapi_url="/openapi.json", docs_url=None, redoc_url=None, **fastapi_kwargs
    )

    async def on_kumo_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.KumoError)
        if exc.status >= 500 and not isinstance(exc, errors.ServiceUnavailable):
            log.error("%s: %s", type(exc).__name__, exc.message)
        response = render(exc, request)
        if exc.status == 503:
            # Every service's 503 tells clients when to come back (keystoneauth retries).
            response.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        return response

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return render(errors.ValidationError(describe_validation_error(exc)), request)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        cls = _HTTP_ERRORS.get(exc.status_code, errors.KumoError)
        error = cls(_HTTP_MESSAGES.get(exc.status_code, str(exc.detail)))
        error.status = exc.status_code
        response = render(error, request)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if database_unreachable(exc):
            # Raised outside Database.reader()/writer() (e.g. a bare engine read): the
            # database is down or the link was cut, which the client may retry.
            log.warning("database unreachable serving %s: %s", request.url.path, exc)
            return await on_kumo_error(
                request, errors.ServiceUnavailable("The database is unavailable; retry shortly.")
            )
        log.exception("unexpected error serving %s %s", request.method, request.url.path)
        return render(
            errors.KumoError(
                "An unexpected error prevented the server from fulfilling your request."
            ),
            request,
        )

    app.add_exception_handler(errors.KumoError, on_kumo_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    # The database's own errors get handlers of their own: Starlette runs the catch-all
    # ``Exception`` handler in its ServerErrorMiddleware, which re-raises after answering,
    # and uvicorn then closes the keep-alive connection (during a PostgreSQL restart each
    # 503 cost the client its connection: its next request failed with a reset).
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    app.add_exception_handler(DBAPIError, on_unexpected)
    app.add_exception_handler(PoolTimeout, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)
    return app, BodyLimitMiddleware(app, max_body, render, unlimited_body)


#: Seconds a client is asked to wait before retrying after a 503.
RETRY_AFTER_SECONDS = 2


def database_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` means the database could not be reached or the link dropped."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


_HTTP_ERRORS: dict[int, type[errors.KumoError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    406: errors.NotAcceptable,
    409: errors.Conflict,
    413: errors.RequestTooLarge,
    415: errors.UnsupportedMediaType,
}
_HTTP_MESSAGES = {
    404: "The resource could not be found.",
    405: "The method is not allowed for the requested URL.",
}


def describe_validation_error(exc: RequestValidationError) -> str:
    """One readable sentence per schema violation, naming the field."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = ".".join(loc) or "request body"
        msg = err.get("msg", "is invalid")
        if err.get("type") == "json_invalid":
            parts.append("The request body is not valid JSON.")
        elif err.get("type") == "missing":
            parts.append(f"'{where}' is a required property.")
        elif err.get("type") == "extra_forbidden":
            parts.append(f"Additional properties are not allowed ('{loc[-1]}' was unexpected).")
        else:
            parts.append(f"Invalid input for field '{where}': {msg}.")
    return "Invalid input: " + " ".join(parts) if parts else "Invalid input."


def root_app(
    services: list[ServiceApp],
    extra: Iterable[Mount] = (),
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]] | None = None,
) -> ASGIApp:
    """Mount every service at its prefix behind the request-id middleware.

    ``lifespan`` (an async context manager factory taking the Starlette app)
    runs background work for as long as the server runs, e.g. the compute
    control plane in the all-in-one process.
    """
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse as StarletteJSON
    from starlette.routing import Route

    async def index(request: Request) -> StarletteJSON:
        return StarletteJSON({"services": [s.prefix for s in services], "name": "kumo"})

    async def healthz(request: Request) -> StarletteJSON:
        return StarletteJSON({"status": "ok"})

    routes: list[Any] = [Route("/", index), Route("/healthz", healthz)]
    routes += [ServiceMount(s.prefix, app=s.asgi) for s in services]
    routes += list(extra)

    async def outside_any_service(request: Request, exc: Exception) -> StarletteJSON:
        # No service owns this path, so answer in the plainest OpenStack shape.
        status = getattr(exc, "status_code", 404)
        title = "Not Found" if status == 404 else "Method Not Allowed"
        return StarletteJSON(
            {
                "error": {
                    "code": status,
                    "title": title,
                    "message": "No service is served at this path with this method.",
                }
            },
            status_code=status,
        )

    app = Starlette(
        routes=routes,
        exception_handlers={404: outside_any_service, 405: outside_any_service},
        lifespan=lifespan,
    )
    return RequestIdMiddleware(PrefixRootMiddleware(app, [s.prefix for s in services]))


class ServiceMount(Mount):
    """A Mount whose catch-all also matches a newline (``%0A``) in the path.

    Starlette's mount pattern is ``^/prefix/(?P<path>.*)$`` and ``.`` stops at a
    newline, so ``/networking/v2.0/ports/a%0Ab`` fell through to the root's 404
    in Keystone's format instead of reaching Neutron (found by `make fuzz`).
    """

    def __init__(self, path: str, app: ASGIApp) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


class PrefixRootMiddleware:
    """Serve ``/identity`` as ``/identity/`` without a redirect (clients GET the bare URL)."""

    def __init__(self, app: ASGIApp, prefixes: list[str]) -> None:
        self.app = app
        self.prefixes = set(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.prefixes:
            scope = dict(scope, path=scope["path"] + "/", raw_path=None)
        await self.app(scope, receive, send)


def iter_api_routes(routes: Iterable[Any]) -> Iterable[Any]:
    """Every FastAPI route below ``routes``, looking inside included routers."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from iter_api_routes(route.original_router.routes)
