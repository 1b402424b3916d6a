"""Nova's rules for its nova-network proxy APIs and the admin operations reports.

Check strings are Nova's secure-RBAC defaults (``nova/policies/security_groups.py``,
``floating_ips.py``, ``floating_ip_pools.py``, ``networks.py``, ``tenant_networks.py``,
``migrations.py``, ``instance_usage_audit_log.py``, ``server_external_events.py``).
"""

from kumo.common.policy import RuleDefault

ADMIN = "rule:context_is_admin"
MEMBER = "rule:project_member_or_admin"
READER = "rule:project_reader_or_admin"
#: Neutron and Cinder post external events with a ``service`` role token.
SERVICE = "role:service or rule:context_is_admin"

SG = "os_compute_api:os-security-groups:%s"
FIP = "os_compute_api:os-floating-ips:%s"
SG_PATH = "/os-security-groups/{security_group_id}"
FIP_PATH = "/os-floating-ips/{floating_ip_id}"

RULES = [
    RuleDefault(SG % "get", READER, "List security groups", (("GET", "/os-security-groups"),)),
    RuleDefault(SG % "show", READER, "Show security group", (("GET", SG_PATH),)),
    RuleDefault(SG % "create", MEMBER, "Create security group", (("POST", "/os-security-groups"),)),
    RuleDefault(SG % "update", MEMBER, "Update security group", (("PUT", SG_PATH),)),
    RuleDefault(SG % "delete", MEMBER, "Delete security group", (("DELETE", SG_PATH),)),
    RuleDefault(
        SG % "rule:create",
        MEMBER,
        "Create security group Rule",
        (("POST", "/os-security-group-rules"),),
    ),
    RuleDefault(
        SG % "rule:delete",
        MEMBER,
        "Delete security group Rule",
        (("DELETE", "/os-security-group-rules/{security_group_id}"),),
    ),
    RuleDefault(
        SG % "list",
        READER,
        "List security groups of server.",
        (("GET", "/servers/{server_id}/os-security-groups"),),
    ),
    RuleDefault(
        FIP % "add",
        MEMBER,
        "Associate floating IPs to server (removed in 2.44).",
        (("POST", "/servers/{server_id}/action (addFloatingIp)"),),
    ),
    RuleDefault(
        FIP % "remove",
        MEMBER,
        "Disassociate floating IPs to server (removed in 2.44).",
        (("POST", "/servers/{server_id}/action (removeFloatingIp)"),),
    ),
    RuleDefault(
        FIP % "list", READER, "List floating IPs (removed in 2.36).", (("GET", "/os-floating-ips"),)
    ),
    RuleDefault(
        FIP % "create",
        MEMBER,
        "Create floating IPs (removed in 2.36).",
        (("POST", "/os-floating-ips"),),
    ),
    RuleDefault(FIP % "show", READER, "Show floating IPs (removed in 2.36).", (("GET", FIP_PATH),)),
    RuleDefault(
        FIP % "delete", MEMBER, "Delete floating IPs (removed in 2.36).", (("DELETE", FIP_PATH),)
    ),
    RuleDefault(
        "os_compute_api:os-floating-ip-pools",
        "@",
        "List floating IP pools (removed in 2.36).",
        (("GET", "/os-floating-ip-pools"),),
    ),
    RuleDefault(
        "os_compute_api:os-networks:list",
        READER,
        "List networks as nova-network showed them (removed in 2.36).",
        (("GET", "/os-networks"),),
    ),
    RuleDefault(
        "os_compute_api:os-networks:view",
        READER,
        "Show network details (removed in 2.36).",
        (("GET", "/os-networks/{network_id}"),),
    ),
    RuleDefault(
        "os_compute_api:os-tenant-networks:list",
        READER,
        "List project networks (removed in 2.36).",
        (("GET", "/os-tenant-networks"),),
    ),
    RuleDefault(
        "os_compute_api:os-tenant-networks:show",
        READER,
        "Show project network details (removed in 2.36).",
        (("GET", "/os-tenant-networks/{network_id}"),),
    ),
    RuleDefault(
        "os_compute_api:os-migrations:index",
        ADMIN,
        "List migrations",
        (("GET", "/os-migrations"),),
    ),
    RuleDefault(
        "os_compute_api:servers:migrations:index",
        ADMIN,
        "Lists in-progress live migrations for a given server (2.23+).",
        (("GET", "/servers/{server_id}/migrations"),),
    ),
    RuleDefault(
        "os_compute_api:servers:migrations:show",
        ADMIN,
        "Show details for an in-progress live migration for a given server (2.23+).",
        (("GET", "/servers/{server_id}/migrations/{migration_id}"),),
    ),
    RuleDefault(
        "os_compute_api:servers:migrations:force_complete",
        ADMIN,
        "Force an in-progress live migration for a given server to complete (2.22+).",
        (("POST", "/servers/{server_id}/migrations/{migration_id}/action (force_complete)"),),
    ),
    RuleDefault(
        "os_compute_api:servers:migrations:delete",
        ADMIN,
        "Delete(Abort) an in-progress live migration (2.24+).",
        (("DELETE", "/servers/{server_id}/migrations/{migration_id}"),),
    ),
    RuleDefault(
        "os_compute_api:os-instance-usage-audit-log:list",
        ADMIN,
        "List all usage audits.",
        (("GET", "/os-instance_usage_audit_log"),),
    ),
    RuleDefault(
        "os_compute_api:os-instance-usage-audit-log:show",
        ADMIN,
        "List all usage audits occurred before a specified time for all servers on all "
        "compute hosts where usage auditing is configured",
        (("GET", "/os-instance_usage_audit_log/{before_timestamp}"),),
    ),
    RuleDefault(
        "os_compute_api:os-server-external-events:create",
        SERVICE,
        "Create one or more external events",
        (("POST", "/os-server-external-events"),),
    ),
]
