"""Every compute policy rule, with its default (Nova's secure-RBAC defaults)."""

from kumo.common.policy import RuleDefault
from kumo.compute.policies import base
from kumo.compute.policies import flavors as r_flavors
from kumo.compute.policies import hosts as r_hosts
from kumo.compute.policies import images as c_images
from kumo.compute.policies import keypairs as r_keypairs
from kumo.compute.policies import network_proxies as w1_network_proxies
from kumo.compute.policies import quotas as r_quotas
from kumo.compute.policies import remote_consoles as h2_remote_consoles
from kumo.compute.policies import server_details as s_server_details
from kumo.compute.policies import server_groups as r_server_groups
from kumo.compute.policies import servers as s_servers

RULES: list[RuleDefault] = [
    *base.RULES,
    *r_flavors.RULES,
    *r_keypairs.RULES,
    *r_quotas.RULES,
    *r_server_groups.RULES,
    *r_hosts.RULES,
    *s_servers.RULES,
    *s_server_details.RULES,
    *c_images.RULES,
    *h2_remote_consoles.RULES,
    *w1_network_proxies.RULES,
]
