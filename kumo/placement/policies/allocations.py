"""Allocation rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault("placement:allocations:manage", "rule:admin_or_service_api", "Manage allocations."),
    RuleDefault("placement:allocations:list", "rule:admin_or_service_api", "List allocations."),
    RuleDefault("placement:allocations:update", "rule:admin_or_service_api", "Update allocations."),
    RuleDefault("placement:allocations:delete", "rule:admin_or_service_api", "Delete allocations."),
    RuleDefault(
        "placement:resource_providers:allocations:list",
        "rule:admin_or_service_api",
        "List resource provider allocations.",
    ),
]
