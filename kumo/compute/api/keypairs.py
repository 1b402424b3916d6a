"""/os-keypairs: per-user key pairs (import or generate)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import ValidationError
from kumo.common.microversion import Version
from kumo.compute.api.versions import api_path, compute_version
from kumo.compute.db.keypairs import KeyPair
from kumo.compute.schemas import params
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service import keypairs

router = APIRouter()

BASE = "/v2.1/os-keypairs"
NAME = re.compile(r"^[_\- a-zA-Z0-9]+$")
NAME_V292 = re.compile(r"^[_\-@. a-zA-Z0-9]+$")
V2_2 = Version(2, 2)


def _owner(request: Request, authz: Authz, given: str | None = None) -> str:
    """Whose key pairs: the caller, or ``user_id`` (query or body) for admins ≥2.10."""
    user_id = given or request.query_params.get("user_id")
    if user_id and compute_version(request) >= Version(2, 10):
        return user_id
    return authz.ctx.user_id or ""


def _check_query(request: Request, allowed: set[str]) -> None:
    if compute_version(request) >= Version(2, 75):
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                f"Invalid input for query parameters {unknown[0]}. "
                "Additional properties are not allowed"
            )


def _time(value: Any) -> str:
    return str(value.replace(tzinfo=None).isoformat())


def _summary(kp: KeyPair, version: Version) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": kp.name,
        "public_key": kp.public_key,
        "fingerprint": kp.fingerprint,
    }
    if version >= V2_2:
        view["type"] = kp.type
    return view


@route(router, "POST", BASE, policy="os_compute_api:os-keypairs:create")
def create_keypair(body: JsonBody, request: Request, authz: Authz = AuthzDep) -> JSONResponse:
    """Import a public key, or (before 2.92) generate a key pair and return its private key."""
    version = compute_version(request)
    data = body.data()
    kp = params.obj(data, "keypair")
    params.only(data, ["keypair"], "body")
    allowed = ["name", "public_key"]
    if version >= V2_2:
        allowed.append("type")
    if version >= Version(2, 10):
        allowed.append("user_id")
    params.only(kp, allowed, "keypair")
    required = ["name", "public_key"] if version >= Version(2, 92) else ["name"]
    params.require(kp, required, "keypair")
    name = params.name("name", kp["name"])
    pattern = NAME_V292 if version >= Version(2, 92) else NAME
    if not pattern.match(name):
        raise params.invalid("name", name, f"{name!r} does not match '{pattern.pattern}'")
    key_type = kp.get("type", "ssh")
    if key_type not in ("ssh", "x509"):
        raise params.invalid("type", key_type, f"{key_type!r} is not one of ['ssh', 'x509']")
    public_key = kp.get("public_key")
    if public_key is not None:
        public_key = params.string("public_key", public_key, 0, 65535)
    given_user = kp.get("user_id")
    if given_user is not None:
        given_user = params.string("user_id", given_user, 1, 255)
    user_id = given_user or authz.ctx.user_id or ""
    authz.enforce({"user_id": user_id})
    with request.app.state.db.writer() as s:
        created = keypairs.create_keypair(
            s,
            user_id=user_id,
            project_id=authz.ctx.project_id or "",
            name=name,
            key_type=key_type,
            public_key=public_key,
        )
    view = _summary(created.keypair, version)
    view["user_id"] = user_id
    if created.private_key is not None:
        view["private_key"] = created.private_key
    return JSONResponse({"keypair": view}, status_code=201 if version >= V2_2 else 200)


@route(router, "GET", BASE, policy="os_compute_api:os-keypairs:index")
def list_keypairs(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's (or, for admins ≥2.10, ``user_id``'s) key pairs; paginated ≥2.35."""
    version = compute_version(request)
    _check_query(request, {"user_id", "limit", "marker"})
    user_id = _owner(request, authz)
    authz.enforce({"user_id": user_id})
    limit = marker = None
    if version >= Version(2, 35):
        limit = params.query_int(request.query_params, "limit")
        marker = request.query_params.get("marker")
    with request.app.state.db.reader() as s:
        rows = keypairs.list_keypairs(s, user_id, marker=marker, limit=limit)
    body: dict[str, Any] = {"keypairs": [{"keypair": _summary(k, version)} for k in rows]}
    if limit and rows and len(rows) == limit:
        args = {k: v for k, v in request.query_params.items() if k != "marker"}
        args["marker"] = rows[-1].name
        href = f"{service_base(request)}{api_path(request)}/os-keypairs?{urlencode(args)}"
        body["keypairs_links"] = [{"rel": "next", "href": href}]
    return body


@route(router, "GET", BASE + "/{name}", policy="os_compute_api:os-keypairs:show")
def show_keypair(name: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One key pair with Nova's bookkeeping fields."""
    version = compute_version(request)
    _check_query(request, {"user_id"})
    user_id = _owner(request, authz)
    authz.enforce({"user_id": user_id})
    with request.app.state.db.reader() as s:
        kp = keypairs.get_keypair(s, user_id, name)
    view = _summary(kp, version)
    view.update(
        {
            "user_id": kp.user_id,
            "created_at": _time(kp.created_at),
            "updated_at": None,
            "deleted_at": None,
            "deleted": False,
            "id": kp.id,
        }
    )
    return {"keypair": view}


@route(router, "DELETE", BASE + "/{name}", policy="os_compute_api:os-keypairs:delete")
def delete_keypair(name: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a key pair (202 before 2.2, then 204)."""
    _check_query(request, {"user_id"})
    user_id = _owner(request, authz)
    authz.enforce({"user_id": user_id})
    with request.app.state.db.writer() as s:
        keypairs.delete_keypair(s, user_id, name)
    return Response(status_code=204 if compute_version(request) >= V2_2 else 202)
