"""Names of everything Kumo creates on a host, and how to recognise them.

Linux interface names are at most 15 characters, so devices are a 4-character
Kumo prefix plus the first 11 hex digits of the resource's id (Neutron's
``tap<id[:11]>`` scheme). Namespaces and nftables tables start with ``kumo-``.
"""

from __future__ import annotations

#: Namespace and nftables table names Kumo owns start with this.
KUMO = "kumo-"
DHCP_NS_PREFIX = "kumo-qdhcp-"
ROUTER_NS_PREFIX = "kumo-qrouter-"

BRIDGE = "kbr-"
TAP = "ktp-"  # a guest's tap (QEMU attaches it)
DHCP_VETH = "kvd-"  # host end of a DHCP namespace's port
ROUTER_VETH = "kvr-"  # host end of a router interface
GATEWAY_VETH = "kvg-"  # host end of a router's external gateway
VXLAN = "kvx-"
VLAN = "kvl-"
TRUNK = "ktk-"  # a Kumo-made trunk standing in for a NIC (single-host VLAN networks)

#: Every host-side device name prefix Kumo uses.
DEVICE_PREFIXES = (BRIDGE, TAP, DHCP_VETH, ROUTER_VETH, GATEWAY_VETH, VXLAN, VLAN, TRUNK)

#: The bridge of the single-host external (flat) network.
EXTERNAL_BRIDGE = "kbr-ext"

MAX_IFNAME = 15


def short(resource_id: str) -> str:
    """The 11 characters of an id that go into device names."""
    return resource_id.replace("-", "")[:11]


def device(prefix: str, resource_id: str) -> str:
    """A device name: Kumo prefix + short id (≤ 15 characters)."""
    name = prefix + short(resource_id)
    assert len(name) <= MAX_IFNAME
    return name


def bridge(network_id: str) -> str:
    """The Linux bridge carrying ``network_id`` on this host."""
    return device(BRIDGE, network_id)


def tap(port_id: str) -> str:
    """The tap device of a guest's port."""
    return device(TAP, port_id)


def dhcp_namespace(network_id: str) -> str:
    """The namespace running dnsmasq for a network."""
    return DHCP_NS_PREFIX + network_id


def router_namespace(router_id: str) -> str:
    """The namespace of a router."""
    return ROUTER_NS_PREFIX + router_id


def is_kumo_device(name: str) -> bool:
    """Whether a host device name is one Kumo makes."""
    return name.startswith(DEVICE_PREFIXES)


def is_kumo_namespace(name: str) -> bool:
    """Whether a namespace name is one Kumo makes."""
    return name.startswith(KUMO)


def is_kumo_table(name: str) -> bool:
    """Whether an nftables table name is one Kumo makes."""
    return name.startswith(KUMO)
