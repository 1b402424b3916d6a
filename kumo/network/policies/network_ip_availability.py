"""Neutron's default policy rules for network ip availability (secure RBAC, as upstream)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "get_network_ip_availability",
        "(rule:admin_only) or (rule:service_api)",
        "Get network IP availability",
        operations=(
            ("GET", "/v2.0/network-ip-availabilities"),
            ("GET", "/v2.0/network-ip-availabilities/{network_id}"),
        ),
    ),
]
