"""Neutron's default policy rule for service providers (secure RBAC, as upstream)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    # Upstream's check is a bare role check: service providers belong to no project.
    RuleDefault(
        "get_service_provider",
        "role:reader",
        "Get service providers",
        operations=(("GET", "/v2.0/service-providers"),),
    ),
]
