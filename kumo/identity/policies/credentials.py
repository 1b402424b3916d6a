"""Rules for credentials and application credentials."""

from kumo.identity.policies.base import ADMIN_OR_SYSTEM_READER, rule

OWNER = "user_id:%(target.credential.user_id)s"
RULE_OWNER = "user_id:%(target.user.id)s"

RULES = [
    rule("identity:get_credential", ADMIN_OR_SYSTEM_READER + " or " + OWNER, "Show a credential."),
    rule(
        "identity:list_credentials",
        ADMIN_OR_SYSTEM_READER + " or " + OWNER,
        "List credentials (non-admins see their own).",
    ),
    rule("identity:create_credential", "rule:admin_required or " + OWNER, "Create a credential."),
    rule("identity:update_credential", "rule:admin_required or " + OWNER, "Update a credential."),
    rule("identity:delete_credential", "rule:admin_required or " + OWNER, "Delete a credential."),
    # OS-EC2 (/v3/users/{user_id}/credentials/OS-EC2): the owner is the stored
    # credential's user, except for listing, where it is the URL's user.
    rule(
        "identity:ec2_get_credential",
        ADMIN_OR_SYSTEM_READER + " or " + OWNER,
        "Show an EC2 credential.",
    ),
    rule(
        "identity:ec2_list_credentials",
        ADMIN_OR_SYSTEM_READER + " or rule:owner",
        "List a user's EC2 credentials.",
    ),
    rule(
        "identity:ec2_create_credential",
        "rule:admin_required or (role:member and " + OWNER + ")",
        "Create an EC2 credential.",
    ),
    rule(
        "identity:ec2_delete_credential",
        "rule:admin_required or (role:member and " + OWNER + ")",
        "Delete an EC2 credential.",
    ),
    rule(
        "identity:get_application_credential",
        ADMIN_OR_SYSTEM_READER + " or rule:owner",
        "Show an application credential.",
    ),
    rule(
        "identity:list_application_credentials",
        ADMIN_OR_SYSTEM_READER + " or rule:owner",
        "List application credentials.",
    ),
    rule(
        "identity:create_application_credential",
        "rule:owner",
        "Create an application credential (for oneself).",
    ),
    rule(
        "identity:delete_application_credential",
        "rule:admin_required or rule:owner",
        "Delete an application credential.",
    ),
    # Access rules (/v3/users/{user_id}/access_rules): the URL's user owns them.
    rule(
        "identity:get_access_rule",
        ADMIN_OR_SYSTEM_READER + " or " + RULE_OWNER,
        "Show an access rule.",
    ),
    rule(
        "identity:list_access_rules",
        ADMIN_OR_SYSTEM_READER + " or " + RULE_OWNER,
        "List a user's access rules.",
    ),
    rule(
        "identity:delete_access_rule",
        "rule:admin_required or " + RULE_OWNER,
        "Delete an access rule.",
    ),
]
