"""Neutron's default policy rules for subnetpools (secure RBAC, as upstream)."""
# ruff: noqa: E501  (check strings are kept verbatim from upstream, one per line)

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "shared_subnetpools", "field:subnetpools:shared=True", "Definition of a shared subnetpool"
    ),
    RuleDefault(
        "create_subnetpool",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create a subnetpool",
        operations=(("POST", "/v2.0/subnetpools"),),
    ),
    RuleDefault(
        "create_subnetpool:shared",
        "rule:admin_only",
        "Create a shared subnetpool",
        operations=(("POST", "/v2.0/subnetpools"),),
    ),
    RuleDefault(
        "create_subnetpool:is_default",
        "rule:admin_only",
        "Specify ``is_default`` attribute when creating a subnetpool",
        operations=(("POST", "/v2.0/subnetpools"),),
    ),
    RuleDefault(
        "create_subnetpool:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Create the subnetpool tags",
        operations=(("POST", "/v2.0/subnetpools/{id}/tags"),),
    ),
    RuleDefault(
        "get_subnetpool",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s) or rule:shared_subnetpools",
        "Get a subnetpool",
        operations=(
            ("GET", "/v2.0/subnetpools"),
            ("GET", "/v2.0/subnetpools/{id}"),
        ),
    ),
    RuleDefault(
        "get_subnetpool:tags",
        "(rule:admin_only) or (role:reader and project_id:%(project_id)s) or rule:shared_subnetpools",
        "Get the subnetpool tags",
        operations=(
            ("GET", "/v2.0/subnetpools/{id}/tags"),
            ("GET", "/v2.0/subnetpools/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "update_subnetpool",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update a subnetpool",
        operations=(("PUT", "/v2.0/subnetpools/{id}"),),
    ),
    RuleDefault(
        "update_subnetpool:is_default",
        "rule:admin_only",
        "Update ``is_default`` attribute of a subnetpool",
        operations=(("PUT", "/v2.0/subnetpools/{id}"),),
    ),
    RuleDefault(
        "update_subnetpool:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Update the subnetpool tags",
        operations=(
            ("PUT", "/v2.0/subnetpools/{id}/tags"),
            ("PUT", "/v2.0/subnetpools/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "delete_subnetpool",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete a subnetpool",
        operations=(("DELETE", "/v2.0/subnetpools/{id}"),),
    ),
    RuleDefault(
        "delete_subnetpool:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Delete the subnetpool tags",
        operations=(
            ("DELETE", "/v2.0/subnetpools/{id}/tags"),
            ("DELETE", "/v2.0/subnetpools/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "onboard_network_subnets",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Onboard existing subnet into a subnetpool",
        operations=(("PUT", "/v2.0/subnetpools/{id}/onboard_network_subnets"),),
    ),
    RuleDefault(
        "add_prefixes",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Add prefixes to a subnetpool",
        operations=(("PUT", "/v2.0/subnetpools/{id}/add_prefixes"),),
    ),
    RuleDefault(
        "remove_prefixes",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "Remove unallocated prefixes from a subnetpool",
        operations=(("PUT", "/v2.0/subnetpools/{id}/remove_prefixes"),),
    ),
]
