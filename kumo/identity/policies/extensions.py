"""Rules for /v3/policies and OS-EP-FILTER endpoint groups."""

from kumo.identity.policies.base import ADMIN_OR_SYSTEM_READER, rule

ADMIN = "rule:admin_required"

RULES = [
    rule("identity:get_policy", ADMIN_OR_SYSTEM_READER, "Show a policy blob."),
    rule("identity:list_policies", ADMIN_OR_SYSTEM_READER, "List policy blobs."),
    rule("identity:create_policy", ADMIN, "Store a policy blob."),
    rule("identity:update_policy", ADMIN, "Update a policy blob."),
    rule("identity:delete_policy", ADMIN, "Delete a policy blob."),
    rule("identity:get_endpoint_group", ADMIN_OR_SYSTEM_READER, "Show an endpoint group."),
    rule("identity:list_endpoint_groups", ADMIN_OR_SYSTEM_READER, "List endpoint groups."),
    rule("identity:create_endpoint_group", ADMIN, "Create an endpoint group."),
    rule("identity:update_endpoint_group", ADMIN, "Update an endpoint group."),
    rule("identity:delete_endpoint_group", ADMIN, "Delete an endpoint group."),
    rule(
        "identity:list_projects_associated_with_endpoint_group",
        ADMIN_OR_SYSTEM_READER,
        "Projects of an endpoint group.",
    ),
    rule(
        "identity:list_endpoint_groups_for_project",
        ADMIN_OR_SYSTEM_READER,
        "Endpoint groups of a project.",
    ),
    rule(
        "identity:get_endpoint_group_in_project",
        ADMIN_OR_SYSTEM_READER,
        "Check an endpoint group association.",
    ),
    rule(
        "identity:add_endpoint_group_to_project",
        ADMIN,
        "Associate an endpoint group with a project.",
    ),
    rule(
        "identity:remove_endpoint_group_from_project",
        ADMIN,
        "Dissociate an endpoint group from a project.",
    ),
]
