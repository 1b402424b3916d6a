"""Neutron's default policy rules for ports (secure RBAC, as upstream)."""
# ruff: noqa: E501  (check strings are kept verbatim from upstream, one per line)

from kumo.common.policy import RuleDefault

RULES: list[RuleDefault] = [
    RuleDefault(
        "network_device",
        "field:port:device_owner=~^network:",
        "Definition of port with network device_owner",
    ),
    RuleDefault(
        "admin_or_data_plane_int",
        "rule:context_is_admin or role:data_plane_integrator",
        "Rule for data plane integration",
    ),
    RuleDefault(
        "create_port",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or rule:shared",
        "Create a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:device_id",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s) or rule:service_api",
        "Specify ``device_id`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:device_owner",
        "not rule:network_device or (rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Specify ``device_owner`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:mac_address",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Specify ``mac_address`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:fixed_ips",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or rule:shared",
        "Specify ``fixed_ips`` information when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:fixed_ips:ip_address",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Specify IP address in ``fixed_ips`` when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:fixed_ips:subnet_id",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or rule:shared",
        "Specify subnet ID in ``fixed_ips`` when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:port_security_enabled",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Specify ``port_security_enabled`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:binding:host_id",
        "(rule:admin_only) or (rule:service_api)",
        "Specify ``binding:host_id`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:binding:profile",
        "rule:service_api",
        "Specify ``binding:profile`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:binding:vnic_type",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s) or rule:service_api",
        "Specify ``binding:vnic_type`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:allowed_address_pairs",
        "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api",
        "Specify ``allowed_address_pairs`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:allowed_address_pairs:mac_address",
        "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api",
        "Specify ``mac_address` of `allowed_address_pairs`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:allowed_address_pairs:ip_address",
        "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api",
        "Specify ``ip_address`` of ``allowed_address_pairs`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:hints",
        "rule:admin_only",
        "Specify ``hints`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:trusted",
        "rule:admin_only",
        "Specify ``trusted`` attribute when creating a port",
        operations=(("POST", "/v2.0/ports"),),
    ),
    RuleDefault(
        "create_port:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s) or rule:context_is_advsvc",
        "Create the port tags",
        operations=(("POST", "/v2.0/ports/{id}/tags"),),
    ),
    RuleDefault(
        "get_port",
        "(rule:admin_only) or (rule:service_api) or role:reader and rule:network_owner or role:reader and project_id:%(project_id)s",
        "Get a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:binding:vif_type",
        "(rule:admin_only) or (rule:service_api)",
        "Get ``binding:vif_type`` attribute of a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:binding:vif_details",
        "(rule:admin_only) or (rule:service_api)",
        "Get ``binding:vif_details`` attribute of a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:binding:host_id",
        "(rule:admin_only) or (rule:service_api)",
        "Get ``binding:host_id`` attribute of a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:binding:profile",
        "(rule:admin_only) or (rule:service_api)",
        "Get ``binding:profile`` attribute of a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:resource_request",
        "rule:admin_only",
        "Get ``resource_request`` attribute of a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:hints",
        "rule:admin_only",
        "Get ``hints`` attribute of a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:trusted",
        "rule:admin_only",
        "Get ``trusted`` attribute of a port",
        operations=(
            ("GET", "/v2.0/ports"),
            ("GET", "/v2.0/ports/{id}"),
        ),
    ),
    RuleDefault(
        "get_port:tags",
        "rule:context_is_advsvc or (rule:admin_only) or (role:reader and rule:network_owner) or role:reader and project_id:%(project_id)s",
        "Get the port tags",
        operations=(
            ("GET", "/v2.0/ports/{id}/tags"),
            ("GET", "/v2.0/ports/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "update_port",
        "(rule:admin_only) or (rule:service_api) or role:member and project_id:%(project_id)s",
        "Update a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:device_id",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s) or rule:service_api",
        "Update ``device_id`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:device_owner",
        "not rule:network_device or (rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Update ``device_owner`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:mac_address",
        "(rule:admin_only) or (rule:service_api) or role:manager and rule:network_owner",
        "Update ``mac_address`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:fixed_ips",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Specify ``fixed_ips`` information when updating a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:fixed_ips:ip_address",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Specify IP address in ``fixed_ips`` information when updating a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:fixed_ips:subnet_id",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or rule:shared",
        "Specify subnet ID in ``fixed_ips`` information when updating a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:port_security_enabled",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner",
        "Update ``port_security_enabled`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:binding:host_id",
        "(rule:admin_only) or (rule:service_api)",
        "Update ``binding:host_id`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:binding:profile",
        "rule:service_api",
        "Update ``binding:profile`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:binding:vnic_type",
        "(rule:admin_only) or (rule:service_api) or role:member and project_id:%(project_id)s",
        "Update ``binding:vnic_type`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:allowed_address_pairs",
        "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api",
        "Update ``allowed_address_pairs`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:allowed_address_pairs:mac_address",
        "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api",
        "Update ``mac_address`` of ``allowed_address_pairs`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:allowed_address_pairs:ip_address",
        "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api",
        "Update ``ip_address`` of ``allowed_address_pairs`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:data_plane_status",
        "rule:admin_only or role:data_plane_integrator",
        "Update ``data_plane_status`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:hints",
        "rule:admin_only",
        "Update ``hints`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:trusted",
        "rule:admin_only",
        "Update ``trusted`` attribute of a port",
        operations=(("PUT", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "update_port:tags",
        "(rule:admin_only) or (role:member and project_id:%(project_id)s) or rule:context_is_advsvc",
        "Update the port tags",
        operations=(
            ("PUT", "/v2.0/ports/{id}/tags"),
            ("PUT", "/v2.0/ports/{id}/tags/{tag_id}"),
        ),
    ),
    RuleDefault(
        "delete_port",
        "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner or role:member and project_id:%(project_id)s",
        "Delete a port",
        operations=(("DELETE", "/v2.0/ports/{id}"),),
    ),
    RuleDefault(
        "delete_port:tags",
        "rule:context_is_advsvc or role:member and project_id:%(project_id)s or (rule:admin_only) or (role:member and rule:network_owner)",
        "Delete the port tags",
        operations=(
            ("DELETE", "/v2.0/ports/{id}/tags"),
            ("DELETE", "/v2.0/ports/{id}/tags/{tag_id}"),
        ),
    ),
]
