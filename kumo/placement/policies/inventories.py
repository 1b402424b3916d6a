"""Resource provider inventory rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "placement:resource_providers:inventories:list",
        "rule:admin_or_service_api",
        "List resource provider inventories.",
    ),
    RuleDefault(
        "placement:resource_providers:inventories:create",
        "rule:admin_or_service_api",
        "Create one resource provider inventory.",
    ),
    RuleDefault(
        "placement:resource_providers:inventories:show",
        "rule:admin_or_service_api",
        "Show resource provider inventory.",
    ),
    RuleDefault(
        "placement:resource_providers:inventories:update",
        "rule:admin_or_service_api",
        "Update resource provider inventory.",
    ),
    RuleDefault(
        "placement:resource_providers:inventories:delete",
        "rule:admin_or_service_api",
        "Delete resource provider inventory.",
    ),
]
