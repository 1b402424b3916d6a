"""/v3/credentials: EC2 keys, TOTP secrets and other blobs, encrypted at rest."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.errors import NotFound
from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, links
from kumo.identity.schemas import changes_of
from kumo.identity.schemas.credentials import CredentialCreateRequest, CredentialUpdateRequest
from kumo.identity.service import credentials
from kumo.identity.service.credentials import CredentialInfo, Delegation

router = APIRouter()


def _view(request: Request, c: CredentialInfo) -> dict[str, Any]:
    return {
        **c.extra,
        "id": c.id,
        "user_id": c.user_id,
        "project_id": c.project_id,
        "type": c.type,
        "blob": c.blob,
        "links": links(request, "credentials", c.id),
    }


def _target(user_id: str | None) -> dict[str, Any]:
    return {"target.credential.user_id": user_id}


def _delegation(authz: Authz) -> Delegation:
    return Delegation(authz.ctx.application_credential_id, authz.ctx.project_id)


def _enforce_on(authz: Authz, credential_id: str) -> None:
    # As Keystone: the rule sees the stored credential's owner; a missing one fails
    # the owner check (403) for non-admins and is a 404 for admins.
    found = credentials.find_credential(authz.ident, credential_id)
    authz.enforce(_target(found.user_id if found else None))
    if found is None:
        raise NotFound(f"Could not find credential: {credential_id}.")


@route(router, "POST", "/v3/credentials", policy="identity:create_credential", status_code=201)
def create_credential(
    body: CredentialCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a credential (for oneself, or for anyone as an admin)."""
    c = body.credential
    authz.enforce(_target(c.user_id))
    info = credentials.create_credential(
        authz.ident,
        user_id=c.user_id,
        type=c.type,
        blob=c.blob,
        project_id=c.project_id,
        extra=c.extras(),
        delegation=_delegation(authz),
    )
    return {"credential": _view(request, info)}


@route(router, "GET", "/v3/credentials", policy="identity:list_credentials")
def list_credentials(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List credentials; a non-admin sees only their own."""
    system = authz.ctx.system_scope is not None
    authz.enforce(None if system else _target(authz.ctx.user_id))
    delegation = _delegation(authz)
    rows = [
        c
        for c in credentials.list_credentials(authz.ident, request.query_params)
        if authz.allows(_target(c.user_id)) and credentials.visible_to(delegation, c)
    ]
    return {"credentials": [_view(request, c) for c in rows], "links": collection_links(request)}


@route(router, "GET", "/v3/credentials/{credential_id}", policy="identity:get_credential")
def get_credential(credential_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Show a credential with its decrypted blob."""
    _enforce_on(authz, credential_id)
    info = credentials.show_credential(authz.ident, credential_id, _delegation(authz))
    return {"credential": _view(request, info)}


@route(router, "PATCH", "/v3/credentials/{credential_id}", policy="identity:update_credential")
def update_credential(
    credential_id: str, body: CredentialUpdateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a credential; a non-admin may not hand it to another user."""
    _enforce_on(authz, credential_id)
    changes = changes_of(body.credential)
    current = credentials.show_credential(authz.ident, credential_id)
    # Checked again on the result, so the owner cannot give it away.
    authz.enforce(_target(credentials.merged_credential(current, changes)["user_id"]))
    info = credentials.update_credential(authz.ident, credential_id, changes, _delegation(authz))
    return {"credential": _view(request, info)}


@route(
    router,
    "DELETE",
    "/v3/credentials/{credential_id}",
    policy="identity:delete_credential",
    status_code=204,
)
def delete_credential(credential_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete a credential."""
    _enforce_on(authz, credential_id)
    credentials.delete_credential(authz.ident, credential_id, _delegation(authz))
    return Response(status_code=204)
