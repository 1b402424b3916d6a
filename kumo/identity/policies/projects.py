"""Rules for projects and their tags."""

from kumo.identity.policies.base import (
    ADMIN_OR_SYSTEM_READER,
    domain_admin,
    domain_reader,
    rule,
)

READ = (
    ADMIN_OR_SYSTEM_READER
    + " or "
    + domain_reader("project.domain_id")
    + " or project_id:%(target.project.id)s"
)
WRITE = "rule:admin_required or " + domain_admin("project.domain_id")

RULES = [
    rule("identity:get_project", READ, "Show a project.", ("GET", "/v3/projects/{project_id}")),
    rule(
        "identity:list_projects",
        ADMIN_OR_SYSTEM_READER + " or " + domain_reader("domain_id"),
        "List projects.",
        ("GET", "/v3/projects"),
    ),
    rule(
        "identity:list_user_projects",
        ADMIN_OR_SYSTEM_READER
        + " or "
        + domain_reader("user.domain_id")
        + " or user_id:%(target.user.id)s",
        "List a user's projects.",
        ("GET", "/v3/users/{user_id}/projects"),
    ),
    rule("identity:create_project", WRITE, "Create a project.", ("POST", "/v3/projects")),
    rule(
        "identity:update_project",
        WRITE,
        "Update a project.",
        ("PATCH", "/v3/projects/{project_id}"),
    ),
    rule(
        "identity:delete_project",
        WRITE,
        "Delete a project.",
        ("DELETE", "/v3/projects/{project_id}"),
    ),
    rule(
        "identity:list_project_tags",
        READ,
        "List a project's tags.",
        ("GET", "/v3/projects/{project_id}/tags"),
    ),
    rule(
        "identity:get_project_tag",
        READ,
        "Check a project tag.",
        ("GET", "/v3/projects/{project_id}/tags/{tag}"),
    ),
    rule(
        "identity:update_project_tags",
        WRITE,
        "Replace a project's tags.",
        ("PUT", "/v3/projects/{project_id}/tags"),
    ),
    rule(
        "identity:create_project_tag",
        WRITE,
        "Add a project tag.",
        ("PUT", "/v3/projects/{project_id}/tags/{tag}"),
    ),
    rule(
        "identity:delete_project_tags",
        WRITE,
        "Remove all of a project's tags.",
        ("DELETE", "/v3/projects/{project_id}/tags"),
    ),
    rule(
        "identity:delete_project_tag",
        WRITE,
        "Remove a project tag.",
        ("DELETE", "/v3/projects/{project_id}/tags/{tag}"),
    ),
]
