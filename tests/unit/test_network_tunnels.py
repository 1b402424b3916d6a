"""Multi-host VXLAN decisions without root: which hosts a network spans, and the peers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from kumo.agents.network import tunnels
from kumo.agents.network.report import configurations
from kumo.agents.network.state import DesiredState
from kumo.common.config import Settings


def _agent(host: str, tunneling_ip: Any, *, alive: bool = True, kind: str = tunnels.L2_AGENT):
    return {
        "host": host,
        "agent_type": kind,
        "alive": alive,
        "configurations": {"tunneling_ip": tunneling_ip},
    }


def _port(network: str, host: str) -> dict[str, Any]:
    return {"id": f"{network}-{host}", "network_id": network, "binding:host_id": host}


def test_endpoints_only_from_live_l2_agents_with_an_address() -> None:
    agents = [
        _agent("h1", "10.254.1.1"),
        _agent("h2", "10.254.1.2", alive=False),  # dead: its host gets no traffic
        _agent("h3", "10.254.1.3", kind="DHCP agent"),
        _agent("h4", "10.254.1.4; ip link del eth0"),  # never reaches `bridge fdb`
        _agent("h5", None),
        _agent("", "10.254.1.6"),
    ]
    assert tunnels.tunnel_endpoints(agents) == {"h1": "10.254.1.1"}


def test_peers_only_when_the_network_spans_hosts() -> None:
    agents = [_agent("h1", "10.254.1.1"), _agent("h2", "10.254.1.2"), _agent("h3", "10.254.1.3")]
    state = DesiredState(
        ports=[_port("one", "h1"), _port("two", "h1"), _port("two", "h2"), _port("x", "")],
        agents=agents,
    )
    # On one host: no peers, so no VXLAN device.
    assert tunnels.vxlan_peers(state, "one", "h1", "10.254.1.1") == []
    # On two hosts: each floods to the other only.
    assert tunnels.vxlan_peers(state, "two", "h1", "10.254.1.1") == ["10.254.1.2"]
    assert tunnels.vxlan_peers(state, "two", "h2", "10.254.1.2") == ["10.254.1.1"]
    # A host without a port of the network needs nothing of it.
    assert tunnels.vxlan_peers(state, "two", "h3", "10.254.1.3") == []
    assert tunnels.local_networks(state, "h2") == {"two"}
    # A host that has not reported its endpoint yet is not a peer (yet).
    state.agents = agents[:1]
    assert tunnels.vxlan_peers(state, "two", "h1", "10.254.1.1") == []


def test_compute_host_reports_only_the_l2_agent_with_its_tunnel_ip() -> None:
    guest = {"device_owner": "compute:nova", "network_id": "n"}
    state = DesiredState(
        ports=[{**guest, "binding:host_id": "h2"}, {**guest, "binding:host_id": "h1"}]
    )
    compute = configurations(state, network_node=False, tunneling_ip="10.254.1.2", host="h2")
    assert list(compute) == ["Linux bridge agent"]
    assert compute["Linux bridge agent"]["tunneling_ip"] == "10.254.1.2"
    assert compute["Linux bridge agent"]["devices"] == 1
    node = configurations(None)
    assert {"DHCP agent", "L3 agent", "Metadata agent", "Linux bridge agent"} == set(node)
    assert "tunneling_ip" not in node["Linux bridge agent"]


def test_settings_validate_mode_and_tunnel_ip() -> None:
    assert Settings(network_tunnel_ip="10.254.1.2").network_tunnel_ip == "10.254.1.2"
    assert Settings(network_tunnel_ip="").network_tunnel_ip is None
    with pytest.raises(ValidationError):
        Settings(network_tunnel_ip="10.254.1.2 dev eth0")
    with pytest.raises(ValidationError):
        Settings(network_agent_mode="l3")  # type: ignore[arg-type]
