"""Nova's servers policies (``nova/policies/servers.py`` and the per-extension files).

Check strings are Nova's secure-RBAC defaults.
"""

from kumo.common.policy import RuleDefault

ADMIN = "rule:context_is_admin"
MEMBER = "rule:project_member_or_admin"
READER = "rule:project_reader_or_admin"
MANAGER = "rule:project_manager_api or rule:context_is_admin"

SERVERS = "os_compute_api:servers:%s"
#: Guards the ``/servers/{id}/action`` route itself; each action then checks its own rule.
ACTION_ROUTE = "os_compute_api:servers:action"
EXTENDED_ATTRIBUTES = "os_compute_api:os-extended-server-attributes"
REQUESTED_DESTINATION = "compute:servers:create:requested_destination"


def _servers(name: str, check: str, description: str) -> RuleDefault:
    return RuleDefault(SERVERS % name, check, description)


RULES = [
    _servers("index", READER, "List all servers"),
    _servers("detail", READER, "List all servers with detailed information"),
    _servers("index:get_all_tenants", ADMIN, "List all servers for all projects"),
    _servers("detail:get_all_tenants", ADMIN, "List all servers with details for all projects"),
    _servers("allow_all_filters", ADMIN, "Allow all filters when listing servers"),
    _servers("show", READER, "Show a server"),
    _servers(
        "show:flavor-extra-specs",
        READER,
        "Starting with microversion 2.47, the flavor"
        " and its extra specs are shown in server responses",
    ),
    _servers("show:host_status", ADMIN, "Show a server with additional host status"),
    _servers("show:host_status:unknown-only", ADMIN, "Show host status only when UNKNOWN"),
    _servers("create", MEMBER, "Create a server"),
    _servers("create:forced_host", ADMIN, "Create a server on the specified host and/or node"),
    RuleDefault(
        REQUESTED_DESTINATION,
        ADMIN,
        "Create a server on the requested compute host and/or node (2.74)",
    ),
    _servers("create:attach_volume", MEMBER, "Create a server with the requested volume"),
    _servers("create:attach_network", MEMBER, "Create a server with the requested network"),
    _servers("create:trusted_certs", MEMBER, "Create a server with trusted image certificates"),
    _servers(
        "create:zero_disk_flavor", ADMIN, "Create an image-backed server with a zero disk flavor"
    ),
    _servers("delete", MEMBER, "Delete a server"),
    _servers("update", MEMBER, "Update a server"),
    _servers("confirm_resize", MEMBER, "Confirm a server resize"),
    _servers("revert_resize", MEMBER, "Revert a server resize"),
    _servers("reboot", MEMBER, "Reboot a server"),
    _servers("resize", MEMBER, "Resize a server"),
    _servers("rebuild", MEMBER, "Rebuild a server"),
    _servers("rebuild:trusted_certs", MEMBER, "Rebuild a server with trusted certificates"),
    _servers("create_image", MEMBER, "Create an image from a server"),
    _servers(
        "create_image:allow_volume_backed", MEMBER, "Create an image from a volume-backed server"
    ),
    _servers("start", MEMBER, "Start a server"),
    _servers("stop", MEMBER, "Stop a server"),
    _servers("trigger_crash_dump", MEMBER, "Trigger crash dump in a server"),
    RuleDefault(
        ACTION_ROUTE,
        "@",
        "Reach the server action route; every action is then checked against its own rule (Kumo)",
    ),
    RuleDefault(EXTENDED_ATTRIBUTES, ADMIN, "Return extended attributes for server"),
    RuleDefault("os_compute_api:os-lock-server:lock", MEMBER, "Lock a server"),
    RuleDefault("os_compute_api:os-lock-server:unlock", MEMBER, "Unlock a server"),
    RuleDefault(
        "os_compute_api:os-lock-server:unlock:unlock_override",
        ADMIN,
        "Unlock a server, regardless who locked the server",
    ),
    RuleDefault("os_compute_api:os-pause-server:pause", MEMBER, "Pause a server"),
    RuleDefault("os_compute_api:os-pause-server:unpause", MEMBER, "Unpause a paused server"),
    RuleDefault("os_compute_api:os-suspend-server:suspend", MEMBER, "Suspend server"),
    RuleDefault("os_compute_api:os-suspend-server:resume", MEMBER, "Resume suspended server"),
    RuleDefault("os_compute_api:os-shelve:shelve", MEMBER, "Shelve server"),
    RuleDefault("os_compute_api:os-shelve:unshelve", MEMBER, "Unshelve (restore) shelved server"),
    RuleDefault(
        "os_compute_api:os-shelve:unshelve_to_host",
        ADMIN,
        "Unshelve (restore) shelve offloaded server to a specific host",
    ),
    RuleDefault("os_compute_api:os-shelve:shelve_offload", ADMIN, "Shelf-offload (remove) server"),
    RuleDefault("os_compute_api:os-rescue", MEMBER, "Rescue a server"),
    RuleDefault("os_compute_api:os-unrescue", MEMBER, "Unrescue a server"),
    RuleDefault(
        "os_compute_api:os-evacuate", ADMIN, "Evacuate a server from a failed host to a new host"
    ),
    RuleDefault(
        "os_compute_api:os-migrate-server:migrate",
        MANAGER,
        "Cold migrate a server without specifying a host",
    ),
    RuleDefault(
        "os_compute_api:os-migrate-server:migrate:host",
        ADMIN,
        "Cold migrate a server to a specified host",
    ),
    RuleDefault(
        "os_compute_api:os-migrate-server:migrate_live",
        MANAGER,
        "Live migrate a server to a new host without a reboot",
    ),
    RuleDefault(
        "os_compute_api:os-migrate-server:migrate_live:host",
        ADMIN,
        "Live migrate a server to a specified host without a reboot",
    ),
    RuleDefault("os_compute_api:os-console-output", MEMBER, "Show console output for a server"),
    RuleDefault("os_compute_api:os-create-backup", MEMBER, "Create a back up of a server"),
    RuleDefault(
        "os_compute_api:os-admin-actions:inject_network_info",
        ADMIN,
        "Inject network information into the server",
    ),
    RuleDefault("os_compute_api:os-server-diagnostics", ADMIN, "Show the usage data for a server"),
    RuleDefault("os_compute_api:os-security-groups:add", MEMBER, "Add security groups to server"),
    RuleDefault(
        "os_compute_api:os-security-groups:remove", MEMBER, "Remove security groups from server"
    ),
    RuleDefault(
        "os_compute_api:os-deferred-delete:restore", MEMBER, "Restore a soft deleted server"
    ),
    RuleDefault(
        "os_compute_api:os-deferred-delete:force",
        MEMBER,
        "Force delete a server before deferred cleanup",
    ),
    RuleDefault(
        "os_compute_api:os-admin-actions:reset_state", ADMIN, "Reset the state of a given server"
    ),
    RuleDefault(
        "os_compute_api:os-admin-password",
        MEMBER,
        "Change the administrative password for a server",
    ),
    RuleDefault(
        "os_compute_api:ips:index", READER, "List IP addresses that are assigned to a server"
    ),
    RuleDefault(
        "os_compute_api:ips:show",
        READER,
        "Show IP addresses details for a network label of a server",
    ),
    RuleDefault(
        "os_compute_api:os-server-password:show",
        READER,
        "Show the encrypted administrative password of a server",
    ),
    RuleDefault(
        "os_compute_api:os-server-password:clear",
        MEMBER,
        "Clear the encrypted administrative password of a server",
    ),
]
