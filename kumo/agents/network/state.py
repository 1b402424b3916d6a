"""The desired state of the data plane: plain API resources (Neutron v2.0 bodies).

The agent fetches these from the Networking API; tests build them by hand.
Only the fields the data plane reads matter; everything else is ignored.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Resource = dict[str, Any]

DHCP_OWNER = "network:dhcp"
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed")
ROUTER_GATEWAY_OWNER = "network:router_gateway"


@dataclass
class DesiredState:
    """Every resource the data plane of this host must reflect."""

    networks: list[Resource] = field(default_factory=list)
    subnets: list[Resource] = field(default_factory=list)
    ports: list[Resource] = field(default_factory=list)
    routers: list[Resource] = field(default_factory=list)
    floatingips: list[Resource] = field(default_factory=list)
    security_groups: list[Resource] = field(default_factory=list)
    #: The network agents of every host (``GET /v2.0/agents``): their tunnel endpoints.
    agents: list[Resource] = field(default_factory=list)

    def network(self, network_id: str) -> Resource | None:
        """The network with this id."""
        return next((n for n in self.networks if n["id"] == network_id), None)

    def subnet(self, subnet_id: str) -> Resource | None:
        """The subnet with this id."""
        return next((s for s in self.subnets if s["id"] == subnet_id), None)

    def subnets_of(self, network_id: str) -> list[Resource]:
        """Subnets of a network."""
        return [s for s in self.subnets if s["network_id"] == network_id]

    def ports_of(self, network_id: str) -> list[Resource]:
        """Ports on a network."""
        return [p for p in self.ports if p["network_id"] == network_id]

    def cidr_of(self, port: Resource, ip: str) -> str:
        """``ip/prefixlen`` of one of a port's fixed IPs (its subnet's prefix length)."""
        for fixed in port.get("fixed_ips", []):
            if fixed.get("ip_address") == ip:
                subnet = self.subnet(fixed.get("subnet_id", ""))
                if subnet is not None:
                    prefix = ipaddress.ip_network(subnet["cidr"]).prefixlen
                    return f"{ip}/{prefix}"
        return f"{ip}/{ipaddress.ip_address(ip).max_prefixlen}"

    def port_cidrs(self, port: Resource, *, version: int | None = None) -> list[str]:
        """Every fixed IP of a port in CIDR form (optionally only one IP version)."""
        result = []
        for fixed in port.get("fixed_ips", []):
            ip = fixed.get("ip_address")
            if ip and (version is None or ipaddress.ip_address(ip).version == version):
                result.append(self.cidr_of(port, ip))
        return result


def is_external(network: Resource) -> bool:
    """Whether the network is an external (floating IP) network."""
    return bool(network.get("router:external"))


def is_guest_port(port: Resource) -> bool:
    """A port a guest plugs into (``compute:*`` owner or unowned with a device)."""
    owner = str(port.get("device_owner") or "")
    return owner.startswith("compute:")


def port_ips(port: Resource, version: int | None = None) -> list[str]:
    """A port's fixed IP addresses."""
    result = []
    for fixed in port.get("fixed_ips", []):
        ip = fixed.get("ip_address")
        if ip and (version is None or ipaddress.ip_address(ip).version == version):
            result.append(str(ip))
    return result
