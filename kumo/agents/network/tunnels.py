"""Which hosts a VXLAN network spans, and the tunnel peers of each host.

Neutron's design: every host's agent reports its underlay address
(``tunneling_ip`` in the ``configurations`` of its Linux bridge agent, from the
``network_tunnel_ip`` setting). A network is *on* a host when one of its ports
is bound there (``binding:host_id``: guests by Nova, DHCP and router ports by
the network node). Only a network on two hosts or more needs a VXLAN device;
each host's device floods to the other hosts' addresses (unicast FDB entries,
no multicast), so a single-host network stays a plain bridge.
"""

from __future__ import annotations

import ipaddress

from kumo.agents.network.state import DesiredState, Resource

#: The agent type whose ``configurations`` carry a host's tunnel endpoint.
L2_AGENT = "Linux bridge agent"


def tunnel_endpoints(agents: list[Resource]) -> dict[str, str]:
    """Host → underlay address of every live agent that reports a valid one."""
    endpoints: dict[str, str] = {}
    for agent in agents:
        if agent.get("agent_type") != L2_AGENT or agent.get("alive") is False:
            continue
        config = agent.get("configurations") or {}
        address = config.get("tunneling_ip") if isinstance(config, dict) else None
        host = agent.get("host")
        if not host or not isinstance(address, str):
            continue
        try:
            endpoints[str(host)] = str(ipaddress.ip_address(address))
        except ValueError:
            continue  # a report that is not an address never reaches `bridge fdb`
    return endpoints


def network_hosts(state: DesiredState, network_id: str) -> set[str]:
    """The hosts with a port of the network bound to them."""
    return {
        str(port["binding:host_id"])
        for port in state.ports_of(network_id)
        if port.get("binding:host_id")
    }


def local_networks(state: DesiredState, host: str) -> set[str]:
    """Ids of the networks with a port bound to ``host``."""
    return {str(port["network_id"]) for port in state.ports if port.get("binding:host_id") == host}


def vxlan_peers(state: DesiredState, network_id: str, host: str, local_ip: str) -> list[str]:
    """The other hosts' underlay addresses a network's VXLAN device on ``host`` floods to.

    Empty when the network is not on ``host`` or on no other host with a known
    endpoint: then the host needs no VXLAN device for it.
    """
    hosts = network_hosts(state, network_id)
    if host not in hosts:
        return []
    endpoints = tunnel_endpoints(state.agents)
    peers = {endpoints[h] for h in hosts - {host} if h in endpoints}
    return sorted(peers - {local_ip})
