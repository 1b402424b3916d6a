"""Rules for groups and memberships."""

from kumo.identity.policies.base import (
    ADMIN_OR_SYSTEM_READER,
    domain_admin,
    domain_reader,
    rule,
)

READ = ADMIN_OR_SYSTEM_READER + " or " + domain_reader("group.domain_id")
WRITE = "rule:admin_required or " + domain_admin("group.domain_id")
# Keystone: membership rules also need the user in the caller's domain.
MEMBER_READ = (
    ADMIN_OR_SYSTEM_READER
    + " or (role:reader and domain_id:%(target.group.domain_id)s"
    + " and domain_id:%(target.user.domain_id)s)"
)
MEMBER_WRITE = (
    "rule:admin_required or (role:admin and domain_id:%(target.group.domain_id)s"
    " and domain_id:%(target.user.domain_id)s)"
)

RULES = [
    rule("identity:get_group", READ, "Show a group.", ("GET", "/v3/groups/{group_id}")),
    rule(
        "identity:list_groups",
        ADMIN_OR_SYSTEM_READER + " or " + domain_reader("domain_id"),
        "List groups.",
        ("GET", "/v3/groups"),
    ),
    rule(
        "identity:list_groups_for_user",
        ADMIN_OR_SYSTEM_READER
        + " or "
        + domain_reader("user.domain_id")
        + " or user_id:%(user_id)s",
        "List a user's groups.",
        ("GET", "/v3/users/{user_id}/groups"),
    ),
    rule("identity:create_group", WRITE, "Create a group.", ("POST", "/v3/groups")),
    rule("identity:update_group", WRITE, "Update a group.", ("PATCH", "/v3/groups/{group_id}")),
    rule("identity:delete_group", WRITE, "Delete a group.", ("DELETE", "/v3/groups/{group_id}")),
    rule(
        "identity:list_users_in_group",
        READ,
        "List a group's users.",
        ("GET", "/v3/groups/{group_id}/users"),
    ),
    rule(
        "identity:check_user_in_group",
        MEMBER_READ,
        "Check membership.",
        ("HEAD", "/v3/groups/{group_id}/users/{user_id}"),
    ),
    rule(
        "identity:add_user_to_group",
        MEMBER_WRITE,
        "Add a user to a group.",
        ("PUT", "/v3/groups/{group_id}/users/{user_id}"),
    ),
    rule(
        "identity:remove_user_from_group",
        MEMBER_WRITE,
        "Remove a user from a group.",
        ("DELETE", "/v3/groups/{group_id}/users/{user_id}"),
    ),
]
