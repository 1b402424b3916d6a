"""Neutron's default policy rules for base (secure RBAC, as upstream)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault("context_is_admin", "role:admin", "Rule for cloud admin access"),
    RuleDefault(
        "context_with_global_access", "!", "Rule for context with global access to the resources"
    ),
    RuleDefault("service_api", "role:service", "Default rule for the service-to-service APIs."),
    RuleDefault("owner", "project_id:%(project_id)s", "Rule for resource owner access"),
    RuleDefault(
        "admin_or_owner", "rule:context_is_admin or rule:owner", "Rule for admin or owner access"
    ),
    RuleDefault("context_is_advsvc", "role:advsvc", "Rule for advsvc role access"),
    RuleDefault(
        "admin_or_network_owner",
        "rule:context_is_admin or project_id:%(network:project_id)s",
        "Rule for admin or network owner access",
    ),
    RuleDefault(
        "admin_owner_or_network_owner",
        "rule:owner or rule:admin_or_network_owner",
        "Rule for resource owner, admin or network owner access",
    ),
    RuleDefault(
        "network_owner", "project_id:%(network:project_id)s", "Rule for network owner access"
    ),
    RuleDefault("admin_only", "rule:context_is_admin", "Rule for admin-only access"),
    RuleDefault("regular_user", "", "Rule for regular user access"),
    RuleDefault("shared", "field:networks:shared=True", "Rule of shared network"),
    RuleDefault("default", "rule:admin_or_owner", "Default access rule"),
    RuleDefault(
        "admin_or_ext_parent_owner",
        "rule:context_is_admin or project_id:%(ext_parent:project_id)s",
        "Rule for common parent owner check",
    ),
    RuleDefault(
        "ext_parent_owner",
        "project_id:%(ext_parent:project_id)s",
        "Rule for common parent owner check",
    ),
    RuleDefault(
        "sg_owner",
        "project_id:%(security_group:project_id)s",
        "Rule for security group owner access",
    ),
]
