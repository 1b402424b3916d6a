"""Every placement policy rule, with its default (Placement's secure-RBAC defaults)."""

from kumo.common.policy import RuleDefault
from kumo.placement.policies import (
    aggregates,
    allocation_candidates,
    allocations,
    inventories,
    reshaper,
    resource_classes,
    resource_providers,
    traits,
    usages,
)

BASE: list[RuleDefault] = [
    RuleDefault("admin_api", "role:admin", "Default rule for most placement APIs."),
    RuleDefault(
        "service_api", "role:service", "Default rule for service-to-service placement APIs."
    ),
    RuleDefault(
        "admin_or_service_api",
        "role:admin or role:service",
        "Default rule for placement APIs open to admins and services.",
    ),
    RuleDefault(
        "project_reader_api",
        "role:reader and project_id:%(project_id)s",
        "Default rule for Project level reader APIs.",
    ),
    RuleDefault(
        "admin_or_project_reader_or_service_api",
        "role:admin or rule:project_reader_api or role:service",
        "Default rule for project level reader APIs.",
    ),
]

RULES: list[RuleDefault] = [
    *BASE,
    *resource_providers.RULES,
    *inventories.RULES,
    *aggregates.RULES,
    *traits.RULES,
    *resource_classes.RULES,
    *allocations.RULES,
    *usages.RULES,
    *allocation_candidates.RULES,
    *reshaper.RULES,
]
