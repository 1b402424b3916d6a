"""Usage rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "placement:resource_providers:usages",
        "rule:admin_or_service_api",
        "List resource provider usages.",
    ),
    RuleDefault(
        "placement:usages",
        "rule:admin_or_project_reader_or_service_api",
        "List total resource usages for a given project.",
    ),
]
