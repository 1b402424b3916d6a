"""Neutron's default policy rules for security groups (secure RBAC, as upstream)."""
# ruff: noqa: E501  (check strings are kept verbatim from upstream, one per line)

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "admin_or_sg_owner",
        "rule:context_is_admin or project_id:%(security_group:project_id)s",
        "Rule for admin or security group owner access",
    ),
    RuleDefault(
        "admin_owner_or_sg_owner",
        "rule:owner or rule:admin_or_sg_owner",
        "Rule for resource owner, admin or security group owner access",
    ),
    RuleDefault(
        "shared_security_group",
        "field:security_groups:shared=True",
        "Definition of a shared security group",
    ),
    RuleDefault(
        "rule_default_sg",
        "field:security_group_rules:belongs_to_default_sg=True",
        "Definition of a security group rule that belongs to the project default security group",
    ),
    RuleDefault(
        "create_security_group",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create a security group",
        operations=(("POST", "/v2.0/security-groups"),),
    ),
    RuleDefault(
        "create_security_group:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create the security group tags",
        operations=(("POST", "/v2.0/security-groups/{id}/tags"),),
    ),
    RuleDefault(
        "get_security_group",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s) or rule:shared_security_group",
        "Get a security group",
        operations=(
            ("GET", "/v2.0/security-groups"),
            ("GET", "/v2.0/security-groups/{id}"),
        ),
    ),
    RuleDefault(
        "get_security_group:tags",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s) or rule:shared_security_group",
        "Get the security group tags",
        operations=(
            ("GET", "/v2.0/security-groups/{id}/tags"),
            ("GET", "/v2.0/security-groups/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "update_security_group",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update a security group",
        operations=(("PUT", "/v2.0/security-groups/{id}"),),
    ),
    RuleDefault(
        "update_security_group:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update the security group tags",
        operations=(
            ("PUT", "/v2.0/security-groups/{id}/tags"),
            ("PUT", "/v2.0/security-groups/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "delete_security_group",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete a security group",
        operations=(("DELETE", "/v2.0/security-groups/{id}"),),
    ),
    RuleDefault(
        "delete_security_group:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete the security group tags",
        operations=(
            ("DELETE", "/v2.0/security-groups/{id}/tags"),
            ("DELETE", "/v2.0/security-groups/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "create_security_group_rule",
        "(rule:admin_only) or (role:member and rule:sg_owner)",
        "Create a security group rule",
        operations=(("POST", "/v2.0/security-group-rules"),),
    ),
    RuleDefault(
        "get_security_group_rule",
        "(rule:admin_only) or (role:reader and rule:sg_owner)",
        "Get a security group rule",
        operations=(
            ("GET", "/v2.0/security-group-rules"),
            ("GET", "/v2.0/security-group-rules/{id}"),
        ),
    ),
    RuleDefault(
        "delete_security_group_rule",
        "(rule:admin_only) or (role:member and rule:sg_owner)",
        "Delete a security group rule",
        operations=(("DELETE", "/v2.0/security-group-rules/{id}"),),
    ),
]
