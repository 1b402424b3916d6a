"""Allocation candidate rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "placement:allocation_candidates:list",
        "rule:admin_or_service_api",
        "List allocation candidates.",
    ),
]
