"""The request context: who is calling, with which scope and roles."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

#: The request id of the request being served, for log records.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kumo_request_id", default=None
)


@dataclass
class RequestContext:
    """An authenticated caller, as established from a validated token."""

    user_id: str | None = None
    user_domain_id: str | None = None
    project_id: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    system_scope: str | None = None
    roles: list[str] = field(default_factory=list)
    token_id: str | None = None
    audit_ids: list[str] = field(default_factory=list)
    application_credential_id: str | None = None
    request_id: str | None = None
    is_anonymous: bool = False

    @property
    def is_system_admin(self) -> bool:
        """True for an admin token scoped to the whole system."""
        return self.system_scope == "all" and "admin" in self.roles

    def credentials(self) -> dict[str, Any]:
        """The facts policy rules may test (oslo.policy's ``creds``)."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": list(self.roles),
        }
