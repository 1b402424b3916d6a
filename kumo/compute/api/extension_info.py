"""The classic extension list Nova still serves at /extensions (static since Nova 2.1).

Nova keeps answering ``GET /extensions`` with the v2 extension names its v2.1 API
covers (clients and tempest look some up by alias); each entry has the same fixed
namespace, date and empty links as Nova's. The table names the extensions whose
APIs Kumo's compute service answers.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "http://docs.openstack.org/compute/ext/fake_xml"
UPDATED = "2014-12-03T00:00:00Z"

#: (name, alias, description) of each extension, sorted by alias as Nova sorts them.
EXTENSIONS: list[tuple[str, str, str]] = sorted(
    [
        ("AdminActions", "os-admin-actions", "Enable admin-only server actions."),
        ("AggregateAssociation", "os-aggregates", "Admin-only aggregate administration."),
        (
            "AvailabilityZone",
            "os-availability-zone",
            "1. Add availability_zone to the Create Server API. "
            "2. Add availability zones describing.",
        ),
        ("ConsoleOutput", "os-console-output", "Console log output support, with tailing ability."),
        ("Consoles", "os-consoles", "Interactive Console support."),
        ("CreateBackup", "os-create-backup", "Create a backup of a server."),
        ("DeferredDelete", "os-deferred-delete", "Instance deferred delete."),
        ("DiskConfig", "OS-DCF", "Disk Management Extension."),
        ("Evacuate", "os-evacuate", "Enables server evacuation."),
        ("ExtendedAvailabilityZone", "OS-EXT-AZ", "Extended Availability Zone support."),
        ("ExtendedIps", "OS-EXT-IPS", "Adds type parameter to the ip list."),
        ("ExtendedIpsMac", "OS-EXT-IPS-MAC", "Adds mac address parameter to the ip list."),
        ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "Extended Server Attributes support."),
        ("ExtendedStatus", "OS-EXT-STS", "Extended Status support."),
        ("FlavorAccess", "os-flavor-access", "Flavor access support."),
        ("FlavorExtraData", "OS-FLV-EXT-DATA", "Provide additional data for flavors."),
        ("FlavorExtraSpecs", "os-flavor-extra-specs", "Flavors extra specs support."),
        ("FlavorManage", "os-flavor-manage", "Flavor create/delete API support."),
        ("FlavorRxtx", "os-flavor-rxtx", "Support to show the rxtx status of a flavor."),
        ("FlavorSwap", "os-flavor-swap", "Support to show the swap status of a flavor."),
        ("FloatingIpPools", "os-floating-ip-pools", "Floating IPs support."),
        ("FloatingIps", "os-floating-ips", "Floating IPs support."),
        ("Hosts", "os-hosts", "Admin-only host administration."),
        ("Hypervisors", "os-hypervisors", "Admin-only hypervisor administration."),
        (
            "InstanceActions",
            "os-instance-actions",
            "View a log of actions and events taken on an instance.",
        ),
        ("InstanceUsageAuditLog", "os-instance_usage_audit_log", "Admin-only Task Log Monitoring."),
        ("Keypairs", "os-keypairs", "Keypair Support."),
        ("Lock", "os-lock-server", "Enable lock/unlock server actions."),
        ("Migrations", "os-migrations", "Provide data on migrations."),
        ("Networks", "os-networks", "Admin-only Network Management Extension."),
        ("PauseServer", "os-pause-server", "Enable pause/unpause server actions."),
        ("QuotaSets", "os-quota-sets", "Quotas management support."),
        ("Rescue", "os-rescue", "Instance rescue mode."),
        ("SecurityGroups", "os-security-groups", "Security group support."),
        (
            "ServerDiagnostics",
            "os-server-diagnostics",
            "Allow Admins to view server diagnostics through server action.",
        ),
        ("ServerExternalEvents", "os-server-external-events", "Server External Event Triggers."),
        ("ServerGroups", "os-server-groups", "Server group support."),
        ("ServerPassword", "os-server-password", "Server password support."),
        ("ServerStartStop", "os-server-start-stop", "Start/Stop instance compute API support."),
        ("ServerUsage", "OS-SRV-USG", "Adds launched_at and terminated_at on Servers."),
        ("Services", "os-services", "Services support."),
        ("Shelve", "os-shelve", "Instance shelve mode."),
        ("SimpleTenantUsage", "os-simple-tenant-usage", "Simple tenant usage extension."),
        ("SuspendServer", "os-suspend-server", "Enable suspend/resume server actions."),
        ("TenantNetworks", "os-tenant-networks", "Tenant-based Network Management Extension."),
        ("UsedLimits", "os-used-limits", "Provide data on limited resources that are being used."),
    ],
    key=lambda e: e[1],
)


def extension_view(name: str, alias: str, description: str) -> dict[str, Any]:
    """One extension as Nova shows it."""
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "namespace": NAMESPACE,
        "updated": UPDATED,
        "links": [],
    }


def all_extensions() -> list[dict[str, Any]]:
    """Every extension, sorted by alias."""
    return [extension_view(*entry) for entry in EXTENSIONS]


def find_extension(alias: str) -> dict[str, Any] | None:
    """The extension with ``alias``, or None."""
    for entry in EXTENSIONS:
        if entry[1] == alias:
            return extension_view(*entry)
    return None
