"""Rules for services, endpoints and regions."""

from kumo.identity.policies.base import ADMIN_OR_SYSTEM_READER, rule

ADMIN = "rule:admin_required"

RULES = [
    *(
        rule(
            f"identity:{verb}_{noun}",
            ADMIN_OR_SYSTEM_READER if verb in ("get", "list") else ADMIN,
            f"{verb.title()} {noun.replace('_', ' ')}.",
        )
        for noun in ("service", "endpoint")
        for verb in ("get", "list", "create", "update", "delete")
    ),
    rule("identity:get_region", "", "Show a region (anyone authenticated)."),
    rule("identity:list_regions", "", "List regions (anyone authenticated)."),
    rule("identity:create_region", ADMIN, "Create a region."),
    rule("identity:update_region", ADMIN, "Update a region."),
    rule("identity:delete_region", ADMIN, "Delete a region."),
]
