"""Every placement policy rule, with its default (Placement's secure-RBAC defaults)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault("admin_api", "role:admin", "Default rule for most placement APIs."),
    RuleDefault(
        "service_api", "role:service", "Default rule for service-to-service placement APIs."
    ),
    RuleDefault(
        "admin_or_service_api",
        "role:admin or role:service",
        "Default rule for placement APIs open to admins and services.",
    ),
]
