"""Neutron's default policy rules for subnets (secure RBAC, as upstream)."""
# ruff: noqa: E501  (check strings are kept verbatim from upstream, one per line)

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "external_network",
        "field:subnets:router:external=True",
        "Definition of a subnet that belongs to an external network",
    ),
    RuleDefault(
        "create_subnet",
        "(rule:admin_only) or (role:member and rule:network_owner)",
        "Create a subnet",
        operations=(("POST", "/v2.0/subnets"),),
    ),
    RuleDefault(
        "create_subnet:segment_id",
        "rule:admin_only",
        "Specify ``segment_id`` attribute when creating a subnet",
        operations=(("POST", "/v2.0/subnets"),),
    ),
    RuleDefault(
        "create_subnet:service_types",
        "rule:admin_only",
        "Specify ``service_types`` attribute when creating a subnet",
        operations=(("POST", "/v2.0/subnets"),),
    ),
    RuleDefault(
        "create_subnet:tags",
        "role:member and project_id:%(project_id)s or (rule:admin_only) or (role:member and rule:network_owner)",
        "Create the subnet tags",
        operations=(("POST", "/v2.0/subnets/{id}/tags"),),
    ),
    RuleDefault(
        "get_subnet",
        "role:reader and project_id:%(project_id)s or rule:shared or rule:external_network or (rule:admin_only) or (role:reader and rule:network_owner) or rule:service_api",
        "Get a subnet",
        operations=(
            ("GET", "/v2.0/subnets"),
            ("GET", "/v2.0/subnets/{id}"),
        ),
    ),
    RuleDefault(
        "get_subnet:segment_id",
        "rule:admin_only",
        "Get ``segment_id`` attribute of a subnet",
        operations=(
            ("GET", "/v2.0/subnets"),
            ("GET", "/v2.0/subnets/{id}"),
        ),
    ),
    RuleDefault(
        "get_subnet:tags",
        "role:reader and project_id:%(project_id)s or rule:shared or rule:external_network or (rule:admin_only) or (role:reader and rule:network_owner)",
        "Get the subnet tags",
        operations=(
            ("GET", "/v2.0/subnets/{id}/tags"),
            ("GET", "/v2.0/subnets/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "update_subnet",
        "role:member and project_id:%(project_id)s or (rule:admin_only) or (role:member and rule:network_owner)",
        "Update a subnet",
        operations=(("PUT", "/v2.0/subnets/{id}"),),
    ),
    RuleDefault(
        "update_subnet:segment_id",
        "rule:admin_only",
        "Update ``segment_id`` attribute of a subnet",
        operations=(("PUT", "/v2.0/subnets/{id}"),),
    ),
    RuleDefault(
        "update_subnet:service_types",
        "rule:admin_only",
        "Update ``service_types`` attribute of a subnet",
        operations=(("PUT", "/v2.0/subnets/{id}"),),
    ),
    RuleDefault(
        "update_subnet:tags",
        "role:member and project_id:%(project_id)s or (rule:admin_only) or (role:member and rule:network_owner)",
        "Update the subnet tags",
        operations=(
            ("PUT", "/v2.0/subnets/{id}/tags"),
            ("PUT", "/v2.0/subnets/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "delete_subnet",
        "role:member and project_id:%(project_id)s or (rule:admin_only) or (role:member and rule:network_owner)",
        "Delete a subnet",
        operations=(("DELETE", "/v2.0/subnets/{id}"),),
    ),
    RuleDefault(
        "delete_subnet:tags",
        "role:member and project_id:%(project_id)s or (rule:admin_only) or (role:member and rule:network_owner)",
        "Delete the subnet tags",
        operations=(
            ("DELETE", "/v2.0/subnets/{id}/tags"),
            ("DELETE", "/v2.0/subnets/{id}/tags/{tag_id}"),
        ),
    ),
]
