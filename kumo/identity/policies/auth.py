"""Rules for tokens and the /v3/auth resources."""

from kumo.identity.policies.base import rule

RULES = [
    rule(
        "identity:check_token",
        "rule:service_admin_or_token_subject",
        "Check a token.",
        ("HEAD", "/v3/auth/tokens"),
    ),
    rule(
        "identity:validate_token",
        "rule:service_admin_or_token_subject",
        "Validate a token.",
        ("GET", "/v3/auth/tokens"),
    ),
    rule(
        "identity:revoke_token",
        "rule:service_admin_or_token_subject",
        "Revoke a token.",
        ("DELETE", "/v3/auth/tokens"),
    ),
    rule(
        "identity:get_auth_catalog",
        "",
        "The catalog of the caller's token.",
        ("GET", "/v3/auth/catalog"),
    ),
    rule(
        "identity:get_auth_projects",
        "",
        "Projects the caller may scope to.",
        ("GET", "/v3/auth/projects"),
    ),
    rule(
        "identity:get_auth_domains",
        "",
        "Domains the caller may scope to.",
        ("GET", "/v3/auth/domains"),
    ),
    rule(
        "identity:get_auth_system",
        "",
        "System scopes the caller may use.",
        ("GET", "/v3/auth/system"),
    ),
]
