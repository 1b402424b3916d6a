"""Three real QEMU guests on two routed networks: the paths between them, driven by the API.

A1 and A2 boot on network A, B1 on network B; both subnets are interfaces of one
router with an external gateway. A1 has a floating IP and a security group that
lets ICMP and tcp/22 in (all three ports share it, so the pings need no other rule).
Over SSH into A1 the test proves:

- A1 pings A2's fixed IP (same bridge) and the router's gateway IP on A;
- A1 pings B1's fixed IP through the router, and the echo requests cross B's bridge
  with A1's own fixed address as their source (no NAT between tenant networks: a raw
  packet socket on B1's tap sees them);
- a spoofed source is dropped: with a second, unused address of A on A1's eth0, a ping
  from it to A2 fails while the real source still works; once that address is in A1's
  port ``allowed_address_pairs`` (through the API) the same ping works;
- another project's network C (project ``demo``: its DHCP namespace stands in for a
  guest) is out of reach of A1, and ``demo`` gets 404 for network A.

Figures printed: create → three guests up, allowed address pair → spoofed ping works.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kumo.agents.network.linux import names
from kumo.common.config import Settings
from kumo.guest.register import GUEST_IMAGE_ID
from tests.agents.guestlib import FINISHED, boot_server, wait_for
from tests.agents.network.test_guest_network import (  # fixtures are imported by name
    BOOT_DEADLINE,
    CHANGE_DEADLINE,
    Api,
    N,
    _external_network,
    _keypair,
    _ssh_rule,
    answers,
    net_cleanup,  # noqa: F401
    net_cloud,  # noqa: F401
    settings,  # noqa: F401
    ssh,
)
from tests.conftest import issue

pytestmark = pytest.mark.guest


def guest_ping(key: Path, fip: str, target: str, source: str | None = None) -> bool:
    """Whether ``target`` answers two pings sent from inside the guest behind ``fip``."""
    via = f"-I {source} " if source else ""
    out = ssh(key, fip, f"ping -c 2 -W 1 {via}{target} >/dev/null 2>&1 && echo OK || echo FAIL")
    return out.strip() == b"OK"


def ip_text(netns: str, what: str) -> str:
    """``ip -4 <what>`` in a namespace the agent made (read only)."""
    done = subprocess.run(
        ["ip", "-n", netns, "-4", what], capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout


def icmp_sources(sock: socket.socket, destination: str) -> set[str]:
    """Source addresses of the ICMP echo requests to ``destination`` queued on ``sock``."""
    sources: set[str] = set()
    sock.setblocking(False)
    while True:
        try:
            frame = sock.recv(2048)
        except BlockingIOError:
            return sources
        # Ethernet (14 bytes), then IPv4: protocol at 9, source at 12, destination at 16.
        packet = frame[14:]
        if frame[12:14] != b"\x08\x00" or len(packet) < 28 or packet[9] != 1:
            continue
        header = (packet[0] & 0x0F) * 4
        if socket.inet_ntoa(packet[16:20]) == destination and packet[header] == 8:
            sources.add(socket.inet_ntoa(packet[12:16]))


def test_three_guests_routed_spoofing_and_project_isolation(
    net_cloud: TestClient,  # noqa: F811
    settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    api = Api(net_cloud, issue(net_cloud))
    demo = Api(net_cloud, issue(net_cloud, "demo"))
    tag = uuid.uuid4().hex[:6]
    key = _keypair(api, tmp_path, f"key-{tag}")

    # Not the pool test_guest_network.py uses (another cloud may share kbr-ext).
    ext = _external_network(api, tag, ("198.51.100.170", "198.51.100.199"))
    net_a = api.create("networks", "network", name=f"a-{tag}")
    sub_a = api.create(
        "subnets", "subnet", network_id=net_a["id"], cidr="10.94.0.0/24", ip_version=4
    )
    net_b = api.create("networks", "network", name=f"b-{tag}")
    sub_b = api.create(
        "subnets", "subnet", network_id=net_b["id"], cidr="10.95.0.0/24", ip_version=4
    )
    router = api.create(
        "routers", "router", name=f"r-{tag}", external_gateway_info={"network_id": ext["id"]}
    )
    for sub in (sub_a, sub_b):
        api.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})

    # One group for the three ports: ICMP from anywhere (A1 -> A2, A1 -> B1, host -> A1)
    # and SSH from the host to A1's floating IP. Egress is open by default.
    sg = api.create("security-groups", "security_group", name=f"paths-{tag}")
    _ssh_rule(api, sg["id"], remote_ip_prefix="0.0.0.0/0")
    api.create(
        "security-group-rules",
        "security_group_rule",
        security_group_id=sg["id"],
        direction="ingress",
        ethertype="IPv4",
        protocol="icmp",
    )
    ports = {
        name: api.create(
            "ports", "port", network_id=net["id"], security_groups=[sg["id"]], name=f"{name}-{tag}"
        )
        for name, net in (("a1", net_a), ("a2", net_a), ("b1", net_b))
    }
    fixed = {name: port["fixed_ips"][0]["ip_address"] for name, port in ports.items()}
    fip = api.create(
        "floatingips", "floatingip", floating_network_id=ext["id"], port_id=ports["a1"]["id"]
    )["floating_ip_address"]

    # Project demo's network C: the agent gives it a bridge and a DHCP namespace, whose
    # address stands in for a guest there.
    net_c = demo.create("networks", "network", name=f"c-{tag}")
    demo.create("subnets", "subnet", network_id=net_c["id"], cidr="10.96.0.0/24", ip_version=4)

    started = time.monotonic()
    servers = {
        name: boot_server(
            net_cloud,
            f"{name}-{tag}",
            GUEST_IMAGE_ID,
            api.headers,
            networks=[{"port": port["id"]}],
            config_drive=False,
            key_name=f"key-{tag}",
        )
        for name, port in ports.items()
    }

    def up(name: str) -> bool:
        server = api.server(servers[name])
        assert server["status"] != "ERROR", server
        return server["status"] == "ACTIVE" and FINISHED in api.console(servers[name])

    try:
        for name in servers:
            wait_for(f"{name} booted", lambda n=name: up(n), BOOT_DEADLINE, every=1.0)  # type: ignore[misc]
        wait_for("SSH banner on A1's floating IP", lambda: answers(fip), 60, every=0.3)
    except AssertionError as exc:
        consoles = "\n".join(f"--- {n}\n{api.console(s)[-1500:]}" for n, s in servers.items())
        raise AssertionError(f"{exc}\n{consoles}") from None
    to_up = time.monotonic() - started
    for name, server_id in servers.items():
        assert f"DHCP lease {fixed[name]}/24" in api.console(server_id), name

    # Same network, and the router's gateway on A.
    assert guest_ping(key, fip, fixed["a2"])
    assert guest_ping(key, fip, sub_a["gateway_ip"])
    # The second network through the router; B1 is reached at its own fixed address and
    # the router does no NAT between its tenant interfaces (only SNAT to the gateway).
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    with sniffer:
        sniffer.bind((names.tap(ports["b1"]["id"]), 0))
        assert guest_ping(key, fip, fixed["b1"])
        seen = icmp_sources(sniffer, fixed["b1"])
    assert seen == {fixed["a1"]}, seen
    route = ssh(key, fip, f"ip route get {fixed['b1']}").decode()
    assert f"via {sub_a['gateway_ip']}" in route, route

    # Anti-spoofing: a second address of A on A1's NIC (not allocated to any port).
    spoofed = "10.94.0.250"
    assert spoofed not in fixed.values()
    ssh(key, fip, f"ip addr add {spoofed}/24 dev eth0")
    assert not guest_ping(key, fip, fixed["a2"], source=spoofed)
    assert guest_ping(key, fip, fixed["a2"], source=fixed["a1"])
    paired = time.monotonic()
    api.put(
        f"/ports/{ports['a1']['id']}",
        {"port": {"allowed_address_pairs": [{"ip_address": spoofed}]}},
    )
    wait_for(
        "spoofed ping allowed by the address pair",
        lambda: guest_ping(key, fip, fixed["a2"], source=spoofed),
        CHANGE_DEADLINE,
        every=1.0,
    )
    pair_to_ping = time.monotonic() - paired

    # Two projects: demo cannot see network A; A1 cannot reach C's DHCP address, which
    # is live (its namespace has it) but has no route from A's router and no L2 to A.
    assert net_cloud.get(f"{N}/networks/{net_a['id']}", headers=demo.headers).status_code == 404
    dhcp_ports = [
        p
        for p in api.client.get(
            f"{N}/ports", params={"network_id": net_c["id"]}, headers=api.headers
        ).json()["ports"]
        if p["device_owner"] == "network:dhcp"
    ]
    assert dhcp_ports, "network C has no DHCP port"
    c_address = dhcp_ports[0]["fixed_ips"][0]["ip_address"]
    dhcp_ns = names.dhcp_namespace(net_c["id"])
    wait_for(
        "C's DHCP address up",
        lambda: f"{c_address}/" in ip_text(dhcp_ns, "addr"),
        CHANGE_DEADLINE,
        every=0.5,
    )
    assert not guest_ping(key, fip, c_address)
    rns = names.router_namespace(router["id"])
    routes = ip_text(rns, "route")
    assert "10.94.0.0/24" in routes and "10.96.0." not in routes, routes

    print(
        f"\nserver create -> three guests up and A1's floating IP answering SSH: {to_up:.1f} s"
        f"\nallowed address pair set -> spoofed-source ping answered: {pair_to_ping:.2f} s"
    )
