"""Glance's building blocks of check strings (``glance/policies/base.py``).

Glance writes visibility checks as literal-on-the-left checks such as
``'public':%(visibility)s``; :func:`literal_creds` supplies those literals as
credentials so the same strings (and operators' overrides in that syntax) work
with Kumo's policy engine.
"""

from kumo.common.policy import RuleDefault

PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"

IMAGE_MEMBER_CHECK = "project_id:%(member_id)s"
COMMUNITY_VISIBILITY_CHECK = "'community':%(visibility)s"
PUBLIC_VISIBILITY_CHECK = "'public':%(visibility)s"
SHARED_VISIBILITY_CHECK = "'shared':%(visibility)s"

_ANY_VISIBLE = (
    f"project_id:%(project_id)s or {IMAGE_MEMBER_CHECK} or {COMMUNITY_VISIBILITY_CHECK} "
    f"or {PUBLIC_VISIBILITY_CHECK} or {SHARED_VISIBILITY_CHECK}"
)

ADMIN = "rule:context_is_admin"
DEFAULT = "rule:default"
ADMIN_OR_PROJECT_MEMBER = f"{ADMIN} or ({PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"{ADMIN} or ({PROJECT_READER})"
ADMIN_OR_PROJECT_READER_GET_IMAGE = f"{ADMIN} or (role:reader and ({_ANY_VISIBLE}))"
ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE = f"{ADMIN} or (role:member and ({_ANY_VISIBLE}))"
ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE = f"{ADMIN} or ({PROJECT_MEMBER} and project_id:%(owner)s)"
ADMIN_OR_SHARED_MEMBER = f"{ADMIN} or (role:member and {IMAGE_MEMBER_CHECK})"
ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER = (
    f"{ADMIN} or role:reader and (project_id:%(project_id)s or {IMAGE_MEMBER_CHECK})"
)
SERVICE = "rule:service_api"

RULES = [
    RuleDefault(
        "default",
        "",
        "Defines the default rule used for policies that historically had an empty policy.",
    ),
    RuleDefault("context_is_admin", "role:admin", "Defines the rule for the is_admin:True check."),
    RuleDefault(
        "service_api", "role:service or role:admin", "Default rule for the service-to-service API."
    ),
]

#: The literal values Glance's ``'<literal>':%(attr)s`` checks compare against.
LITERALS = ("'public'", "'community'", "'shared'", "'private'")


def literal_creds(creds: dict[str, object]) -> dict[str, object]:
    """Credentials plus Glance's quoted literals, each standing for its own value."""
    return {**creds, **{lit: lit.strip("'") for lit in LITERALS}}
