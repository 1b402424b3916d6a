"""The data plane of one host: apply a desired state, changing only what differs.

:meth:`DataPlane.apply` is the whole reconcile step: bridges (with VLAN or
VXLAN devices for segmented networks), guest taps plugged into them, the
external bridge and its one host address, DHCP servers, routers and the
security group tables. Running it twice changes nothing the second time; a
namespace, device or rule removed by hand comes back on the next run.

The security group tables come first (a guest tap plugged later in the same
pass is filtered from its first frame) and can also be applied alone
(:meth:`DataPlane.apply_security_groups`), from another thread, while a full
apply is under way.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from kumo.agents.network import dhcp, ownership, router, security_groups, tunnels
from kumo.agents.network.linux import hostsafety, ip, names, nft
from kumo.agents.network.linux.cmd import LinuxCommandError
from kumo.agents.network.state import DesiredState, Resource, is_external, is_guest_port

log = logging.getLogger(__name__)


@dataclass
class HostConfig:
    """Which host this is, what it serves, and how its bridges reach other hosts."""

    #: physical network → a Kumo-owned trunk device for VLAN sub-interfaces.
    vlan_trunks: dict[str, str] = field(default_factory=dict)
    #: This host's VTEP address (``network_tunnel_ip``).
    vxlan_local_ip: str | None = None
    #: Fixed peers of every VXLAN network; empty: the peers come from the desired state
    #: (the other hosts with ports of the network, and their reported tunnel IPs).
    vxlan_peers: list[str] = field(default_factory=list)
    #: This host's name, as ports are bound to it (``binding:host_id``).
    host: str = ""
    #: ``all``: the network node (DHCP, routers too); ``compute``: L2 and security groups
    #: only, for the networks with ports bound to this host.
    mode: Literal["all", "compute"] = "all"


def network_bridge(network: Resource) -> str:
    """The bridge name of a network (``kbr-ext`` for the external network)."""
    if is_external(network):
        return names.EXTERNAL_BRIDGE
    return names.bridge(str(network["id"]))


class DataPlane:
    """Applies desired states on this host; files live under ``<state_dir>/network``."""

    def __init__(
        self,
        state_dir: Path,
        config: HostConfig | None = None,
        *,
        isolate_security_groups: bool = False,
    ) -> None:
        self.state_dir = state_dir
        self.config = config or HostConfig()
        #: With isolation, this cloud's security groups live in tables of their own
        #: (``kumo-sg-<tag>``), so another cloud on the host does not overwrite them.
        self.sg_tag = ownership.security_group_tag(state_dir) if isolate_security_groups else 0
        self.sg_table = security_groups.table_name(self.sg_tag)
        #: What this cloud made here; stale objects another cloud claims are left alone.
        self.ownership = ownership.Ownership(state_dir)
        #: What the tables were last made of: (bridge body, inet body) as rendered, and
        #: (bridge, inet) as ``nft list`` showed them right after.
        self._sg_applied: tuple[str, str, str | None, str | None] | None = None
        #: The fetch whose security groups the tables hold (0: none yet).
        self._sg_fetch = 0
        #: One writer of the security group tables at a time (full applies and the
        #: agent's security group loop run in different threads).
        self._sg_lock = threading.Lock()

    def apply(self, state: DesiredState, *, fetch: int | None = None) -> list[str]:
        """Make the host match ``state``; the list says what had to change (empty: nothing).

        ``fetch`` numbers the fetch ``state`` came from, as for
        :meth:`apply_security_groups`.
        """
        changes: list[str] = []
        network_node = self.config.mode == "all"
        if not network_node:
            state = self._compute_host_state(state)
        owned = ownership.wanted(state)
        if not network_node:
            # DHCP and router namespaces (global names) are the network node's, never ours.
            owned.namespaces.clear()
            owned.devices = {
                d
                for d in owned.devices
                if not d.startswith((names.DHCP_VETH, names.ROUTER_VETH, names.GATEWAY_VETH))
            }
        owned.tables |= {f"inet {self.sg_table}", f"bridge {self.sg_table}"}
        self.ownership.claim(owned)  # recorded before made: a crash mid-apply leaks nothing
        if self.apply_security_groups(state, fetch=fetch):
            changes.append("security groups")
        self._bridges(state, changes)
        if network_node:
            self._dhcp(state, changes)
            self._routers(state, changes)
        self.ownership.settle(owned)
        return changes

    def _compute_host_state(self, state: DesiredState) -> DesiredState:
        """What a compute-only host reflects: the networks with ports bound to it.

        No routers or floating IPs (the network node serves them); every port
        and security group stays, as remote-group rules name other hosts' ports.
        """
        local = tunnels.local_networks(state, self.config.host)
        return replace(
            state,
            networks=[n for n in state.networks if n["id"] in local and not is_external(n)],
            subnets=[s for s in state.subnets if s["network_id"] in local],
            routers=[],
            floatingips=[],
        )

    # Bridges

    def _bridges(self, state: DesiredState, changes: list[str]) -> None:
        wanted: set[str] = set()
        for network in state.networks:
            name = network_bridge(network)
            if name in wanted:
                log.warning("network %s shares bridge %s; skipped", network["id"], name)
                continue
            wanted.add(name)
            if ip.ensure_bridge(name, mtu=network.get("mtu")):
                changes.append(f"bridge {name}")
            self._segment(state, network, name, wanted, changes)
            if is_external(network):
                addresses = []
                for subnet in state.subnets_of(str(network["id"])):
                    net = ipaddress.ip_network(subnet["cidr"])
                    if subnet.get("gateway_ip") and net.version == 4:
                        addresses.append(f"{subnet['gateway_ip']}/{net.prefixlen}")
                # The host's one address on Kumo's own device: it reaches floating IPs,
                # unless that range is one the host already uses (it would lose it).
                addresses = [a for a in addresses if self._safe_host_address(a, name)]
                if ip.sync_addresses(name, addresses):
                    changes.append(f"address {addresses} on {name}")
        for port in state.ports:
            if not is_guest_port(port):
                continue
            port_network = state.network(str(port["network_id"]))
            tap = ip.get_link(names.tap(str(port["id"])))
            if tap is None or port_network is None:
                continue  # the guest is not running here (yet)
            bridge = network_bridge(port_network)
            if tap.master != bridge or not tap.up:
                ip.set_master(tap.name, bridge)
                ip.set_up(tap.name)
                changes.append(f"plug {tap.name} into {bridge}")
        for link in ip.list_links():
            is_bridge = link.kind == "bridge" and link.name.startswith(names.BRIDGE)
            stale = link.name not in wanted and (
                is_bridge or link.name.startswith((names.VXLAN, names.VLAN))
            )
            # Another cloud on this host may own it: leave that one alone.
            if stale and self.ownership.may_remove(link.name):
                ip.delete_link(link.name)
                changes.append(f"delete {'bridge ' if is_bridge else ''}{link.name}")

    def _segment(
        self,
        state: DesiredState,
        network: Resource,
        bridge: str,
        wanted: set[str],
        changes: list[str],
    ) -> None:
        kind = network.get("provider:network_type")
        seg = network.get("provider:segmentation_id")
        if kind == "vxlan" and isinstance(seg, int):
            peers = self._vxlan_peers(state, network)
            if not peers:
                # One host: the bridge alone carries the network. A VXLAN device would
                # carry nothing, and the VNI may be taken by another cloud on this host.
                return
            name = names.device(names.VXLAN, str(network["id"]))
            wanted.add(name)
            try:
                if ip.ensure_vxlan(
                    name,
                    vni=seg,
                    bridge=bridge,
                    local_ip=self.config.vxlan_local_ip,
                    mtu=network.get("mtu"),
                ):
                    changes.append(f"vxlan {name}")
                ip.set_vxlan_peers(name, peers)
            except LinuxCommandError as exc:  # e.g. the VNI is used by another device
                log.warning("VXLAN network %s not connected: %s", network["id"], exc)
        elif kind == "vlan" and isinstance(seg, int):
            trunk = self.config.vlan_trunks.get(str(network.get("provider:physical_network")))
            if trunk is None:
                log.warning("no trunk for VLAN network %s", network["id"])
                return
            name = names.device(names.VLAN, str(network["id"]))
            wanted.add(name)
            try:
                if ip.ensure_vlan(name, parent=trunk, vlan_id=seg, bridge=bridge):
                    changes.append(f"vlan {name}")
            except LinuxCommandError as exc:  # e.g. a kernel without 802.1Q support
                log.warning("VLAN network %s not connected: %s", network["id"], exc)

    def _vxlan_peers(self, state: DesiredState, network: Resource) -> list[str]:
        if self.config.vxlan_peers:
            return list(self.config.vxlan_peers)
        if not self.config.vxlan_local_ip:
            return []  # no underlay address: this host cannot tunnel
        return tunnels.vxlan_peers(
            state, str(network["id"]), self.config.host, self.config.vxlan_local_ip
        )

    # DHCP

    def _dhcp(self, state: DesiredState, changes: list[str]) -> None:
        wanted = dhcp.wanted_networks(state)
        for network_id, port in sorted(wanted.items()):
            if dhcp.DhcpServer(self.state_dir, network_id).sync(state, port):
                changes.append(f"dhcp {network_id}")
        for ns in ip.list_namespaces():
            if ns.startswith(names.DHCP_NS_PREFIX):
                network_id = ns[len(names.DHCP_NS_PREFIX) :]
                if network_id not in wanted and self.ownership.may_remove(ns):
                    dhcp.DhcpServer(self.state_dir, network_id).remove()
                    changes.append(f"delete dhcp {network_id}")

    def _safe_host_address(self, address: str, device: str) -> bool:
        if address in ip.list_addresses(device):
            return True
        conflicts = hostsafety.host_conflicts(address)
        if conflicts:
            log.error(
                "external network %s overlaps %s: the host gets no address on %s "
                "(floating IPs will not answer from the host); choose another range",
                address,
                ", ".join(conflicts),
                device,
            )
        return not conflicts

    # Routers

    def _routers(self, state: DesiredState, changes: list[str]) -> None:
        wanted = set()
        external = next((n for n in state.networks if is_external(n)), None)
        ext_bridge = network_bridge(external) if external else names.EXTERNAL_BRIDGE
        for r in state.routers:
            wanted.add(str(r["id"]))
            if router.sync(state, router.plan(state, r), ext_bridge, state_dir=self.state_dir):
                changes.append(f"router {r['id']}")
        for ns in ip.list_namespaces():
            if ns.startswith(names.ROUTER_NS_PREFIX):
                router_id = ns[len(names.ROUTER_NS_PREFIX) :]
                if router_id not in wanted and self.ownership.may_remove(ns):
                    router.remove(router_id, state_dir=self.state_dir)
                    changes.append(f"delete router {router_id}")

    # Security groups

    def apply_security_groups(self, state: DesiredState, *, fetch: int | None = None) -> bool:
        """Make only the security group tables match ``state``; True when they changed.

        Only ``state.ports`` and ``state.security_groups`` are read. ``fetch``
        numbers the fetch ``state`` came from, in the order fetches started: a
        state from an earlier fetch than the one applied last is skipped (False),
        since it may predate a change the later one already shows. (A change
        after the later fetch started is notified again and fetched anew.)
        """
        with self._sg_lock:
            if fetch is not None and fetch < self._sg_fetch:
                return False
            changed = self._sync_security_groups(state)
            if fetch is not None:
                self._sg_fetch = fetch
            return changed

    def _sync_security_groups(self, state: DesiredState) -> bool:
        bodies = security_groups.render(state, self.sg_tag)
        current = self._sg_listing()
        last = self._sg_applied
        # Same rules as last time: replace the tables only if they drifted (edited or
        # deleted by hand).
        if last and last[:2] == bodies and last[2:] == current:
            return False
        security_groups.replace(*bodies, self.sg_tag)
        self._sg_applied = (*bodies, *self._sg_listing())
        return True

    def _sg_listing(self) -> tuple[str | None, str | None]:
        return (
            nft.table_text("bridge", self.sg_table),
            nft.table_text("inet", self.sg_table),
        )
