"""Neutron's default policy rules for quotas (secure RBAC, as upstream)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "get_quota",
        "(rule:admin_only) or (role:manager and project_id:%(project_id)s)",
        "Get a resource quota",
        operations=(
            ("GET", "/v2.0/quota"),
            ("GET", "/v2.0/quota/{id}"),
        ),
    ),
    RuleDefault(
        "update_quota",
        "rule:admin_only",
        "Update a resource quota",
        operations=(("PUT", "/v2.0/quota/{id}"),),
    ),
    RuleDefault(
        "delete_quota",
        "rule:admin_only",
        "Delete a resource quota",
        operations=(("DELETE", "/v2.0/quota/{id}"),),
    ),
]
