"""Every identity policy rule, with its default."""

from kumo.common.policy import RuleDefault
from kumo.identity.policies import (
    auth,
    base,
    catalog,
    credentials,
    domains,
    extensions,
    groups,
    projects,
    roles,
    users,
)

RULES: list[RuleDefault] = [
    *base.RULES,
    *auth.RULES,
    *domains.RULES,
    *projects.RULES,
    *users.RULES,
    *groups.RULES,
    *roles.RULES,
    *catalog.RULES,
    *credentials.RULES,
    *extensions.RULES,
]
