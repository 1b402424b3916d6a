"""Request body of POST /v3/users/{user_id}/credentials/OS-EC2."""

from __future__ import annotations

from pydantic import Field, StrictStr

from kumo.identity.schemas import Open


class EC2CredentialCreateRequest(Open):
    # Keystone has no schema here: it reads tenant_id and ignores the rest, and a
    # missing tenant_id is a missing project (404), not a bad request.
    tenant_id: StrictStr | None = Field(None, max_length=64)
