"""Rules for roles, implied roles, grants and role assignments."""

from kumo.identity.policies.base import (
    ADMIN_OR_SYSTEM_READER,
    domain_reader,
    rule,
)

ADMIN = "rule:admin_required"


def _grants_in_domain(role: str) -> str:
    """Keystone: the grant's actor and its target must both be in the caller's domain."""
    return " or ".join(
        f"(role:{role} and domain_id:%(target.{actor}.domain_id)s"
        f" and domain_id:%(target.{target})s)"
        for actor in ("user", "group")
        for target in ("project.domain_id", "domain.id")
    )


GRANT_READ = ADMIN_OR_SYSTEM_READER + " or " + _grants_in_domain("reader")
GRANT_WRITE = ADMIN + " or " + _grants_in_domain("admin")

RULES = [
    rule(
        "identity:get_role", ADMIN_OR_SYSTEM_READER, "Show a role.", ("GET", "/v3/roles/{role_id}")
    ),
    # As Keystone: a domain manager may list roles too (to grant them in their domain).
    rule(
        "identity:list_roles",
        ADMIN_OR_SYSTEM_READER + " or (role:manager and not domain_id:None)",
        "List roles.",
        ("GET", "/v3/roles"),
    ),
    rule("identity:create_role", ADMIN, "Create a role.", ("POST", "/v3/roles")),
    rule("identity:update_role", ADMIN, "Update a role.", ("PATCH", "/v3/roles/{role_id}")),
    rule("identity:delete_role", ADMIN, "Delete a role.", ("DELETE", "/v3/roles/{role_id}")),
    # Keystone checks these instead of the above when the role is domain-specific.
    rule(
        "identity:get_domain_role",
        ADMIN_OR_SYSTEM_READER,
        "Show a domain-specific role.",
        ("GET", "/v3/roles/{role_id}"),
    ),
    rule(
        "identity:list_domain_roles",
        ADMIN_OR_SYSTEM_READER,
        "List the roles of a domain.",
        ("GET", "/v3/roles?domain_id={domain_id}"),
    ),
    rule(
        "identity:create_domain_role",
        ADMIN,
        "Create a domain-specific role.",
        ("POST", "/v3/roles"),
    ),
    rule(
        "identity:update_domain_role",
        ADMIN,
        "Update a domain-specific role.",
        ("PATCH", "/v3/roles/{role_id}"),
    ),
    rule(
        "identity:delete_domain_role",
        ADMIN,
        "Delete a domain-specific role.",
        ("DELETE", "/v3/roles/{role_id}"),
    ),
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
    *(
        rule(
            f"identity:{op}_for_{actor}",
            check,
            f"{what} of a {actor} on the system.",
            (method, f"/v3/system/{actor}s/{{{actor}_id}}/roles{suffix}"),
        )
        for actor in ("user", "group")
        for op, check, what, method, suffix in (
            ("list_system_grants", ADMIN_OR_SYSTEM_READER, "List the system grants", "GET", ""),
            (
                "check_system_grant",
                ADMIN_OR_SYSTEM_READER,
                "Check a system grant",
                "HEAD",
                "/{role_id}",
            ),
            ("create_system_grant", ADMIN, "Grant a role", "PUT", "/{role_id}"),
            ("revoke_system_grant", ADMIN, "Revoke a system grant", "DELETE", "/{role_id}"),
        )
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
