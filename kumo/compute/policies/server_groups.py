"""Rules for server groups (Nova's defaults)."""

from kumo.common.policy import RuleDefault

ROOT = "os_compute_api:os-server-groups:%s"

RULES = [
    RuleDefault(
        ROOT % "create",
        "rule:project_member_or_admin",
        "Create a new server group",
        (("POST", "/os-server-groups"),),
    ),
    RuleDefault(
        ROOT % "delete",
        "rule:project_member_or_admin",
        "Delete a server group",
        (("DELETE", "/os-server-groups/{server_group_id}"),),
    ),
    RuleDefault(
        ROOT % "index",
        "rule:project_reader_or_admin",
        "List all server groups",
        (("GET", "/os-server-groups"),),
    ),
    RuleDefault(
        ROOT % "index:all_projects",
        "rule:context_is_admin",
        "List all server groups for all projects",
        (("GET", "/os-server-groups"),),
    ),
    RuleDefault(
        ROOT % "show",
        "rule:project_reader_or_admin",
        "Show details of a server group",
        (("GET", "/os-server-groups/{server_group_id}"),),
    ),
]
