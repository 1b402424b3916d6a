"""OS-EP-FILTER endpoint groups: limit a project's catalog to matching endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.errors import NotFound, ValidationError
from kumo.identity.db.models import EndpointGroup, Project, ProjectEndpointGroup
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters

#: The endpoint attributes a group may filter on (Keystone's list).
FILTER_KEYS = frozenset({"service_id", "interface", "region_id"})


def check_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Keystone accepts only service_id, interface and region_id as string filters."""
    unknown = set(filters) - FILTER_KEYS
    if unknown:
        raise ValidationError(
            f"Invalid endpoint group filter(s): {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(FILTER_KEYS))}."
        )
    if not all(isinstance(v, str) for v in filters.values()):
        raise ValidationError("Endpoint group filter values must be strings.")
    return filters


def _get(s: Session, group_id: str) -> EndpointGroup:
    group = s.get(EndpointGroup, group_id)
    if group is None:
        raise NotFound(f"Could not find endpoint group: {group_id}.")
    return group


def create_group(
    ident: Identity, name: str, description: str | None, filters: dict[str, Any]
) -> EndpointGroup:
    """Create an endpoint group."""
    with ident.db.writer() as s:
        group = EndpointGroup(
            id=new_id(), name=name, description=description, filters=check_filters(filters)
        )
        s.add(group)
        return group


def show_group(ident: Identity, group_id: str) -> EndpointGroup:
    """One endpoint group."""
    with ident.db.reader() as s:
        return _get(s, group_id)


def list_groups(ident: Identity, params: Mapping[str, str]) -> list[EndpointGroup]:
    """Endpoint groups, filtered by name."""
    with ident.db.reader() as s:
        query = apply_filters(select(EndpointGroup), params, {"name": EndpointGroup.name})
        return list(s.scalars(query.order_by(EndpointGroup.name)))


def update_group(ident: Identity, group_id: str, changes: dict[str, Any]) -> EndpointGroup:
    """Change a group's name, description or filters."""
    with ident.db.writer() as s:
        group = _get(s, group_id)
        if changes.get("name") is not None:
            group.name = changes["name"]
        if "description" in changes:
            group.description = changes["description"]
        if changes.get("filters") is not None:
            group.filters = check_filters(changes["filters"])
        return group


def delete_group(ident: Identity, group_id: str) -> None:
    """Delete a group and its project associations."""
    with ident.db.writer() as s:
        s.delete(_get(s, group_id))
        s.execute(
            delete(ProjectEndpointGroup).where(ProjectEndpointGroup.endpoint_group_id == group_id)
        )


def _project(s: Session, project_id: str) -> Project:
    project = s.get(Project, project_id)
    if project is None or project.is_domain:
        raise NotFound(f"Could not find project: {project_id}.")
    return project


def associate(ident: Identity, group_id: str, project_id: str) -> None:
    """Limit a project's catalog to (also) this group's endpoints."""
    with ident.db.writer() as s:
        _get(s, group_id)
        _project(s, project_id)
        if s.get(ProjectEndpointGroup, (group_id, project_id)) is None:
            s.add(ProjectEndpointGroup(endpoint_group_id=group_id, project_id=project_id))


def is_associated(ident: Identity, group_id: str, project_id: str) -> bool:
    """True when the project is associated with the group (404 for unknown ids)."""
    with ident.db.reader() as s:
        _get(s, group_id)
        _project(s, project_id)
        return s.get(ProjectEndpointGroup, (group_id, project_id)) is not None


def dissociate(ident: Identity, group_id: str, project_id: str) -> None:
    """Remove an association; 404 when there is none."""
    with ident.db.writer() as s:
        row = s.get(ProjectEndpointGroup, (group_id, project_id))
        if row is None:
            raise NotFound(
                f"Could not find endpoint group {group_id} association with project {project_id}."
            )
        s.delete(row)


def projects_of(ident: Identity, group_id: str) -> list[Project]:
    """Projects associated with a group."""
    with ident.db.reader() as s:
        _get(s, group_id)
        ids = list(
            s.scalars(
                select(ProjectEndpointGroup.project_id).where(
                    ProjectEndpointGroup.endpoint_group_id == group_id
                )
            )
        )
        return list(s.scalars(select(Project).where(Project.id.in_(ids)))) if ids else []


def groups_of(ident: Identity, project_id: str) -> list[EndpointGroup]:
    """Groups associated with a project."""
    with ident.db.reader() as s:
        _project(s, project_id)
        return groups_for_project(s, project_id)


def groups_for_project(s: Session, project_id: str) -> list[EndpointGroup]:
    """Groups associated with a project (for building its catalog)."""
    ids = list(
        s.scalars(
            select(ProjectEndpointGroup.endpoint_group_id).where(
                ProjectEndpointGroup.project_id == project_id
            )
        )
    )
    return list(s.scalars(select(EndpointGroup).where(EndpointGroup.id.in_(ids)))) if ids else []


def matches(filters: Mapping[str, Any], endpoint: Mapping[str, Any]) -> bool:
    """True when an endpoint satisfies every filter of a group."""
    return all(endpoint.get(key) == value for key, value in filters.items())
