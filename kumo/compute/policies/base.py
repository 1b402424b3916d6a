"""Nova's base rules, which the per-noun rules build on."""

from kumo.common.policy import RuleDefault

RULES = [
    RuleDefault("context_is_admin", "role:admin", "Decides what is admin (all projects)."),
    RuleDefault("admin_api", "role:admin", "Default rule for administrative APIs."),
    RuleDefault(
        "project_manager_api",
        "role:manager and project_id:%(project_id)s",
        "Default rule for project-level manager APIs.",
    ),
    RuleDefault(
        "project_member_api",
        "role:member and project_id:%(project_id)s",
        "Default rule for project-level member APIs.",
    ),
    RuleDefault(
        "project_reader_api",
        "role:reader and project_id:%(project_id)s",
        "Default rule for project-level read-only APIs.",
    ),
    RuleDefault(
        "project_member_or_admin",
        "rule:project_member_api or rule:context_is_admin",
        "Project members, or an admin of any project.",
    ),
    RuleDefault(
        "project_reader_or_admin",
        "rule:project_reader_api or rule:context_is_admin",
        "Project readers, or an admin of any project.",
    ),
    RuleDefault("any_user", "@", "Any authenticated user."),
]
