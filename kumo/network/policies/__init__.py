"""Every networking policy rule, with its default (Neutron's secure-RBAC defaults)."""

from kumo.common.policy import RuleDefault
from kumo.network.policies import (
    agents,
    base,
    floatingips,
    network_ip_availability,
    networks,
    port_forwardings,
    ports,
    quotas,
    routers,
    security_groups,
    service_types,
    subnetpools,
    subnets,
)

RULES: list[RuleDefault] = [
    *base.RULES,
    *networks.RULES,
    *subnets.RULES,
    *subnetpools.RULES,
    *ports.RULES,
    *routers.RULES,
    *floatingips.RULES,
    *port_forwardings.RULES,
    *security_groups.RULES,
    *quotas.RULES,
    *network_ip_availability.RULES,
    *service_types.RULES,
    *agents.RULES,
]
