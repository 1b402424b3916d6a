"""How identity resources look in responses (Keystone's representation)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from kumo.identity.api.deps import self_url
from kumo.identity.db.models import NULL_DOMAIN_ID, Project, Role, User
from kumo.identity.service.auth import iso


def links(request: Request, *parts: str) -> dict[str, str]:
    """The ``links`` member of one resource."""
    return {"self": self_url(request, *parts)}


def collection_links(request: Request) -> dict[str, Any]:
    """The ``links`` member of a list response."""
    url = str(request.url)
    return {"self": url, "previous": None, "next": None}


def domain_view(request: Request, d: Project, tags: list[str] | None = None) -> dict[str, Any]:
    """A domain."""
    return {
        **d.extra,
        "id": d.id,
        "name": d.name,
        "description": d.description or "",
        "enabled": d.enabled,
        "tags": tags or [],
        "options": d.options or {},
        "links": links(request, "domains", d.id),
    }


def project_view(request: Request, p: Project, tags: list[str]) -> dict[str, Any]:
    """A project (or a project acting as a domain)."""
    return {
        **p.extra,
        "id": p.id,
        "name": p.name,
        "domain_id": None if p.is_domain else p.domain_id,
        "description": p.description or "",
        "enabled": p.enabled,
        "parent_id": p.parent_id,
        "is_domain": p.is_domain,
        "tags": sorted(tags),
        "options": p.options or {},
        "links": links(request, "projects", p.id),
    }


def user_view(request: Request, u: User, password_expires_at: Any = None) -> dict[str, Any]:
    """A user (never its password)."""
    view: dict[str, Any] = {
        **u.extra,
        "id": u.id,
        "name": u.name,
        "domain_id": u.domain_id,
        "enabled": u.enabled,
        "password_expires_at": iso(password_expires_at) if password_expires_at else None,
        "options": u.options or {},
        "links": links(request, "users", u.id),
    }
    if u.default_project_id:
        view["default_project_id"] = u.default_project_id
    return view


def role_view(request: Request, role: Role) -> dict[str, Any]:
    """A role as Keystone shows it (``domain_id`` null for a global role)."""
    return {
        **(role.extra or {}),
        "id": role.id,
        "name": role.name,
        "domain_id": None if role.domain_id == NULL_DOMAIN_ID else role.domain_id,
        "description": role.description,
        "options": role.options or {},
        "links": links(request, "roles", role.id),
    }
