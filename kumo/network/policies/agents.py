"""Neutron's default policy rules for agents (secure RBAC, as upstream: admins only)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    # Not in Neutron (its agents report over RPC): Kumo's agents report through the API.
    RuleDefault(
        "report_agent_state",
        "rule:service_api",
        "Report a network agent's state (heartbeat)",
        operations=(("POST", "/v2.0/agents"),),
    ),
    RuleDefault(
        "get_agent",
        "rule:admin_only",
        "Get an agent",
        operations=(("GET", "/v2.0/agents"), ("GET", "/v2.0/agents/{id}")),
    ),
    RuleDefault(
        "update_agent",
        "rule:admin_only",
        "Update an agent",
        operations=(("PUT", "/v2.0/agents/{id}"),),
    ),
    RuleDefault(
        "delete_agent",
        "rule:admin_only",
        "Delete an agent",
        operations=(("DELETE", "/v2.0/agents/{id}"),),
    ),
]
