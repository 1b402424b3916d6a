"""Resource class rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "placement:resource_classes:list", "rule:admin_or_service_api", "List resource classes."
    ),
    RuleDefault(
        "placement:resource_classes:create", "rule:admin_or_service_api", "Create resource class."
    ),
    RuleDefault(
        "placement:resource_classes:show", "rule:admin_or_service_api", "Show resource class."
    ),
    RuleDefault(
        "placement:resource_classes:update", "rule:admin_or_service_api", "Update resource class."
    ),
    RuleDefault(
        "placement:resource_classes:delete", "rule:admin_or_service_api", "Delete resource class."
    ),
]
