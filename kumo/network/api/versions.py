"""Version discovery (/networking/, /networking/v2.0/) and /v2.0/extensions."""
# ruff: noqa: E501  (extension descriptions are upstream sentences, one per line)

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.network.api import agents
from kumo.network.service.core import not_found

router = APIRouter()

#: Collections listed by ``GET /v2.0/`` (Neutron's core resources and ours).
RESOURCES = (
    ("network", "networks"),
    ("subnet", "subnets"),
    ("subnetpool", "subnetpools"),
    ("port", "ports"),
    ("router", "routers"),
    ("floatingip", "floatingips"),
    ("security_group", "security-groups"),
    ("security_group_rule", "security-group-rules"),
    ("quota", "quotas"),
    ("network_ip_availability", "network-ip-availabilities"),
)

UPDATED = "2025-01-01T00:00:00-00:00"

#: Exactly the extensions Kumo implements: (alias, name, description). Clients and
#: tempest decide what to use and test from this list, so nothing unimplemented is here.
EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    (
        "external-net",
        "Neutron external network",
        "Adds external network attribute to network resource.",
    ),
    (
        "extra_dhcp_opt",
        "Neutron Extra DHCP options",
        "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)",
    ),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    (
        "ext-gw-mode",
        "Neutron L3 Configurable external gateway mode",
        "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway",
    ),
    (
        "floating-ip-port-forwarding",
        "Floating IP Port Forwarding",
        "Define a port_forwarding sub-resource of floatingip, for forwarding an external port "
        "to an internal port of a Neutron port",
    ),
    (
        "filter-validation",
        "Filter parameters validation",
        "Provides validation on filter parameters.",
    ),
    (
        "ip-substring-filtering",
        "IP address substring filtering",
        "Provides IP address substring filtering when listing ports",
    ),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    (
        "network-ip-availability",
        "Network IP Availability",
        "Provides IP availability data for each network and subnet.",
    ),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("port-security", "Port Security", "Provides port security"),
    (
        "project-id",
        "project_id field enabled",
        "Extension that indicates that project_id field is enabled.",
    ),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("quotas", "Quota management support", "Expose functions for quotas management per project"),
    (
        "quota_details",
        "Quota details management support",
        "Expose functions for quotas usage statistics per project",
    ),
    (
        "router",
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.",
    ),
    ("security-group", "security-group", "The security groups extension."),
    (
        "service-type",
        "Neutron Service Type Management",
        "API for retrieving service providers for Neutron advanced services",
    ),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    (
        "standard-attr-description",
        "standard-attr-description",
        "Extension to add descriptions to standard attributes",
    ),
    (
        "standard-attr-revisions",
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
    ),
    (
        "standard-attr-tag",
        "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip",
        "Enables to set tag on resources with standard attribute.",
    ),
    (
        "standard-attr-timestamp",
        "Resource timestamps",
        "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.",
    ),
    (
        "stateful-security-group",
        "Stateful security group",
        "Indicates if the security group is stateful or not",
    ),
    # The older alias of network tags (same API as standard-attr-tag, for networks).
    ("tag", "Tag support", "Enables to set tag on resources."),
    (
        "subnet-external-network",
        "Subnet External Network",
        "Informs if the subnet is external or not",
    ),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
)


def _extension(alias: str, name: str, description: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "name": name,
        "description": description,
        "updated": UPDATED,
        "links": [],
    }


@route(router, "GET", "/", policy="@public")
def list_versions(request: Request) -> dict[str, Any]:
    """The one API version, v2.0."""
    return {
        "versions": [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"href": service_base(request) + "/v2.0/", "rel": "self"}],
            }
        ]
    }


@route(router, "GET", "/v2.0", policy="@public")
@route(router, "GET", "/v2.0/", policy="@public")
def show_v2(request: Request) -> dict[str, Any]:
    """The v2.0 API's collections."""
    base = service_base(request) + "/v2.0/"
    return {
        "resources": [
            {"name": name, "collection": coll, "links": [{"href": base + coll, "rel": "self"}]}
            for name, coll in RESOURCES
        ]
    }


#: Listed only once a network agent has reported: before that there is no agent to
#: show, and tempest (which tests the first listed agent) would fail, not skip.
AGENT_EXTENSION = ("agent", "agent", "The agent management extension.")


def _enabled(request: Request) -> tuple[tuple[str, str, str], ...]:
    if agents.store(request).list():
        return (*EXTENSIONS, AGENT_EXTENSION)
    return EXTENSIONS


@route(router, "GET", "/v2.0/extensions", policy="regular_user")
def list_extensions(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every API extension Kumo implements."""
    authz.enforce()
    return {"extensions": [_extension(*e) for e in _enabled(request)]}


@route(router, "GET", "/v2.0/extensions/{alias}", policy="regular_user")
def show_extension(alias: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One extension by alias."""
    authz.enforce()
    for ext in _enabled(request):
        if ext[0] == alias:
            return {"extension": _extension(*ext)}
    raise not_found("ExtensionsNotFound", f"Extensions not found: ['{alias}'].")
