"""Neutron's default policy rules for floatingips (secure RBAC, as upstream)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "create_floatingip",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create a floating IP",
        operations=(("POST", "/v2.0/floatingips"),),
    ),
    RuleDefault(
        "create_floatingip:floating_ip_address",
        "(rule:admin_only) or (role:manager and project_id:%(project_id)s)",
        "Create a floating IP with a specific IP address",
        operations=(("POST", "/v2.0/floatingips"),),
    ),
    RuleDefault(
        "create_floatingip:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create the floating IP tags",
        operations=(("POST", "/v2.0/floatingips/{id}/tags"),),
    ),
    RuleDefault(
        "get_floatingip",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s)",
        "Get a floating IP",
        operations=(
            ("GET", "/v2.0/floatingips"),
            ("GET", "/v2.0/floatingips/{id}"),
        ),
    ),
    RuleDefault(
        "get_floatingip:tags",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s)",
        "Get the floating IP tags",
        operations=(
            ("GET", "/v2.0/floatingips/{id}/tags"),
            ("GET", "/v2.0/floatingips/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "update_floatingip",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update a floating IP",
        operations=(("PUT", "/v2.0/floatingips/{id}"),),
    ),
    RuleDefault(
        "update_floatingip:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update the floating IP tags",
        operations=(
            ("PUT", "/v2.0/floatingips/{id}/tags"),
            ("PUT", "/v2.0/floatingips/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "delete_floatingip",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete a floating IP",
        operations=(("DELETE", "/v2.0/floatingips/{id}"),),
    ),
    RuleDefault(
        "delete_floatingip:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete the floating IP tags",
        operations=(
            ("DELETE", "/v2.0/floatingips/{id}/tags"),
            ("DELETE", "/v2.0/floatingips/{id}/tags/{tag_id}"),
        ),
    ),
]
