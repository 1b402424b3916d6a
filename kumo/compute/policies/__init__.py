"""Every compute policy rule, with its default (Nova's secure-RBAC defaults)."""

from kumo.common.policy import RuleDefault
from kumo.compute.policies import base

RULES: list[RuleDefault] = [
    *base.RULES,
]
