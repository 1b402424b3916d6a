"""Rules for key pairs: the owning user, or an admin (Nova's defaults)."""

from kumo.common.policy import RuleDefault

OWNER_OR_ADMIN = "(rule:context_is_admin) or user_id:%(user_id)s"
ROOT = "os_compute_api:os-keypairs:%s"

RULES = [
    RuleDefault(ROOT % "index", OWNER_OR_ADMIN, "List all keypairs", (("GET", "/os-keypairs"),)),
    RuleDefault(ROOT % "create", OWNER_OR_ADMIN, "Create a keypair", (("POST", "/os-keypairs"),)),
    RuleDefault(
        ROOT % "delete",
        OWNER_OR_ADMIN,
        "Delete a keypair",
        (("DELETE", "/os-keypairs/{keypair_name}"),),
    ),
    RuleDefault(
        ROOT % "show",
        OWNER_OR_ADMIN,
        "Show details of a keypair",
        (("GET", "/os-keypairs/{keypair_name}"),),
    ),
]
