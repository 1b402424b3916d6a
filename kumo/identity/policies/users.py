"""Rules for users."""

from kumo.identity.policies.base import (
    ADMIN_OR_SYSTEM_READER,
    domain_admin,
    domain_reader,
    rule,
)

WRITE = "rule:admin_required or " + domain_admin("user.domain_id")

RULES = [
    rule(
        "identity:get_user",
        ADMIN_OR_SYSTEM_READER
        + " or "
        + domain_reader("user.domain_id")
        + " or user_id:%(target.user.id)s",
        "Show a user.",
        ("GET", "/v3/users/{user_id}"),
    ),
    rule(
        "identity:list_users",
        ADMIN_OR_SYSTEM_READER + " or " + domain_reader("domain_id"),
        "List users.",
        ("GET", "/v3/users"),
    ),
    rule("identity:create_user", WRITE, "Create a user.", ("POST", "/v3/users")),
    rule("identity:update_user", WRITE, "Update a user.", ("PATCH", "/v3/users/{user_id}")),
    rule("identity:delete_user", WRITE, "Delete a user.", ("DELETE", "/v3/users/{user_id}")),
    rule(
        "identity:change_password",
        "@",
        "Change one's own password; the original password is the proof, as in Keystone.",
        ("POST", "/v3/users/{user_id}/password"),
    ),
]
