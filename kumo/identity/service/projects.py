"""Projects and domains (a domain is a project with ``is_domain``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kumo.common.errors import Conflict, Forbidden, NotFound, ValidationError
from kumo.identity.db.models import (
    ROOT_DOMAIN_ID,
    AccessRule,
    ApplicationCredential,
    Assignment,
    Credential,
    Group,
    Project,
    ProjectTag,
    Role,
    User,
)
from kumo.identity.service import revocation
from kumo.identity.service.core import Identity, new_id
from kumo.identity.service.filters import apply_filters, to_bool

#: Keystone's default [DEFAULT] max_project_tree_depth.
MAX_TREE_DEPTH = 5
MAX_TAGS = 80
_BAD_TAG = re.compile(r"[/,]")


@dataclass
class ProjectWithTags:
    """A project row and its tags."""

    project: Project
    tags: list[str]


def validate_tags(tags: list[str]) -> list[str]:
    """Keystone's tag rules: at most 80, 1–255 characters, no '/' or ','."""
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"A project may have at most {MAX_TAGS} tags.")
    for tag in tags:
        if not 1 <= len(tag) <= 255 or _BAD_TAG.search(tag):
            raise ValidationError(
                f"Invalid tag {tag!r}: tags are 1-255 characters without '/' or ','."
            )
    return list(dict.fromkeys(tags))


def tags_of(s: Session, project_id: str) -> list[str]:
    """A project's tags, sorted."""
    return sorted(s.scalars(select(ProjectTag.name).where(ProjectTag.project_id == project_id)))


def _set_tags(s: Session, project_id: str, tags: list[str]) -> None:
    s.execute(delete(ProjectTag).where(ProjectTag.project_id == project_id))
    s.flush()
    for tag in tags:
        s.add(ProjectTag(project_id=project_id, name=tag))


def get_project_row(s: Session, project_id: str, *, domain: bool | None = None) -> Project:
    """A project (or domain, when ``domain``) by id; 404 when missing."""
    project = s.get(Project, project_id)
    if project is None or (domain is not None and project.is_domain != domain):
        kind = "domain" if domain else "project"
        raise NotFound(f"Could not find {kind}: {project_id}.")
    return project


def _name_taken(s: Session, domain_id: str, name: str, exclude: str | None = None) -> bool:
    query = select(Project.id).where(Project.domain_id == domain_id, Project.name == name)
    if exclude:
        query = query.where(Project.id != exclude)
    return s.execute(query).first() is not None


def _depth(s: Session, project: Project) -> int:
    depth, seen = 0, set()
    current: Project | None = project
    while current is not None and not current.is_domain and current.id not in seen:
        seen.add(current.id)
        depth += 1
        current = s.get(Project, current.parent_id) if current.parent_id else None
    return depth


def create_project(
    ident: Identity,
    *,
    name: str,
    domain_id: str | None,
    parent_id: str | None = None,
    is_domain: bool = False,
    enabled: bool = True,
    description: str | None = None,
    tags: list[str] | None = None,
    options: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    project_id: str | None = None,
) -> ProjectWithTags:
    """Create a project, or with ``is_domain`` a domain."""
    tag_list = validate_tags(tags or [])
    with ident.db.writer() as s:
        if is_domain:
            if parent_id:
                raise ValidationError("A domain cannot have a parent.")
            owner, parent = ROOT_DOMAIN_ID, None
        elif parent_id:
            parent_row = s.get(Project, parent_id)
            if parent_row is None:
                raise ValidationError(f"Could not find the parent project {parent_id}.")
            owner = parent_row.id if parent_row.is_domain else parent_row.domain_id
            if domain_id and domain_id != owner:
                raise ValidationError("Cannot create a project whose parent is in another domain.")
            if _depth(s, parent_row) + 1 > MAX_TREE_DEPTH:
                raise Forbidden(f"Max hierarchy depth reached for {parent_row.id} branch.")
            parent = parent_row.id
        else:
            owner = domain_id or "default"
            domain_row = s.get(Project, owner)
            if domain_row is None or not domain_row.is_domain:
                raise ValidationError(f"Could not find domain: {owner}.")
            parent = owner
        if _name_taken(s, owner, name):
            kind = "domain" if is_domain else "project"
            raise Conflict(
                f"Conflict occurred attempting to store {kind} - it is not permitted to have "
                f"two {kind}s with the same name in the same domain : {name}."
            )
        if project_id and s.get(Project, project_id) is not None:
            raise Conflict(
                f"Conflict occurred attempting to store project - Duplicate ID, {project_id}."
            )
        project = Project(
            id=project_id or new_id(),
            name=name,
            domain_id=owner,
            parent_id=parent,
            is_domain=is_domain,
            enabled=enabled,
            description=description,
            extra=extra or {},
            options=options or {},
        )
        s.add(project)
        s.flush()
        _set_tags(s, project.id, tag_list)
        return ProjectWithTags(project, tag_list)


def show_project(
    ident: Identity, project_id: str, *, domain: bool | None = None
) -> ProjectWithTags:
    """One project (or domain) with its tags."""
    with ident.db.reader() as s:
        project = get_project_row(s, project_id, domain=domain)
        return ProjectWithTags(project, tags_of(s, project.id))


def list_projects(
    ident: Identity, params: Mapping[str, str], *, domain: bool = False
) -> list[ProjectWithTags]:
    """Projects (or domains) matching Keystone's list filters."""
    is_domain = domain
    if not domain and "is_domain" in params:
        is_domain = to_bool("is_domain", params["is_domain"])
    with ident.db.reader() as s:
        query = select(Project).where(Project.is_domain.is_(is_domain))
        columns = {"name": Project.name, "enabled": Project.enabled}
        if not domain:
            columns |= {"domain_id": Project.domain_id, "parent_id": Project.parent_id}
        query = apply_filters(query, params, columns)
        rows = list(s.scalars(query.order_by(Project.name)))
        tags: dict[str, list[str]] = {}
        if rows:
            for pid, tag in s.execute(
                select(ProjectTag.project_id, ProjectTag.name).where(
                    ProjectTag.project_id.in_([r.id for r in rows])
                )
            ):
                tags.setdefault(pid, []).append(tag)
        result = [ProjectWithTags(r, sorted(tags.get(r.id, []))) for r in rows]
    return [p for p in result if _tags_match(p.tags, params)]


def _tags_match(tags: list[str], params: Mapping[str, str]) -> bool:
    have = set(tags)

    def wanted(key: str) -> set[str]:
        return {t for t in params.get(key, "").split(",") if t}

    if "tags" in params and not wanted("tags") <= have:
        return False
    if "tags-any" in params and not wanted("tags-any") & have:
        return False
    if "not-tags" in params and wanted("not-tags") <= have:
        return False
    return not ("not-tags-any" in params and wanted("not-tags-any") & have)


def update_project(
    ident: Identity, project_id: str, changes: dict[str, Any], *, domain: bool | None = None
) -> ProjectWithTags:
    """Apply a PATCH to a project or domain."""
    with ident.db.writer() as s:
        project = get_project_row(s, project_id, domain=domain)
        _check_mutable(project, changes)
        if "domain_id" in changes and changes["domain_id"] != (
            None if project.is_domain else project.domain_id
        ):
            raise ValidationError("Cannot update the domain_id of a project.")
        if "parent_id" in changes and changes["parent_id"] != project.parent_id:
            raise Forbidden("Cannot update the parent_id of a project.")
        if "is_domain" in changes and changes["is_domain"] != project.is_domain:
            raise ValidationError("Cannot update the is_domain attribute of a project.")
        if "name" in changes and changes["name"] != project.name:
            if _name_taken(s, project.domain_id, changes["name"], exclude=project.id):
                raise Conflict(
                    "Conflict occurred attempting to store project - it is not permitted to "
                    f"have two projects with the same name in the same domain : "
                    f"{changes['name']}."
                )
            project.name = changes["name"]
        if "enabled" in changes and changes["enabled"] != project.enabled:
            _check_enable_change(s, project, bool(changes["enabled"]))
            project.enabled = bool(changes["enabled"])
            if not project.enabled:
                _revoke_scope(s, ident, project)
        if "description" in changes:
            project.description = changes["description"]
        if "options" in changes:
            project.options = {**(project.options or {}), **(changes["options"] or {})}
        if "tags" in changes:
            _set_tags(s, project.id, validate_tags(changes["tags"] or []))
        extra = {k: v for k, v in changes.items() if k not in _PROJECT_FIELDS}
        if extra:
            project.extra = {**(project.extra or {}), **extra}
        s.flush()
        return ProjectWithTags(project, tags_of(s, project.id))


_PROJECT_FIELDS = {
    "id",
    "name",
    "domain_id",
    "parent_id",
    "is_domain",
    "enabled",
    "description",
    "options",
    "tags",
    "links",
}


def _check_mutable(project: Project, changes: dict[str, Any] | None) -> None:
    """Keystone's "immutable" resource option: 403 unless the change only lifts it."""
    if not (project.options or {}).get("immutable"):
        return
    lifting = (
        changes is not None
        and set(changes) <= {"options"}
        and (changes.get("options") or {}).get("immutable") in (False, None)
        and "immutable" in (changes.get("options") or {})
    )
    if not lifting:
        kind = "domain" if project.is_domain else "project"
        action = "update" if changes is not None else "delete"
        raise Forbidden(
            f"Unable to {action} immutable {kind} resource: `{project.id}. Set resource "
            'option "immutable" to false first.'
        )


def _revoke_scope(s: Session, ident: Identity, project: Project) -> None:
    """Revoke every token scoped to this project or domain."""
    if project.is_domain:
        revocation.revoke(s, ident.clock(), domain_id=project.id)
    else:
        revocation.revoke(s, ident.clock(), project_id=project.id)


def _check_enable_change(s: Session, project: Project, enable: bool) -> None:
    if project.is_domain:
        return
    if enable and project.parent_id:
        parent = s.get(Project, project.parent_id)
        if parent is not None and not parent.is_domain and not parent.enabled:
            raise Forbidden(
                f"Cannot enable project {project.id} since its parent {parent.id} is disabled."
            )
    if not enable:
        enabled_child = s.execute(
            select(Project.id).where(Project.parent_id == project.id, Project.enabled.is_(True))
        ).first()
        if enabled_child:
            raise Forbidden(
                f"Cannot disable project {project.id} since its subtree contains enabled projects."
            )


def delete_project(ident: Identity, project_id: str, *, domain: bool | None = None) -> None:
    """Delete a leaf project, or a disabled domain with everything in it."""
    with ident.db.writer() as s:
        project = get_project_row(s, project_id, domain=domain)
        _check_mutable(project, None)
        if project.is_domain:
            if project.enabled:
                raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
            _delete_domain_contents(s, project.id)
        else:
            child = s.execute(select(Project.id).where(Project.parent_id == project.id)).first()
            if child:
                raise Forbidden(
                    f"Cannot delete the project {project.id} since it is not a leaf in the "
                    "hierarchy. Use the cascade option if you want to delete a subtree."
                )
        s.execute(delete(Assignment).where(Assignment.target_id == project.id))
        s.execute(
            delete(ApplicationCredential).where(ApplicationCredential.project_id == project.id)
        )
        _revoke_scope(s, ident, project)
        s.delete(project)


def _delete_domain_contents(s: Session, domain_id: str) -> None:
    # Children first, so no project is left pointing at a deleted parent.
    projects = list(s.scalars(select(Project).where(Project.domain_id == domain_id)))
    ids = [p.id for p in projects]
    if ids:
        s.execute(delete(Assignment).where(Assignment.target_id.in_(ids)))
        s.execute(delete(ProjectTag).where(ProjectTag.project_id.in_(ids)))
        s.execute(delete(Project).where(Project.id.in_(ids)))
    user_ids = list(s.scalars(select(User.id).where(User.domain_id == domain_id)))
    if user_ids:
        s.execute(delete(Assignment).where(Assignment.actor_id.in_(user_ids)))
        s.execute(delete(Credential).where(Credential.user_id.in_(user_ids)))
        s.execute(delete(ApplicationCredential).where(ApplicationCredential.user_id.in_(user_ids)))
        s.execute(delete(AccessRule).where(AccessRule.user_id.in_(user_ids)))
        s.execute(delete(User).where(User.id.in_(user_ids)))
    group_ids = list(s.scalars(select(Group.id).where(Group.domain_id == domain_id)))
    if group_ids:
        s.execute(delete(Assignment).where(Assignment.actor_id.in_(group_ids)))
        s.execute(delete(Group).where(Group.id.in_(group_ids)))
    role_ids = list(s.scalars(select(Role.id).where(Role.domain_id == domain_id)))
    if role_ids:
        s.execute(delete(Assignment).where(Assignment.role_id.in_(role_ids)))
        s.execute(delete(Role).where(Role.id.in_(role_ids)))


def set_tags(ident: Identity, project_id: str, tags: list[str]) -> list[str]:
    """Replace a project's tags."""
    clean = validate_tags(tags)
    with ident.db.writer() as s:
        get_project_row(s, project_id)
        _set_tags(s, project_id, clean)
    return sorted(clean)


def add_tag(ident: Identity, project_id: str, tag: str) -> None:
    """Add one tag to a project (idempotent)."""
    with ident.db.writer() as s:
        get_project_row(s, project_id)
        tags = tags_of(s, project_id)
        if tag not in tags:
            validate_tags([*tags, tag])
            s.add(ProjectTag(project_id=project_id, name=tag))


def remove_tag(ident: Identity, project_id: str, tag: str) -> None:
    """Remove one tag; 404 when the project does not have it."""
    with ident.db.writer() as s:
        get_project_row(s, project_id)
        row = s.get(ProjectTag, (project_id, tag))
        if row is None:
            raise NotFound(f"Tag {tag} not found on project {project_id}.")
        s.delete(row)


def has_tag(ident: Identity, project_id: str, tag: str) -> bool:
    """True when the project has the tag; 404 when the project does not exist."""
    with ident.db.reader() as s:
        get_project_row(s, project_id)
        return s.get(ProjectTag, (project_id, tag)) is not None


def ancestor_ids(ident: Identity, project_id: str) -> list[str]:
    """Every ancestor id, nearest first, ending with the domain (Keystone's parents_as_ids)."""
    from kumo.identity.service.roles import ancestors_of

    with ident.db.reader() as s:
        return ancestors_of(s, project_id)


def parents_and_subtree(ident: Identity, project_id: str) -> tuple[list[str], list[str]]:
    """Ancestor project ids (nearest first, no domain) and descendant ids."""
    from kumo.identity.service.roles import ancestors_of, subtree_ids

    with ident.db.reader() as s:
        parents = [
            p
            for p in ancestors_of(s, project_id)
            if (row := s.get(Project, p)) is not None and not row.is_domain
        ]
        return parents, sorted(subtree_ids(s, [project_id]))


def default_domain_for(ctx_domain_id: str | None, ctx_project_domain_id: str | None) -> str:
    """Keystone's default domain for a new object: the token's domain, else 'default'."""
    return ctx_domain_id or ctx_project_domain_id or "default"
