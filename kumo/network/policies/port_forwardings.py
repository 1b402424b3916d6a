"""Neutron's default policy rules for port forwardings (secure RBAC, as upstream)."""

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "create_floatingip_port_forwarding",
        "(rule:admin_only) or (role:member and rule:ext_parent_owner)",
        "Create a floating IP port forwarding",
        operations=(("POST", "/v2.0/floatingips/{floatingip_id}/port_forwardings"),),
    ),
    RuleDefault(
        "get_floatingip_port_forwarding",
        "(rule:admin_only) or (role:reader and rule:ext_parent_owner)",
        "Get a floating IP port forwarding",
        operations=(
            ("GET", "/v2.0/floatingips/{floatingip_id}/port_forwardings"),
            ("GET", "/v2.0/floatingips/{floatingip_id}/port_forwardings/{port_forwarding_id}"),
        ),
    ),
    RuleDefault(
        "update_floatingip_port_forwarding",
        "(rule:admin_only) or (role:member and rule:ext_parent_owner)",
        "Update a floating IP port forwarding",
        operations=(
            ("PUT", "/v2.0/floatingips/{floatingip_id}/port_forwardings/{port_forwarding_id}"),
        ),
    ),
    RuleDefault(
        "delete_floatingip_port_forwarding",
        "(rule:admin_only) or (role:member and rule:ext_parent_owner)",
        "Delete a floating IP port forwarding",
        operations=(
            ("DELETE", "/v2.0/floatingips/{floatingip_id}/port_forwardings/{port_forwarding_id}"),
        ),
    ),
]
