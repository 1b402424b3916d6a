"""What a user may scope a token to, for the /v3/auth/* listings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kumo.identity.db.models import Project
from kumo.identity.service import roles
from kumo.identity.service.catalog import build_catalog
from kumo.identity.service.core import Identity


def catalog_for(ident: Identity, project_id: str | None) -> list[dict[str, Any]]:
    """The catalog a token scoped to ``project_id`` carries."""
    with ident.db.reader() as s:
        return build_catalog(s, project_id)


def _enabled(ident: Identity, ids: set[str], domains: bool) -> list[Project]:
    if not ids:
        return []
    with ident.db.reader() as s:
        rows = s.scalars(
            select(Project).where(
                Project.id.in_(ids), Project.enabled.is_(True), Project.is_domain.is_(domains)
            )
        )
        return sorted(rows, key=lambda p: p.name)


def projects_for(ident: Identity, user_id: str) -> list[Project]:
    """Enabled projects where the user holds some role."""
    with ident.db.reader() as s:
        ids = roles.projects_with_roles(s, user_id)
    return _enabled(ident, ids, domains=False)


def domains_for(ident: Identity, user_id: str) -> list[Project]:
    """Enabled domains where the user holds some role."""
    with ident.db.reader() as s:
        ids = roles.domains_with_roles(s, user_id)
    return _enabled(ident, ids, domains=True)


def has_system_role(ident: Identity, user_id: str) -> bool:
    """True when the user holds any role on the system."""
    with ident.db.reader() as s:
        return bool(roles.direct_system_role_ids(s, user_id))
