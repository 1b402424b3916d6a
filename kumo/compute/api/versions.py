"""Version discovery at /compute, /compute/v2.1/ and the legacy /compute/v2/ alias.

Nova serves the same API at ``/v2`` (the legacy v2.0 endpoint, no microversions)
and at ``/v2.1``; both accept an optional ``{project_id}`` segment after the
version (devstack's ``compute_legacy`` endpoint is ``/compute/v2/$(project_id)s``).
:class:`LegacyAlias` rewrites those paths onto the ``/v2.1`` routes before the
microversion middleware runs, so every router is written once.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.microversion import Version, request_version

router = APIRouter()

MIN_VERSION = "2.1"
MAX_VERSION = "2.100"
#: Where the request came in: "/v2" (legacy) or "/v2.1"; set by LegacyAlias.
API_PATH_KEY = "compute_api_path"
_PROJECT_SEGMENT = re.compile(r"^([0-9a-fA-F]{32}|[0-9a-fA-F-]{36})$")
_VERSION_HEADERS = {b"openstack-api-version", b"x-openstack-nova-api-version"}


def _version_doc(version_id: str, base: str) -> dict[str, Any]:
    legacy = version_id == "v2.0"
    return {
        "id": version_id,
        "status": "SUPPORTED" if legacy else "CURRENT",
        "version": "" if legacy else MAX_VERSION,
        "min_version": "" if legacy else MIN_VERSION,
        "updated": "2011-01-21T11:33:21Z" if legacy else "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{base}/{'v2' if legacy else 'v2.1'}/"},
        ],
    }


def _detail(version_id: str, base: str) -> dict[str, Any]:
    doc = _version_doc(version_id, base)
    doc["links"].append(
        {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}
    )
    doc["media-types"] = [
        {
            "base": "application/json",
            "type": "application/vnd.openstack.compute+json;version="
            + ("2" if version_id == "v2.0" else "2.1"),
        }
    ]
    return doc


def api_path(request: Request) -> str:
    """``/v2`` for a request that came in on the legacy endpoint, else ``/v2.1``."""
    return str(request.scope.get(API_PATH_KEY, "/v2.1"))


def compute_version(request: Request) -> Version:
    """The request's microversion (2.1 on the legacy endpoint)."""
    return request_version(request, Version(2, 1))


@route(router, "GET", "/", policy="@public")
async def list_versions(request: Request) -> dict[str, Any]:
    """Every compute API version (Nova answers 200 at the root)."""
    base = service_base(request)
    return {"versions": [_version_doc("v2.0", base), _version_doc("v2.1", base)]}


@route(router, "GET", "/v2.1", policy="@public")
@route(router, "GET", "/v2.1/", policy="@public")
async def show_version(request: Request) -> dict[str, Any]:
    """The version document of v2.1 (or of v2.0 on the legacy endpoint)."""
    legacy = api_path(request) == "/v2"
    return {"version": _detail("v2.0" if legacy else "v2.1", service_base(request))}


#: Nova still answers with its static v2 extension list (kumo.compute.api.extension_info).
@route(router, "GET", "/v2.1/extensions", policy="os_compute_api:extensions")
def list_extensions(authz: Authz = AuthzDep) -> dict[str, Any]:
    """Nova's static extension list (every former extension is part of the API)."""
    from kumo.compute.api.extension_info import all_extensions

    authz.enforce()
    return {"extensions": all_extensions()}


@route(router, "GET", "/v2.1/extensions/{alias}", policy="os_compute_api:extensions")
def show_extension(alias: str, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One extension by alias; 404 as Nova does for an unknown alias."""
    from kumo.common.errors import NotFound
    from kumo.compute.api.extension_info import find_extension

    authz.enforce()
    found = find_extension(alias)
    if found is None:
        raise NotFound("Not Found")
    return {"extension": found}


class LegacyAlias:
    """Serve ``/v2/…`` (and ``/v2[.1]/{project_id}/…``) with the ``/v2.1`` routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = self._rewrite(scope)
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> Scope:
        root = scope.get("root_path", "")
        path: str = scope["path"]
        rel = path[len(root) :] if root and path.startswith(root) else path
        parts = rel.split("/")  # ["", "v2", "…"]
        if len(parts) < 2 or parts[1] not in ("v2", "v2.1"):
            return scope
        legacy = parts[1] == "v2"
        rest = parts[2:]
        if rest and _PROJECT_SEGMENT.match(rest[0]):
            rest = rest[1:]
        if not legacy and rel == "/" + "/".join(["v2.1", *rest]):
            return scope
        new_rel = "/" + "/".join(["v2.1", *rest])
        scope = dict(scope)
        scope["path"] = (root if path.startswith(root) else "") + new_rel
        scope["raw_path"] = scope["path"].encode()
        if legacy:
            # The legacy endpoint has no microversions: ignore any version header.
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k not in _VERSION_HEADERS]
            scope[API_PATH_KEY] = "/v2"
        return scope
