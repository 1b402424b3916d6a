"""Building blocks of identity's rules, after Keystone's secure-RBAC defaults.

As in Keystone, ``admin_required`` is any token with the admin role (the
devstack-admin cloud is project-scoped), system readers may read everything,
and domain readers/admins are limited to their domain.
"""

from kumo.common.policy import RuleDefault

SYSTEM_READER = "(role:reader and system_scope:all)"
ADMIN_OR_SYSTEM_READER = "rule:admin_required or " + SYSTEM_READER


def domain_reader(attr: str) -> str:
    """A reader scoped to the domain named by target attribute ``attr``."""
    return f"(role:reader and domain_id:%(target.{attr})s)"


def domain_admin(attr: str) -> str:
    """An admin scoped to the domain named by target attribute ``attr``."""
    return f"(role:admin and domain_id:%(target.{attr})s)"


def rule(name: str, check: str, description: str, *ops: tuple[str, str]) -> RuleDefault:
    """Shorthand for a rule with its guarded operations."""
    return RuleDefault(name, check, description, tuple(ops))


RULES = [
    rule("admin_required", "role:admin or is_admin:1", "Legacy admin rule."),
    rule("service_role", "role:service", "A service user."),
    rule("service_or_admin", "rule:admin_required or rule:service_role", "Service or admin."),
    rule("owner", "user_id:%(user_id)s", "The user named in the URL."),
    rule("admin_or_owner", "rule:admin_required or rule:owner", "Admin or the URL's user."),
    rule("token_subject", "user_id:%(target.token.user_id)s", "The token's own user."),
    rule(
        "service_admin_or_token_subject",
        "rule:service_or_admin or rule:token_subject",
        "Service, admin, or the subject token's user.",
    ),
]
