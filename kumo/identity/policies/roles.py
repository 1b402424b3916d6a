"""Rules for roles, implied roles, grants and role assignments."""

from kumo.identity.policies.base import (
    ADMIN_OR_SYSTEM_READER,
    domain_admin,
    domain_reader,
    rule,
)

ADMIN = "rule:admin_required"
GRANT_READ = (
    ADMIN_OR_SYSTEM_READER
    + " or "
    + domain_reader("domain.id")
    + " or "
    + domain_reader("project.domain_id")
)
GRANT_WRITE = (
    ADMIN + " or " + domain_admin("domain.id") + " or " + domain_admin("project.domain_id")
)

RULES = [
    rule(
        "identity:get_role", ADMIN_OR_SYSTEM_READER, "Show a role.", ("GET", "/v3/roles/{role_id}")
    ),
    rule(
        "identity:list_roles",
        ADMIN_OR_SYSTEM_READER + " or role:reader",
        "List roles.",
        ("GET", "/v3/roles"),
    ),
    rule("identity:create_role", ADMIN, "Create a role.", ("POST", "/v3/roles")),
    rule("identity:update_role", ADMIN, "Update a role.", ("PATCH", "/v3/roles/{role_id}")),
    rule("identity:delete_role", ADMIN, "Delete a role.", ("DELETE", "/v3/roles/{role_id}")),
    rule(
        "identity:list_implied_roles",
        ADMIN_OR_SYSTEM_READER,
        "List implied roles.",
        ("GET", "/v3/roles/{prior_role_id}/implies"),
    ),
    rule(
        "identity:get_implied_role",
        ADMIN_OR_SYSTEM_READER,
        "Show an inference rule.",
        ("GET", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    ),
    rule(
        "identity:check_implied_role",
        ADMIN_OR_SYSTEM_READER,
        "Check an inference rule.",
        ("HEAD", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    ),
    rule(
        "identity:create_implied_role",
        ADMIN,
        "Create an inference rule.",
        ("PUT", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    ),
    rule(
        "identity:delete_implied_role",
        ADMIN,
        "Delete an inference rule.",
        ("DELETE", "/v3/roles/{prior_role_id}/implies/{implied_role_id}"),
    ),
    rule(
        "identity:list_role_inference_rules",
        ADMIN_OR_SYSTEM_READER,
        "List all inference rules.",
        ("GET", "/v3/role_inferences"),
    ),
    rule(
        "identity:check_grant",
        GRANT_READ,
        "Check a role grant.",
        ("HEAD", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    ),
    rule(
        "identity:list_grants",
        GRANT_READ,
        "List role grants.",
        ("GET", "/v3/projects/{project_id}/users/{user_id}/roles"),
    ),
    rule(
        "identity:create_grant",
        GRANT_WRITE,
        "Grant a role.",
        ("PUT", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    ),
    rule(
        "identity:revoke_grant",
        GRANT_WRITE,
        "Revoke a role grant.",
        ("DELETE", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    ),
    rule(
        "identity:list_system_grants",
        ADMIN_OR_SYSTEM_READER,
        "List system grants.",
        ("GET", "/v3/system/users/{user_id}/roles"),
    ),
    rule(
        "identity:check_system_grant",
        ADMIN_OR_SYSTEM_READER,
        "Check a system grant.",
        ("HEAD", "/v3/system/users/{user_id}/roles/{role_id}"),
    ),
    rule(
        "identity:create_system_grant",
        ADMIN,
        "Grant a role on the system.",
        ("PUT", "/v3/system/users/{user_id}/roles/{role_id}"),
    ),
    rule(
        "identity:revoke_system_grant",
        ADMIN,
        "Revoke a system grant.",
        ("DELETE", "/v3/system/users/{user_id}/roles/{role_id}"),
    ),
    rule(
        "identity:list_role_assignments",
        ADMIN_OR_SYSTEM_READER + " or " + domain_reader("domain_id"),
        "List role assignments.",
        ("GET", "/v3/role_assignments"),
    ),
    rule(
        "identity:list_role_assignments_for_tree",
        ADMIN_OR_SYSTEM_READER + " or " + domain_reader("project.domain_id"),
        "List role assignments of a project subtree.",
        ("GET", "/v3/role_assignments"),
    ),
]
