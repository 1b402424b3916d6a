"""The service user's session: token, catalog lookup, and JSON requests with errors mapped."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from kumo.common import errors
from kumo.common.config import Settings
from kumo.common.context import request_id_var

#: Renew the service token this many seconds before it expires.
RENEW_MARGIN = 300.0

_STATUS_ERRORS: dict[int, type[errors.KumoError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    406: errors.NotAcceptable,
    409: errors.Conflict,
    413: errors.OverQuota,
    415: errors.UnsupportedMediaType,
    503: errors.ServiceUnavailable,
}


def _message(body: Any) -> str:
    """The human message inside any OpenStack error body (Nova, Neutron, Keystone, …)."""
    if isinstance(body, dict):
        if body.get("errors"):  # placement
            first = body["errors"][0]
            return str(first.get("detail") or first.get("title"))
        if "message" in body:  # glance
            return str(body["message"])
        for value in body.values():  # {"itemNotFound": {...}}, {"NeutronError": {...}}, …
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
    return str(body)[:500]


def _code(body: Any) -> str | None:
    """The stable error code, when the body carries one (Placement, Neutron)."""
    if isinstance(body, dict):
        if body.get("errors"):
            code = body["errors"][0].get("code")
            return str(code) if code else None
        neutron = body.get("NeutronError")
        if isinstance(neutron, dict) and neutron.get("type"):
            return str(neutron["type"])
    return None


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Raise the domain error matching an error response (its message kept)."""
    if response.status_code < 400:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    cls = _STATUS_ERRORS.get(response.status_code, errors.ServiceUnavailable)
    message = f"{what}: {_message(body)}"
    error = cls(message, code=_code(body))
    if cls is errors.ServiceUnavailable:
        error.status = 503
    raise error


@dataclass
class _Token:
    value: str = ""
    expires: float = 0.0
    catalog: list[dict[str, Any]] = field(default_factory=list)


class ServiceSession:
    """The service user's authenticated HTTP session to the other services.

    ``transport`` lets tests (and the all-in-one process) route calls to an
    ASGI app instead of the network.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        identity_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.settings = settings
        self.identity_url = (identity_url or f"{settings.public_url}/identity").rstrip("/")
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._token = _Token()
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the underlying connections."""
        await self._client.aclose()

    async def token(self) -> str:
        """A valid service token (issued, or renewed when close to expiry)."""
        async with self._lock:
            if time.time() > self._token.expires - RENEW_MARGIN:
                self._token = await self._issue()
            return self._token.value

    async def _issue(self) -> _Token:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "kumo",
                            "domain": {"id": "default"},
                            "password": self.settings.service_password_value(),
                        }
                    },
                },
                "scope": {"project": {"name": "service", "domain": {"id": "default"}}},
            }
        }
        response = await self._client.post(f"{self.identity_url}/v3/auth/tokens", json=body)
        raise_for_status(response, "service login")
        token = response.json()["token"]
        expires = datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))
        return _Token(
            value=response.headers["x-subject-token"],
            expires=expires.timestamp(),
            catalog=token.get("catalog", []),
        )

    async def endpoint(self, service_type: str, interface: str = "public") -> str:
        """The URL of ``service_type`` in this region, from the service token's catalog."""
        await self.token()
        for service in self._token.catalog:
            if service.get("type") != service_type:
                continue
            for ep in service.get("endpoints", []):
                if ep.get("interface") == interface and ep.get("region_id") in (
                    None,
                    self.settings.region,
                ):
                    return str(ep["url"]).rstrip("/")
        raise errors.ServiceUnavailable(f"No {service_type} endpoint in the service catalog.")

    async def request(
        self,
        method: str,
        service_type: str,
        path: str,
        *,
        user_token: str | None = None,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        what: str | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Call ``service_type`` at ``path`` as the service (or as the user when given).

        Error statuses raise the matching domain error, except ``ok_statuses``.
        """
        base = await self.endpoint(service_type)
        sent = {"X-Auth-Token": user_token or await self.token()}
        request_id = request_id_var.get()
        if request_id:
            sent["X-Openstack-Request-Id"] = request_id
        sent.update(headers or {})
        try:
            response = await self._client.request(
                method, base + path, json=json, params=params, headers=sent
            )
        except httpx.HTTPError as exc:
            raise errors.ServiceUnavailable(
                f"{service_type} service unreachable: {type(exc).__name__}"
            ) from exc
        if response.status_code not in ok_statuses:
            raise_for_status(response, what or f"{service_type} {method} {path}")
        return response
