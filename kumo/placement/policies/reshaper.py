"""Reshaper rules (Placement's defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "placement:reshaper:reshape", "rule:service_api", "Reshape Inventory and Allocations."
    ),
]
