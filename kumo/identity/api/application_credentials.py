"""/v3/users/{user_id}/application_credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.common.errors import Forbidden
from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, links
from kumo.identity.db.models import NULL_DOMAIN_ID
from kumo.identity.schemas.credentials import ApplicationCredentialCreateRequest
from kumo.identity.service import application_credentials as app_creds
from kumo.identity.service.application_credentials import AppCredInfo

router = APIRouter()
PATH = "/v3/users/{user_id}/application_credentials"


def _view(request: Request, info: AppCredInfo) -> dict[str, Any]:
    c = info.cred
    view: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "user_id": c.user_id,
        "project_id": c.project_id,
        "system": c.system,
        # Keystone's format (oslo's to_primitive): naive UTC with microseconds, no "Z".
        "expires_at": (c.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if c.expires_at else None),
        "unrestricted": bool(c.unrestricted),
        "roles": [
            {
                "id": r.id,
                "name": r.name,
                "domain_id": None if r.domain_id == NULL_DOMAIN_ID else r.domain_id,
                "description": r.description,
                "options": r.options or {},
            }
            for r in info.roles
        ],
        "access_rules": info.access_rules,
        "links": links(request, "users", c.user_id, "application_credentials", c.id),
    }
    if info.secret is not None:
        view["secret"] = info.secret
    return view


def _owner_target(authz: Authz, user_id: str, app_cred_id: str) -> dict[str, Any]:
    # The owner rule must see the credential's real owner, not the URL's user,
    # or anyone could reach another user's credential by putting their own id
    # in the path (Keystone's _update_request_user_id_attribute).
    owner = app_creds.find_application_credential(authz.ident, app_cred_id)
    return {"user_id": owner or user_id}


@route(router, "POST", PATH, policy="identity:create_application_credential", status_code=201)
def create_application_credential(
    user_id: str,
    body: ApplicationCredentialCreateRequest,
    request: Request,
    authz: Authz = AuthzDep,
) -> dict[str, Any]:
    """Create an application credential for oneself on the token's project."""
    authz.enforce({"user_id": user_id})
    if authz.ctx.user_id != user_id:
        raise Forbidden("Cannot create an application credential for another user.")
    a = body.application_credential
    info = app_creds.create_application_credential(
        authz.ident,
        user_id=user_id,
        project_id=authz.ctx.project_id,
        name=a.name,
        secret=a.secret,
        description=a.description,
        expires_at=a.expires_at,
        roles=a.roles,
        unrestricted=bool(a.unrestricted),
        access_rules=a.access_rules,
        caller_app_cred_id=authz.ctx.application_credential_id,
    )
    return {"application_credential": _view(request, info)}


@route(router, "GET", PATH, policy="identity:list_application_credentials")
def list_application_credentials(
    user_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """A user's application credentials (filter: ``name``)."""
    authz.enforce({"user_id": user_id})
    rows = app_creds.list_application_credentials(authz.ident, user_id, request.query_params)
    return {
        "application_credentials": [_view(request, r) for r in rows],
        "links": collection_links(request),
    }


@route(
    router,
    "GET",
    PATH + "/{application_credential_id}",
    policy="identity:get_application_credential",
)
def get_application_credential(
    user_id: str, application_credential_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Show an application credential (without its secret)."""
    authz.enforce(_owner_target(authz, user_id, application_credential_id))
    info = app_creds.show_application_credential(authz.ident, user_id, application_credential_id)
    return {"application_credential": _view(request, info)}


@route(
    router,
    "DELETE",
    PATH + "/{application_credential_id}",
    policy="identity:delete_application_credential",
    status_code=204,
)
def delete_application_credential(
    user_id: str, application_credential_id: str, authz: Authz = AuthzDep
) -> Response:
    """Delete an application credential; tokens issued from it stop validating."""
    authz.enforce(_owner_target(authz, user_id, application_credential_id))
    app_creds.delete_application_credential(
        authz.ident,
        user_id,
        application_credential_id,
        caller_app_cred_id=authz.ctx.application_credential_id,
    )
    return Response(status_code=204)
