"""The network service's tables (Neutron's data model, flattened where lists suffice).

Every resource carries Neutron's standard attributes (description, revision
number, created/updated timestamps); tags live in one table keyed by resource
type and id. Lists that are only ever read with their owner (allocation pools,
host routes, DNS servers, address pairs, DHCP options, static routes) are JSON
columns; everything that is looked up or must stay unique (IP allocations, MAC
addresses, segmentation ids, the per-project default security group) is a
real column with a constraint, so the database arbitrates concurrent writers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kumo.common.db import Base, JSONType, UTCDateTime, utcnow

ID = String(36)


class StandardAttrs:
    """Neutron's standard attributes: description, revision, timestamps."""

    description: Mapped[str] = mapped_column(String(255), default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Network(StandardAttrs, Base):
    """A layer-2 network, with its one provider segment."""

    __tablename__ = "net_networks"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    router_external: Mapped[bool] = mapped_column(Boolean, default=False)
    mtu: Mapped[int] = mapped_column(Integer)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    network_type: Mapped[str] = mapped_column(String(32))
    physical_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: "vxlan:1001", "vlan:physnet1:100", "flat:public": one network per segment.
    segment_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSONType, default=list)


class SubnetPool(StandardAttrs, Base):
    """A pool of prefixes that subnets may be carved from."""

    __tablename__ = "net_subnetpools"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    ip_version: Mapped[int] = mapped_column(Integer)
    prefixes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    default_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address_scope_id: Mapped[str | None] = mapped_column(ID, nullable=True)


class Subnet(StandardAttrs, Base):
    """An IP range on a network."""

    __tablename__ = "net_subnets"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    network_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_networks.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255), default="")
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subnetpool_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("net_subnetpools.id"), nullable=True, index=True
    )
    allocation_pools: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    dns_nameservers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    host_routes: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)


class Port(StandardAttrs, Base):
    """A port on a network (a NIC, a router interface, a DHCP server, a floating IP)."""

    __tablename__ = "net_ports"
    __table_args__ = (UniqueConstraint("network_id", "mac_address"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    network_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_networks.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255), default="")
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    binding_host_id: Mapped[str] = mapped_column(String(255), default="")
    binding_vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    binding_vif_type: Mapped[str] = mapped_column(String(64), default="unbound")
    binding_profile: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    binding_vif_details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    allowed_address_pairs: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    extra_dhcp_opts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    dns_name: Mapped[str] = mapped_column(String(255), default="")


class IPAllocation(Base):
    """One fixed IP of a port; an address is allocated at most once per subnet."""

    __tablename__ = "net_ip_allocations"

    subnet_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_subnets.id", ondelete="CASCADE"), primary_key=True
    )
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_ports.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[str] = mapped_column(ID, index=True)
    #: Order of the address on its port (fixed_ips keep their request order).
    position: Mapped[int] = mapped_column(Integer, default=0)


class SecurityGroup(StandardAttrs, Base):
    """A named set of firewall rules."""

    __tablename__ = "net_security_groups"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    stateful: Mapped[bool] = mapped_column(Boolean, default=True)


class DefaultSecurityGroup(Base):
    """Each project's ``default`` group; the primary key makes it one per project."""

    __tablename__ = "net_default_security_groups"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_security_groups.id", ondelete="CASCADE")
    )


class SecurityGroupRule(StandardAttrs, Base):
    """One rule of a security group."""

    __tablename__ = "net_security_group_rules"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    security_group_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_security_groups.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(16))
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("net_security_groups.id", ondelete="CASCADE"), nullable=True, index=True
    )


class PortSecurityGroup(Base):
    """A port's membership in a security group."""

    __tablename__ = "net_port_security_groups"

    port_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_ports.id", ondelete="CASCADE"), primary_key=True
    )
    security_group_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_security_groups.id"), primary_key=True, index=True
    )


class Router(StandardAttrs, Base):
    """A virtual router; its interfaces are ports whose device_id is the router."""

    __tablename__ = "net_routers"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    gw_port_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("net_ports.id", ondelete="SET NULL"), nullable=True
    )
    gw_network_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    routes: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    distributed: Mapped[bool] = mapped_column(Boolean, default=False)
    ha: Mapped[bool] = mapped_column(Boolean, default=False)


class FloatingIP(StandardAttrs, Base):
    """An address on an external network, optionally mapped to a port's fixed IP."""

    __tablename__ = "net_floatingips"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    floating_network_id: Mapped[str] = mapped_column(ID, ForeignKey("net_networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_ports.id", ondelete="CASCADE")
    )
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    port_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("net_ports.id", ondelete="SET NULL"), nullable=True, index=True
    )
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")


class Quota(Base):
    """A project's limit for one resource (absent: the default)."""

    __tablename__ = "net_quotas"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class Tag(Base):
    """A tag on any standard-attribute resource."""

    __tablename__ = "net_tags"
    __table_args__ = (Index("ix_net_tags_tag", "tag"),)

    resource_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    resource_id: Mapped[str] = mapped_column(ID, primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)


class PortForwarding(Base):
    """A floating IP's port forwarding to one internal address and port."""

    __tablename__ = "net_port_forwardings"
    __table_args__ = (
        UniqueConstraint("floatingip_id", "external_port", "protocol"),
        UniqueConstraint("internal_port_id", "internal_ip_address", "internal_port", "protocol"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    floatingip_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_floatingips.id", ondelete="CASCADE"), index=True
    )
    internal_port_id: Mapped[str] = mapped_column(
        ID, ForeignKey("net_ports.id", ondelete="CASCADE"), index=True
    )
    internal_ip_address: Mapped[str] = mapped_column(String(64))
    internal_port: Mapped[int] = mapped_column(Integer)
    external_port: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(255), default="")
