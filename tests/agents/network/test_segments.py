"""Segmented networks: a VXLAN device or a VLAN sub-interface of a Kumo trunk per bridge."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from kumo.agents.network.linux import ip, names
from kumo.agents.network.plane import DataPlane, HostConfig
from kumo.agents.network.state import DesiredState
from tests.agents.network import netlab


def _details(name: str) -> dict[str, object]:
    out = subprocess.run(
        ["ip", "-d", "-j", "link", "show", "dev", name], capture_output=True, text=True, check=True
    ).stdout
    data: dict[str, object] = json.loads(out)[0]["linkinfo"]["info_data"]
    return data


def test_vxlan_and_vlan_networks(state_dir: Path) -> None:
    trunk = names.device(names.TRUNK, netlab.uid())  # a Kumo-owned stand-in for a NIC
    peer = names.device(names.TRUNK, netlab.uid())
    subprocess.run(["ip", "link", "add", trunk, "type", "veth", "peer", "name", peer], check=True)
    vx = {
        "id": netlab.uid(),
        "provider:network_type": "vxlan",
        "provider:segmentation_id": 4242,
        "mtu": 1450,
    }
    vl = {
        "id": netlab.uid(),
        "provider:network_type": "vlan",
        "provider:physical_network": "physnet1",
        "provider:segmentation_id": 42,
    }
    config = HostConfig(
        vlan_trunks={"physnet1": trunk}, vxlan_local_ip="192.0.2.250", vxlan_peers=["192.0.2.251"]
    )
    plane = DataPlane(state_dir, config)
    state = DesiredState(networks=[vx, vl])
    plane.apply(state)
    vxlan = ip.get_link(names.device(names.VXLAN, vx["id"]))
    assert vxlan is not None and vxlan.kind == "vxlan"
    assert vxlan.master == names.bridge(vx["id"])
    assert _details(vxlan.name)["id"] == 4242
    fdb = subprocess.run(
        ["bridge", "fdb", "show", "dev", vxlan.name], capture_output=True, text=True, check=True
    ).stdout
    assert "dst 192.0.2.251" in fdb
    vlan = ip.get_link(names.device(names.VLAN, vl["id"]))
    if _vlan_supported(trunk):
        assert vlan is not None and vlan.kind == "vlan"
        assert vlan.master == names.bridge(vl["id"]) and _details(vlan.name)["id"] == 42
    else:  # this kernel has no 802.1Q: the network's bridge still comes up
        assert vlan is None and ip.link_exists(names.bridge(vl["id"]))
    assert plane.apply(state) == []
    # The networks go away: their bridges and segment devices go too (the trunk stays).
    plane.apply(DesiredState())
    assert not ip.link_exists(vxlan.name)
    assert not ip.link_exists(names.device(names.VLAN, vl["id"]))
    assert not ip.link_exists(names.bridge(vx["id"]))
    assert ip.link_exists(trunk)


def _vlan_supported(trunk: str) -> bool:
    probe = names.device(names.TRUNK, netlab.uid())
    argv = ["ip", "link", "add", "link", trunk, "name", probe, "type", "vlan", "id", "7"]
    made = subprocess.run(argv, capture_output=True, check=False)
    subprocess.run(["ip", "link", "delete", probe], capture_output=True, check=False)
    return made.returncode == 0
