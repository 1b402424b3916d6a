"""Nova's policies for remote consoles and their tokens."""

from kumo.common.policy import RuleDefault

#: POST /servers/{id}/remote-consoles and the legacy os-get*Console actions.
REMOTE_CONSOLES = "os_compute_api:os-remote-consoles"
#: GET /os-console-auth-tokens/{token}.
CONSOLE_AUTH_TOKENS = "os_compute_api:os-console-auth-tokens"

RULES = [
    RuleDefault(
        REMOTE_CONSOLES,
        "rule:project_member_or_admin",
        "Generate a URL to access remote server console (POST /servers/{server_id}/"
        "remote-consoles and the deprecated os-getSerialConsole, os-getSPICEConsole and "
        "os-getVNCConsole actions).",
    ),
    RuleDefault(
        CONSOLE_AUTH_TOKENS,
        "rule:context_is_admin",
        "Show console connection information for a given console authentication token.",
    ),
]
