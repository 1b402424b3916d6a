"""Trait and resource provider trait rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault("placement:traits:list", "rule:admin_or_service_api", "List traits."),
    RuleDefault("placement:traits:show", "rule:admin_or_service_api", "Show trait."),
    RuleDefault("placement:traits:update", "rule:admin_or_service_api", "Update trait."),
    RuleDefault("placement:traits:delete", "rule:admin_or_service_api", "Delete trait."),
    RuleDefault(
        "placement:resource_providers:traits:list",
        "rule:admin_or_service_api",
        "List resource provider traits.",
    ),
    RuleDefault(
        "placement:resource_providers:traits:update",
        "rule:admin_or_service_api",
        "Update resource provider traits.",
    ),
    RuleDefault(
        "placement:resource_providers:traits:delete",
        "rule:admin_or_service_api",
        "Delete resource provider traits.",
    ),
]
