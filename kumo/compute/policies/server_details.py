"""Nova's policies for a server's metadata, tags, actions and usage."""

from kumo.common.policy import RuleDefault

ADMIN = "rule:context_is_admin"
MEMBER = "rule:project_member_or_admin"
READER = "rule:project_reader_or_admin"

RULES = [
    RuleDefault("os_compute_api:server-metadata:index", READER, "List all metadata of a server"),
    RuleDefault("os_compute_api:server-metadata:show", READER, "Show metadata for a server"),
    RuleDefault("os_compute_api:server-metadata:create", MEMBER, "Create metadata for a server"),
    RuleDefault(
        "os_compute_api:server-metadata:update_all", MEMBER, "Replace metadata for a server"
    ),
    RuleDefault("os_compute_api:server-metadata:update", MEMBER, "Update metadata from a server"),
    RuleDefault("os_compute_api:server-metadata:delete", MEMBER, "Delete metadata from a server"),
    RuleDefault("os_compute_api:os-server-tags:delete_all", MEMBER, "Delete all the server tags"),
    RuleDefault("os_compute_api:os-server-tags:index", READER, "List all tags for given server"),
    RuleDefault(
        "os_compute_api:os-server-tags:update_all",
        MEMBER,
        "Replace all tags on specified server with the new set of tags.",
    ),
    RuleDefault(
        "os_compute_api:os-server-tags:delete",
        MEMBER,
        "Delete a single tag from the specified server",
    ),
    RuleDefault(
        "os_compute_api:os-server-tags:update",
        MEMBER,
        "Add a single tag to the server if server has no specified tag",
    ),
    RuleDefault("os_compute_api:os-server-tags:show", READER, "Check tag existence on the server."),
    RuleDefault(
        "os_compute_api:os-instance-actions:events:details",
        ADMIN,
        "Add 'details' in action events for a server.",
    ),
    RuleDefault(
        "os_compute_api:os-instance-actions:events",
        ADMIN,
        "Add events details in action details for a server.",
    ),
    RuleDefault("os_compute_api:os-instance-actions:list", READER, "List actions for a server."),
    RuleDefault(
        "os_compute_api:os-instance-actions:show", READER, "Show action details for a server."
    ),
    RuleDefault(
        "os_compute_api:os-simple-tenant-usage:show",
        READER,
        "Show usage statistics for a specific tenant",
    ),
    RuleDefault(
        "os_compute_api:os-simple-tenant-usage:list",
        ADMIN,
        "List per tenant usage statistics for all tenants",
    ),
]
