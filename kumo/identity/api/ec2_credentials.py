"""/v3/users/{user_id}/credentials/OS-EC2: a user's EC2 key pairs (Keystone's OS-EC2)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from kumo.identity.api.deps import Authz, AuthzDep, route
from kumo.identity.api.views import collection_links, links
from kumo.identity.schemas.ec2_credentials import EC2CredentialCreateRequest
from kumo.identity.service import ec2_credentials as ec2
from kumo.identity.service.credentials import Delegation
from kumo.identity.service.ec2_credentials import EC2Credential

router = APIRouter()
PATH = "/v3/users/{user_id}/credentials/OS-EC2"


def _view(request: Request, c: EC2Credential) -> dict[str, Any]:
    return {
        "user_id": c.user_id,
        "tenant_id": c.tenant_id,
        "access": c.access,
        "secret": c.secret,
        "trust_id": c.trust_id,
        # The link names the credential's owner, whatever user the URL named.
        "links": links(request, "users", c.user_id, "credentials", "OS-EC2", str(c.access)),
    }


def _delegation(authz: Authz) -> Delegation:
    return Delegation(authz.ctx.application_credential_id, authz.ctx.project_id)


def _enforce_on(authz: Authz, user_id: str, credential_id: str) -> None:
    # As Keystone: the owner check uses the stored credential's user, not the URL's,
    # and a missing credential is a 404 before any policy check. The URL's user is
    # not required to match the owner (openstackclient puts the caller's id there
    # when an admin deletes someone else's key).
    cred = ec2.get_by_access(authz.ident, credential_id)
    authz.enforce({"user_id": user_id, "target.credential.user_id": cred.user_id})


@route(router, "GET", PATH, policy="identity:ec2_list_credentials")
def list_ec2_credentials(user_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """List a user's EC2 key pairs (one's own, or anyone's as an admin or system reader)."""
    authz.enforce({"user_id": user_id})
    found = ec2.list_ec2_credentials(authz.ident, user_id, _delegation(authz))
    return {"credentials": [_view(request, c) for c in found], "links": collection_links(request)}


@route(router, "POST", PATH, policy="identity:ec2_create_credential", status_code=201)
def create_ec2_credential(
    user_id: str, body: EC2CredentialCreateRequest, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Generate an EC2 key pair for a user on a project."""
    authz.enforce({"user_id": user_id, "target.credential.user_id": user_id})
    cred = ec2.create_ec2_credential(authz.ident, user_id, body.tenant_id, _delegation(authz))
    return {"credential": _view(request, cred)}


@route(router, "GET", PATH + "/{credential_id}", policy="identity:ec2_get_credential")
def get_ec2_credential(
    user_id: str, credential_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Show an EC2 key pair by its access key, secret included."""
    _enforce_on(authz, user_id, credential_id)
    cred = ec2.show_ec2_credential(authz.ident, user_id, credential_id, _delegation(authz))
    return {"credential": _view(request, cred)}


@route(
    router,
    "DELETE",
    PATH + "/{credential_id}",
    policy="identity:ec2_delete_credential",
    status_code=204,
)
def delete_ec2_credential(user_id: str, credential_id: str, authz: Authz = AuthzDep) -> Response:
    """Delete an EC2 key pair by its access key."""
    _enforce_on(authz, user_id, credential_id)
    ec2.delete_ec2_credential(authz.ident, user_id, credential_id, _delegation(authz))
    return Response(status_code=204)
