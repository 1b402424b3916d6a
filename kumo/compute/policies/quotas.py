"""Rules for quota sets, quota classes and limits (Nova's defaults)."""

from kumo.common.policy import RuleDefault

ADMIN = "rule:context_is_admin"
READER_OR_ADMIN = "rule:project_reader_or_admin"
QS = "os_compute_api:os-quota-sets:%s"
QCS = "os_compute_api:os-quota-class-sets:%s"

RULES = [
    RuleDefault(
        QS % "update", ADMIN, "Update the quotas", (("PUT", "/os-quota-sets/{tenant_id}"),)
    ),
    RuleDefault(
        QS % "defaults",
        "@",
        "List default quotas",
        (("GET", "/os-quota-sets/{tenant_id}/defaults"),),
    ),
    RuleDefault(
        QS % "show", READER_OR_ADMIN, "Show a quota", (("GET", "/os-quota-sets/{tenant_id}"),)
    ),
    RuleDefault(
        QS % "delete",
        ADMIN,
        "Revert quotas to defaults",
        (("DELETE", "/os-quota-sets/{tenant_id}"),),
    ),
    RuleDefault(
        QS % "detail",
        READER_OR_ADMIN,
        "Show the detail of quota",
        (("GET", "/os-quota-sets/{tenant_id}/detail"),),
    ),
    RuleDefault(
        QCS % "show",
        ADMIN,
        "List quotas for specific quota classes",
        (("GET", "/os-quota-class-sets/{quota_class}"),),
    ),
    RuleDefault(
        QCS % "update",
        ADMIN,
        "Update quotas for specific quota class",
        (("PUT", "/os-quota-class-sets/{quota_class}"),),
    ),
    RuleDefault(
        "os_compute_api:limits",
        "@",
        "Show rate and absolute limits for the current user project",
        (("GET", "/limits"),),
    ),
    RuleDefault(
        "os_compute_api:limits:other_project",
        ADMIN,
        "Show rate and absolute limits of other project. This policy only checks if the user "
        "has access to the requested project limits. And this check is performed only after "
        "the check os_compute_api:limits passes",
        (("GET", "/limits"),),
    ),
]
