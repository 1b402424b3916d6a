"""Resource provider rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "placement:resource_providers:list", "rule:admin_or_service_api", "List resource providers."
    ),
    RuleDefault(
        "placement:resource_providers:create",
        "rule:admin_or_service_api",
        "Create resource provider.",
    ),
    RuleDefault(
        "placement:resource_providers:show", "rule:admin_or_service_api", "Show resource provider."
    ),
    RuleDefault(
        "placement:resource_providers:update",
        "rule:admin_or_service_api",
        "Update resource provider.",
    ),
    RuleDefault(
        "placement:resource_providers:delete",
        "rule:admin_or_service_api",
        "Delete resource provider.",
    ),
]
