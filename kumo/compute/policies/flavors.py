"""Rules for flavors, their extra specs and access lists (Nova's defaults)."""

from kumo.common.policy import RuleDefault

ADMIN = "rule:context_is_admin"
READER_OR_ADMIN = "rule:project_reader_or_admin"
MANAGE = "os_compute_api:os-flavor-manage:%s"
SPECS = "os_compute_api:os-flavor-extra-specs:%s"
ACCESS = "os_compute_api:os-flavor-access"

RULES = [
    # Nova checks no policy to read flavors; Kumo names the rule so every route has one.
    RuleDefault(
        "os_compute_api:flavors:index",
        "@",
        "List flavors (Nova checks no rule here; any user).",
        (("GET", "/flavors"), ("GET", "/flavors/detail")),
    ),
    RuleDefault(
        "os_compute_api:flavors:show",
        "@",
        "Show a flavor (Nova checks no rule here; any user).",
        (("GET", "/flavors/{flavor_id}"),),
    ),
    RuleDefault(MANAGE % "create", ADMIN, "Create a flavor", (("POST", "/flavors"),)),
    RuleDefault(MANAGE % "update", ADMIN, "Update a flavor", (("PUT", "/flavors/{flavor_id}"),)),
    RuleDefault(MANAGE % "delete", ADMIN, "Delete a flavor", (("DELETE", "/flavors/{flavor_id}"),)),
    RuleDefault(
        SPECS % "index",
        READER_OR_ADMIN,
        "List extra specs for a flavor. Starting with microversion 2.47, the flavor used for "
        "a server is also returned in the response when showing server details, updating a "
        "server or rebuilding a server. Starting with microversion 2.61, extra specs may be "
        "returned in responses for the flavor resource.",
        (("GET", "/flavors/{flavor_id}/os-extra_specs/"),),
    ),
    RuleDefault(
        SPECS % "show",
        READER_OR_ADMIN,
        "Show an extra spec for a flavor",
        (("GET", "/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),),
    ),
    RuleDefault(
        SPECS % "create",
        ADMIN,
        "Create extra specs for a flavor",
        (("POST", "/flavors/{flavor_id}/os-extra_specs/"),),
    ),
    RuleDefault(
        SPECS % "update",
        ADMIN,
        "Update an extra spec for a flavor",
        (("PUT", "/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),),
    ),
    RuleDefault(
        SPECS % "delete",
        ADMIN,
        "Delete an extra spec for a flavor",
        (("DELETE", "/flavors/{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),),
    ),
    RuleDefault(
        ACCESS + ":add_tenant_access",
        ADMIN,
        "Add flavor access to a tenant",
        (("POST", "/flavors/{flavor_id}/action (addTenantAccess)"),),
    ),
    RuleDefault(
        ACCESS + ":remove_tenant_access",
        ADMIN,
        "Remove flavor access from a tenant",
        (("POST", "/flavors/{flavor_id}/action (removeTenantAccess)"),),
    ),
    RuleDefault(
        ACCESS,
        ADMIN,
        "List flavor access information. Allows access to the full list of tenants that "
        "have access to a flavor via an os-flavor-access API.",
        (("GET", "/flavors/{flavor_id}/os-flavor-access"),),
    ),
]
