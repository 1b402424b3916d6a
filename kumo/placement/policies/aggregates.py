"""Resource provider aggregate rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "placement:resource_providers:aggregates:list",
        "rule:admin_or_service_api",
        "List resource provider aggregates.",
    ),
    RuleDefault(
        "placement:resource_providers:aggregates:update",
        "rule:admin_or_service_api",
        "Update resource provider aggregates.",
    ),
]
