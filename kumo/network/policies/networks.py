"""Neutron's default policy rules for networks (secure RBAC, as upstream)."""
# ruff: noqa: E501  (check strings are kept verbatim from upstream, one per line)

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "external", "field:networks:router:external=True", "Definition of an external network"
    ),
    RuleDefault(
        "create_network",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create a network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:shared",
        "rule:admin_only",
        "Create a shared network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:router:external",
        "rule:admin_only",
        "Create an external network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:is_default",
        "rule:admin_only",
        "Specify ``is_default`` attribute when creating a network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:port_security_enabled",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Specify ``port_security_enabled`` attribute when creating a network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:segments",
        "rule:admin_only",
        "Specify ``segments`` attribute when creating a network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:provider:network_type",
        "rule:admin_only",
        "Specify ``provider:network_type`` when creating a network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:provider:physical_network",
        "rule:admin_only",
        "Specify ``provider:physical_network`` when creating a network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:provider:segmentation_id",
        "rule:admin_only",
        "Specify ``provider:segmentation_id`` when creating a network",
        operations=(("POST", "/v2.0/networks"),),
    ),
    RuleDefault(
        "create_network:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create the network tags",
        operations=(("POST", "/v2.0/networks/{id}/tags"),),
    ),
    RuleDefault(
        "get_network",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s) or rule:service_api or rule:shared or rule:external or rule:context_is_advsvc",
        "Get a network",
        operations=(
            ("GET", "/v2.0/networks"),
            ("GET", "/v2.0/networks/{id}"),
        ),
    ),
    RuleDefault(
        "get_network:segments",
        "rule:admin_only",
        "Get ``segments`` attribute of a network",
        operations=(
            ("GET", "/v2.0/networks"),
            ("GET", "/v2.0/networks/{id}"),
        ),
    ),
    RuleDefault(
        "get_network:provider:network_type",
        "rule:admin_only",
        "Get ``provider:network_type`` attribute of a network",
        operations=(
            ("GET", "/v2.0/networks"),
            ("GET", "/v2.0/networks/{id}"),
        ),
    ),
    RuleDefault(
        "get_network:provider:physical_network",
        "rule:admin_only",
        "Get ``provider:physical_network`` attribute of a network",
        operations=(
            ("GET", "/v2.0/networks"),
            ("GET", "/v2.0/networks/{id}"),
        ),
    ),
    RuleDefault(
        "get_network:provider:segmentation_id",
        "rule:admin_only",
        "Get ``provider:segmentation_id`` attribute of a network",
        operations=(
            ("GET", "/v2.0/networks"),
            ("GET", "/v2.0/networks/{id}"),
        ),
    ),
    RuleDefault(
        "get_network:tags",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s) or rule:shared or rule:external or rule:context_is_advsvc",
        "Get the network tags",
        operations=(
            ("GET", "/v2.0/networks/{id}/tags"),
            ("GET", "/v2.0/networks/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "update_network",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:segments",
        "rule:admin_only",
        "Update ``segments`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:shared",
        "rule:admin_only",
        "Update ``shared`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:provider:network_type",
        "rule:admin_only",
        "Update ``provider:network_type`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:provider:physical_network",
        "rule:admin_only",
        "Update ``provider:physical_network`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:provider:segmentation_id",
        "rule:admin_only",
        "Update ``provider:segmentation_id`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:router:external",
        "rule:admin_only",
        "Update ``router:external`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:is_default",
        "rule:admin_only",
        "Update ``is_default`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:port_security_enabled",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update ``port_security_enabled`` attribute of a network",
        operations=(("PUT", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "update_network:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update the network tags",
        operations=(
            ("PUT", "/v2.0/networks/{id}/tags"),
            ("PUT", "/v2.0/networks/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "delete_network",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete a network",
        operations=(("DELETE", "/v2.0/networks/{id}"),),
    ),
    RuleDefault(
        "delete_network:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete the network tags",
        operations=(
            ("DELETE", "/v2.0/networks/{id}/tags"),
            ("DELETE", "/v2.0/networks/{id}/tags/{tag_id}"),
        ),
    ),
]
