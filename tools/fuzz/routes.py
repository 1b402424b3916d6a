"""Every service's route table, read from the app `kumo serve` builds.

The harness never lists routes by hand: it builds the whole API with
``kumo.app.build_app`` and walks it (middleware → mounts → FastAPI apps →
routers), so a service's routes are fuzzed, probed and described the moment the
service registers them. Each service's error format is checked here too, so the
fuzzer, the probes and the security tests agree on what a proper refusal is.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

from kumo.common.api import POLICY_KEY
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.microversion import MicroversionMiddleware, VersionRange
from kumo.common.web import BodyLimitMiddleware, iter_api_routes

#: Methods whose requests carry a body in OpenStack APIs.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Operation:
    """One method on one route of one service."""

    service: str
    prefix: str
    method: str
    path: str  # relative to the service prefix, with {placeholders}
    route: APIRoute = field(compare=False, repr=False)

    @property
    def policy(self) -> str | None:
        """The policy rule guarding the route (``@public`` for open ones)."""
        return (self.route.openapi_extra or {}).get(POLICY_KEY)

    @property
    def public(self) -> bool:
        """Whether the route answers without a token."""
        return self.policy == "@public"

    @property
    def params(self) -> list[str]:
        """The path parameters, in order."""
        return [p.name for p in self.route.dependant.path_params]

    @property
    def has_body_model(self) -> bool:
        """Whether FastAPI parses and validates a request body for this route."""
        return self.route.body_field is not None

    @property
    def takes_body(self) -> bool:
        """Whether a client sends a body (declared model, or a body method)."""
        return self.has_body_model or self.method in BODY_METHODS

    @property
    def query_params(self) -> list[str]:
        """Declared query parameters."""
        return [p.name for p in self.route.dependant.query_params]

    @property
    def is_collection(self) -> bool:
        """A GET on a path that does not end in a placeholder: a list call."""
        return self.method == "GET" and not self.path.rstrip("/").endswith("}")

    @property
    def label(self) -> str:
        """``GET /identity/v3/users/{user_id}``."""
        return f"{self.method} {self.prefix}{self.path}"

    def url(self, value: str = "00000000000000000000000000000000") -> str:
        """The full path with every placeholder set to ``value`` (already URL-safe)."""
        path = self.path
        for name in self.params:
            path = path.replace("{" + name + "}", value)
        return self.prefix + path


@dataclass
class Service:
    """One mounted service: its prefix, FastAPI app and the limits in front of it."""

    name: str
    prefix: str
    app: FastAPI
    max_body: int | None = None
    #: The body-limit middleware's exemption (paths whose body is streamed, e.g. image data).
    unlimited: Callable[[str], bool] | None = None
    versions: VersionRange | None = None
    microversion_paths: tuple[str, ...] = ()

    def operations(self) -> list[Operation]:
        """Every (method, route) pair, in registration order; HEAD is kept."""
        ops = []
        for route in iter_api_routes(self.app.routes):
            for method in sorted(route.methods):
                ops.append(Operation(self.name, self.prefix, method, route.path, route))
        return ops

    def body_limited(self, op: Operation) -> bool:
        """Whether a body over ``max_body`` is refused (413) on this operation."""
        if self.max_body is None:
            return False
        if self.unlimited is None:
            return True
        url = op.url()
        return not (self.unlimited(url) or self.unlimited(url[len(self.prefix) :]))

    def microversion_header(self) -> dict[str, str]:
        """The newest microversion, so routes added in later versions are reachable."""
        if self.versions is None:
            return {}
        return {"OpenStack-API-Version": f"{self.versions.service} {self.versions.max}"}

    def microversioned(self, op: Operation) -> bool:
        """Whether the microversion middleware negotiates this operation's requests."""
        if self.versions is None:
            return False
        if not self.microversion_paths:
            return True
        return any(op.path.startswith(p) for p in self.microversion_paths)


def _unwrap(asgi: Any, prefix: str, name: str) -> Service | None:
    """Follow the middleware chain of one mount down to its FastAPI app."""
    found = Service(name=name, prefix=prefix, app=FastAPI())
    seen = 0
    while asgi is not None and seen < 20:
        seen += 1
        if isinstance(asgi, MicroversionMiddleware):
            found.versions = asgi.versions
            found.microversion_paths = tuple(getattr(asgi, "paths", ()) or ())
        if isinstance(asgi, BodyLimitMiddleware):
            found.max_body = asgi.limit
            found.unlimited = getattr(asgi, "unlimited", None)
        if isinstance(asgi, FastAPI):
            found.app = asgi
            return found
        asgi = getattr(asgi, "app", None)
    return None


def services_of(asgi: Any) -> list[Service]:
    """Every service mounted in the root ASGI app ``build_app`` returns."""
    node = asgi
    for _ in range(20):
        if hasattr(node, "routes") and not isinstance(node, FastAPI):
            break
        node = getattr(node, "app", None)
        if node is None:
            return []
    found = []
    for mount in getattr(node, "routes", []):
        if isinstance(mount, Mount):
            name = mount.path.strip("/")
            service = _unwrap(mount.app, mount.path, name)
            if service is not None:
                found.append(service)
    return found


def build_services(state_dir: Path | None = None) -> list[Service]:
    """Build the whole API on a throwaway SQLite file (never connected to) and walk it."""
    from kumo.app import build_app

    where = state_dir or Path(tempfile.mkdtemp(prefix="kumo-routes-"))
    settings = Settings(state_dir=where)
    db = Database(f"sqlite:///{where / 'routes.db'}")
    try:
        return services_of(build_app(settings, db))
    finally:
        db.dispose()


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def find_operation(
    services: list[Service], prefix: str, method: str, path: str
) -> Operation | None:
    """The operation ``method path`` of the service at ``prefix``, if it is served.

    Placeholders match whatever their name (``{}`` matches ``{server_id}``).
    """
    shape = _shape(path)
    for service in services:
        if service.prefix == prefix:
            for op in service.operations():
                if op.method == method and _shape(op.path) == shape:
                    return op
    return None


def all_operations(services: list[Service]) -> Iterator[Operation]:
    """Every operation of every service."""
    for service in services:
        yield from service.operations()


# --- error formats -------------------------------------------------------------------


def _keystone(status: int, body: Any) -> str | None:
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or err.get("code") != status or "message" not in err:
        return 'expected Keystone\'s {"error": {"code", "title", "message"}}'
    return None


def _nova(status: int, body: Any) -> str | None:
    if not isinstance(body, dict) or len(body) != 1:
        return 'expected Nova\'s {"<faultName>": {"code", "message"}}'
    fault = next(iter(body.values()))
    if not isinstance(fault, dict) or fault.get("code") != status or "message" not in fault:
        return 'expected Nova\'s {"<faultName>": {"code", "message"}}'
    return None


def _neutron(status: int, body: Any) -> str | None:
    err = body.get("NeutronError") if isinstance(body, dict) else None
    if not isinstance(err, dict) or not {"type", "message", "detail"} <= set(err):
        return 'expected Neutron\'s {"NeutronError": {"type", "message", "detail"}}'
    return None


def _placement(status: int, body: Any) -> str | None:
    errs = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errs, list) or not errs:
        return 'expected Placement\'s {"errors": [{"status", "title", "detail", …}]}'
    first = errs[0]
    if not isinstance(first, dict) or first.get("status") != status or "detail" not in first:
        return 'expected Placement\'s {"errors": [{"status", "title", "detail", …}]}'
    return None


def _glance(status: int, body: Any) -> str | None:
    if not isinstance(body, dict) or not str(body.get("code", "")).startswith(str(status)):
        return 'expected Glance\'s {"code": "<status> <title>", "title", "message"}'
    if "message" not in body:
        return 'expected Glance\'s {"code": "<status> <title>", "title", "message"}'
    return None


#: Each prefix's error-body check: None when the body is right, else what was expected.
ERROR_FORMATS = {
    "/identity": _keystone,
    "/compute": _nova,
    "/networking": _neutron,
    "/placement": _placement,
    "/image": _glance,
}


def error_format_problem(prefix: str, status: int, body: bytes) -> str | None:
    """Why an error response's body is not in the service's format (None when it is)."""
    import json

    try:
        parsed = json.loads(body)
    except ValueError:
        return f"error body is not JSON: {body[:120]!r}"
    check = ERROR_FORMATS.get(prefix)
    if check is None:
        return None
    problem = check(status, parsed)
    return f"{problem}; got {body[:160]!r}" if problem else None
