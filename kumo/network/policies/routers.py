"""Neutron's default policy rules for routers (secure RBAC, as upstream)."""
# ruff: noqa: E501  (check strings are kept verbatim from upstream, one per line)

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "create_router",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:distributed",
        "rule:admin_only",
        "Specify ``distributed`` attribute when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:ha",
        "rule:admin_only",
        "Specify ``ha`` attribute when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:external_gateway_info",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Specify ``external_gateway_info`` information when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:external_gateway_info:network_id",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Specify ``network_id`` in ``external_gateway_info`` information when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:external_gateway_info:enable_snat",
        "rule:admin_only",
        "Specify ``enable_snat`` in ``external_gateway_info`` information when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:external_gateway_info:external_fixed_ips",
        "rule:admin_only",
        "Specify ``external_fixed_ips`` in ``external_gateway_info`` information when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:enable_default_route_bfd",
        "rule:admin_only",
        "Specify ``enable_default_route_bfd`` attribute when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:enable_default_route_ecmp",
        "rule:admin_only",
        "Specify ``enable_default_route_ecmp`` attribute when creating a router",
        operations=(("POST", "/v2.0/routers"),),
    ),
    RuleDefault(
        "create_router:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create the router tags",
        operations=(("POST", "/v2.0/routers/{id}/tags"),),
    ),
    RuleDefault(
        "get_router",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s)",
        "Get a router",
        operations=(
            ("GET", "/v2.0/routers"),
            ("GET", "/v2.0/routers/{id}"),
        ),
    ),
    RuleDefault(
        "get_router:distributed",
        "rule:admin_only",
        "Get ``distributed`` attribute of a router",
        operations=(
            ("GET", "/v2.0/routers"),
            ("GET", "/v2.0/routers/{id}"),
        ),
    ),
    RuleDefault(
        "get_router:ha",
        "rule:admin_only",
        "Get ``ha`` attribute of a router",
        operations=(
            ("GET", "/v2.0/routers"),
            ("GET", "/v2.0/routers/{id}"),
        ),
    ),
    RuleDefault(
        "get_router:tags",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s)",
        "Get the router tags",
        operations=(
            ("GET", "/v2.0/routers/{id}/tags"),
            ("GET", "/v2.0/routers/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "update_router",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:distributed",
        "rule:admin_only",
        "Update ``distributed`` attribute of a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:ha",
        "rule:admin_only",
        "Update ``ha`` attribute of a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:external_gateway_info",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update ``external_gateway_info`` information of a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:external_gateway_info:network_id",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update ``network_id`` attribute of ``external_gateway_info`` information of a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:external_gateway_info:enable_snat",
        "rule:admin_only",
        "Update ``enable_snat`` attribute of ``external_gateway_info`` information of a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:external_gateway_info:external_fixed_ips",
        "rule:admin_only",
        "Update ``external_fixed_ips`` attribute of ``external_gateway_info`` information of a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:enable_default_route_bfd",
        "rule:admin_only",
        "Specify ``enable_default_route_bfd`` attribute when updating a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:enable_default_route_ecmp",
        "rule:admin_only",
        "Specify ``enable_default_route_ecmp`` attribute when updating a router",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_router:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update the router tags",
        operations=(
            ("PUT", "/v2.0/routers/{id}/tags"),
            ("PUT", "/v2.0/routers/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "delete_router",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete a router",
        operations=(("DELETE", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "delete_router:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete the router tags",
        operations=(
            ("DELETE", "/v2.0/routers/{id}/tags"),
            ("DELETE", "/v2.0/routers/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "add_router_interface",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Add an interface to a router",
        operations=(("PUT", "/v2.0/routers/{id}/add_router_interface"),),
    ),
    RuleDefault(
        "remove_router_interface",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Remove an interface from a router",
        operations=(("PUT", "/v2.0/routers/{id}/remove_router_interface"),),
    ),
    RuleDefault(
        "add_extraroutes",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Add extra route to a router",
        operations=(("PUT", "/v2.0/routers/{id}/add_extraroutes"),),
    ),
    RuleDefault(
        "remove_extraroutes",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Remove extra route from a router",
        operations=(("PUT", "/v2.0/routers/{id}/remove_extraroutes"),),
    ),
    RuleDefault(
        "add_external_gateways",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Add router external gateways",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "add_external_gateways:external_gateways",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Add router external gateways",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "add_external_gateways:external_gateways:network_id",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Add router external gateways with defined network ID",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "add_external_gateways:external_gateways:enable_snat",
        "rule:admin_only",
        "Add router external gateways specifying SNAT flag",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "add_external_gateways:external_gateways:external_fixed_ips",
        "rule:admin_only",
        "Add router external gateways specifying the fixed IPs",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_external_gateways",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update router external gateways",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_external_gateways:external_gateways",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update router external gateways",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_external_gateways:external_gateways:network_id",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update router external gateways network ID",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_external_gateways:external_gateways:enable_snat",
        "rule:admin_only",
        "Update router external gateways SNAT flag",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "update_external_gateways:external_gateways:external_fixed_ips",
        "rule:admin_only",
        "Update router external gateways fixed IPs",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "remove_external_gateways",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Remove router external gateways",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
    RuleDefault(
        "remove_external_gateways:external_gateways",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Remove router external gateways",
        operations=(("PUT", "/v2.0/routers/{id}"),),
    ),
]
