"""Every image policy rule, with its default (Glance's secure-RBAC defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault("context_is_admin", "role:admin", "Decides what is admin."),
]
