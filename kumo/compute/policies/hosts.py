"""Rules for aggregates, availability zones, services and hypervisors (Nova's defaults)."""

from kumo.common.policy import RuleDefault

ADMIN = "rule:context_is_admin"
AGG = "os_compute_api:os-aggregates:%s"
AZ = "os_compute_api:os-availability-zone:%s"
SVC = "os_compute_api:os-services:%s"
HYP = "os_compute_api:os-hypervisors:%s"
AGG_PATH = "/os-aggregates/{aggregate_id}"

RULES = [
    RuleDefault(
        AGG % "set_metadata",
        ADMIN,
        "Create or replace metadata for an aggregate",
        (("POST", AGG_PATH + "/action (set_metadata)"),),
    ),
    RuleDefault(
        AGG % "add_host",
        ADMIN,
        "Add a host to an aggregate",
        (("POST", AGG_PATH + "/action (add_host)"),),
    ),
    RuleDefault(AGG % "create", ADMIN, "Create an aggregate", (("POST", "/os-aggregates"),)),
    RuleDefault(
        AGG % "remove_host",
        ADMIN,
        "Remove a host from an aggregate",
        (("POST", AGG_PATH + "/action (remove_host)"),),
    ),
    RuleDefault(
        AGG % "update",
        ADMIN,
        "Update name and/or availability zone for an aggregate",
        (("PUT", AGG_PATH),),
    ),
    RuleDefault(AGG % "index", ADMIN, "List all aggregates", (("GET", "/os-aggregates"),)),
    RuleDefault(AGG % "delete", ADMIN, "Delete an aggregate", (("DELETE", AGG_PATH),)),
    RuleDefault(AGG % "show", ADMIN, "Show details for an aggregate", (("GET", AGG_PATH),)),
    RuleDefault(
        "compute:aggregates:images",
        ADMIN,
        "Request image caching for an aggregate",
        (("POST", AGG_PATH + "/images"),),
    ),
    RuleDefault(
        AZ % "list",
        "@",
        "List availability zone information without host information",
        (("GET", "/os-availability-zone"),),
    ),
    RuleDefault(
        AZ % "detail",
        ADMIN,
        "List detailed availability zone information with host information",
        (("GET", "/os-availability-zone/detail"),),
    ),
    RuleDefault(
        SVC % "list",
        ADMIN,
        "List all running Compute services in a region.",
        (("GET", "/os-services"),),
    ),
    RuleDefault(
        SVC % "update",
        ADMIN,
        "Update a Compute service.",
        (("PUT", "/os-services/{service_id}"),),
    ),
    RuleDefault(
        SVC % "delete",
        ADMIN,
        "Delete a Compute service.",
        (("DELETE", "/os-services/{service_id}"),),
    ),
    RuleDefault(HYP % "list", ADMIN, "List all hypervisors.", (("GET", "/os-hypervisors"),)),
    RuleDefault(
        HYP % "list-detail",
        ADMIN,
        "List all hypervisors with details",
        (("GET", "/os-hypervisors/details"),),
    ),
    RuleDefault(
        HYP % "statistics",
        ADMIN,
        "Show summary statistics for all hypervisors over all compute nodes.",
        (("GET", "/os-hypervisors/statistics"),),
    ),
    RuleDefault(
        HYP % "show",
        ADMIN,
        "Show details for a hypervisor.",
        (("GET", "/os-hypervisors/{hypervisor_id}"),),
    ),
    RuleDefault(
        HYP % "uptime",
        ADMIN,
        "Show the uptime of a hypervisor.",
        (("GET", "/os-hypervisors/{hypervisor_id}/uptime"),),
    ),
    RuleDefault(
        HYP % "search",
        ADMIN,
        "Search hypervisor by hypervisor_hostname pattern.",
        (("GET", "/os-hypervisors/{hypervisor_hostname_pattern}/search"),),
    ),
    RuleDefault(
        HYP % "servers",
        ADMIN,
        "List all servers on hypervisors that can match the provided hypervisor_hostname_pattern.",
        (("GET", "/os-hypervisors/{hypervisor_hostname_pattern}/servers"),),
    ),
    *(
        RuleDefault(
            "os_compute_api:os-hosts:" + name,
            ADMIN,
            description,
            ((method, path),),
        )
        for name, description, method, path in (
            ("list", "List physical hosts (removed in 2.43).", "GET", "/os-hosts"),
            ("show", "Show physical host (removed in 2.43).", "GET", "/os-hosts/{host_name}"),
            ("update", "Update physical host (removed in 2.43).", "PUT", "/os-hosts/{host_name}"),
            ("reboot", "Reboot physical host.", "GET", "/os-hosts/{host_name}/reboot"),
            ("shutdown", "Shutdown physical host.", "GET", "/os-hosts/{host_name}/shutdown"),
            ("start", "Start physical host.", "GET", "/os-hosts/{host_name}/startup"),
        )
    ),
    RuleDefault(
        "os_compute_api:extensions",
        "@",
        "List available extensions and show information for an extension by alias",
        (("GET", "/extensions"), ("GET", "/extensions/{alias}")),
    ),
]
