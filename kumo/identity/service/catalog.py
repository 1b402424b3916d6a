"""The service catalog as tokens and ``/v3/auth/catalog`` present it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.identity.db.models import Endpoint, Service
from kumo.identity.service.endpoint_groups import groups_for_project, matches


def _substitute(url: str, project_id: str | None) -> str | None:
    # Keystone fills $(project_id)s / %(tenant_id)s style placeholders and drops
    # endpoints it cannot fill (e.g. a project URL in an unscoped catalog).
    if "$(" not in url and "%(" not in url:
        return url
    if not project_id:
        return None
    for key in ("project_id", "tenant_id"):
        url = url.replace(f"$({key})s", project_id).replace(f"%({key})s", project_id)
    return url


def build_catalog(s: Session, project_id: str | None = None) -> list[dict[str, Any]]:
    """Every enabled service with its enabled endpoints.

    A project associated with endpoint groups (OS-EP-FILTER) sees only the
    endpoints matching one of its groups.
    """
    services = list(s.scalars(select(Service).where(Service.enabled.is_(True))))
    endpoints = list(s.scalars(select(Endpoint).where(Endpoint.enabled.is_(True))))
    groups = groups_for_project(s, project_id) if project_id else []
    if groups:
        endpoints = [
            ep
            for ep in endpoints
            if any(
                matches(
                    g.filters,
                    {
                        "service_id": ep.service_id,
                        "interface": ep.interface,
                        "region_id": ep.region_id,
                    },
                )
                for g in groups
            )
        ]
    by_service: dict[str, list[dict[str, Any]]] = {}
    for ep in endpoints:
        url = _substitute(ep.url, project_id)
        if url is None:
            continue
        by_service.setdefault(ep.service_id, []).append(
            {
                "id": ep.id,
                "interface": ep.interface,
                "region": ep.region_id,
                "region_id": ep.region_id,
                "url": url,
            }
        )
    return [
        {
            "id": svc.id,
            "type": svc.type,
            "name": svc.extra.get("name", ""),
            "endpoints": by_service.get(svc.id, []),
        }
        for svc in sorted(services, key=lambda x: x.type)
    ]
