"""Rules for domains."""

from kumo.identity.policies.base import ADMIN_OR_SYSTEM_READER, rule

RULES = [
    rule(
        "identity:get_domain",
        ADMIN_OR_SYSTEM_READER + " or token.domain.id:%(target.domain.id)s"
        " or token.project.domain.id:%(target.domain.id)s",
        "Show a domain.",
        ("GET", "/v3/domains/{domain_id}"),
    ),
    rule("identity:list_domains", ADMIN_OR_SYSTEM_READER, "List domains.", ("GET", "/v3/domains")),
    rule(
        "identity:create_domain", "rule:admin_required", "Create a domain.", ("POST", "/v3/domains")
    ),
    rule(
        "identity:update_domain",
        "rule:admin_required",
        "Update a domain.",
        ("PATCH", "/v3/domains/{domain_id}"),
    ),
    rule(
        "identity:delete_domain",
        "rule:admin_required",
        "Delete a domain.",
        ("DELETE", "/v3/domains/{domain_id}"),
    ),
]
