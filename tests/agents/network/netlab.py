"""Namespaces standing in for guests, a TCP listener and client, and a sample topology.

Every object here carries a Kumo prefix (namespaces ``kumo-t…``, taps
``ktp-…``) so the network cleanup removes it even when a test dies.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from typing import Any

from kumo.agents.network.linux import names
from kumo.agents.network.state import DesiredState

LISTENER = textwrap.dedent(
    """
    import socket, sys, time
    port, text = int(sys.argv[1]), sys.argv[2]
    s = socket.socket(socket.AF_INET6 if ":" in sys.argv[3] else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[3], port)); s.listen(16); s.settimeout(1.0)
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn, peer = s.accept()
        except TimeoutError:
            continue
        conn.sendall(f"{text} {peer[0]}\\n".encode()); conn.close()
    """
)

CLIENT = textwrap.dedent(
    """
    import socket, sys
    host, port, source, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    try:
        s = socket.create_connection(
            (host, port), timeout=timeout, source_address=(source, 0) if source else None)
        print(s.recv(200).decode().strip())
    except OSError as exc:
        print(f"ERROR {type(exc).__name__}")
    """
)


def sh(*argv: str, netns: str | None = None, stdin: str | None = None) -> str:
    """Run a command (inside ``netns``), fail the test if it fails, return stdout."""
    full = ["ip", "netns", "exec", netns, *argv] if netns else list(argv)
    done = subprocess.run(full, capture_output=True, text=True, timeout=30, input=stdin)
    assert done.returncode == 0, f"{full}: {done.stderr}"
    return done.stdout


def connect(
    host: str, port: int, *, netns: str | None, source: str = "", timeout: float = 2.0
) -> str:
    """Open a TCP connection (from ``netns``); the listener's greeting or ``ERROR …``."""
    argv = [sys.executable, "-c", CLIENT, host, str(port), source, str(timeout)]
    full = ["ip", "netns", "exec", netns, *argv] if netns else argv
    done = subprocess.run(full, capture_output=True, text=True, timeout=timeout + 20)
    return done.stdout.strip() or f"ERROR {done.stderr.strip()[-200:]}"


def connect_ok(host: str, port: int, *, netns: str | None, source: str = "") -> str:
    """Like :func:`connect` for a connection that must work: up to 3 tries on a busy host."""
    answer = ""
    for _ in range(3):
        answer = connect(host, port, netns=netns, source=source, timeout=5)
        if not answer.startswith("ERROR"):
            break
    return answer


def listen(netns: str | None, port: int, text: str, bind: str) -> subprocess.Popen[str]:
    """A TCP listener (in ``netns``, or on the host) answering ``<text> <peer ip>``."""
    argv = [sys.executable, "-c", LISTENER, str(port), text, bind]
    full = ["ip", "netns", "exec", netns, *argv] if netns else argv
    errors = []
    for _ in range(3):  # `ip netns exec` now and then fails on a busy host; try again
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stderr is not None
        if proc.stdout.readline().strip() == "ready":
            return proc
        proc.kill()
        errors.append(proc.communicate(timeout=10)[1].strip()[-300:])
    raise AssertionError(f"listener did not start: {errors}")


@dataclass
class Guest:
    """A namespace plugged into a Kumo bridge through a tap-named veth, like a QEMU guest."""

    netns: str
    port: dict[str, Any]
    listeners: list[subprocess.Popen[str]]

    @property
    def ip(self) -> str:
        return str(self.port["fixed_ips"][0]["ip_address"])

    def listen(self, port: int, text: str, bind: str = "0.0.0.0") -> None:  # noqa: S104
        """Start a TCP listener answering ``<text> <peer ip>``; wait until it listens."""
        self.listeners.append(listen(self.netns, port, text, bind))

    def stop(self) -> None:
        for proc in self.listeners:
            proc.kill()
            proc.wait(timeout=10)
        subprocess.run(["ip", "netns", "delete", self.netns], check=False)


def make_guest(
    tag: str,
    name: str,
    port: dict[str, Any],
    *,
    prefixlen: int,
    gateway: str | None,
    static: bool = True,
) -> Guest:
    """A guest namespace whose ``eth0`` has the port's MAC (and IP when ``static``)."""
    netns = f"kumo-t{tag}-{name}"
    sh("ip", "netns", "add", netns)
    sh("ip", "link", "set", "lo", "up", netns=netns)
    tap = names.tap(port["id"])
    sh(
        "ip",
        "link",
        "add",
        tap,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "address",
        port["mac_address"],
        "netns",
        netns,
    )
    sh("ip", "link", "set", "eth0", "up", netns=netns)
    if static:
        sh(
            "ip",
            "addr",
            "add",
            f"{port['fixed_ips'][0]['ip_address']}/{prefixlen}",
            "dev",
            "eth0",
            netns=netns,
        )
        if gateway:
            sh("ip", "route", "add", "default", "via", gateway, netns=netns)
    return Guest(netns=netns, port=port, listeners=[])


def uid() -> str:
    return str(uuid.uuid4())


@dataclass
class Topology:
    """A sample cloud: external net, private net with DHCP, router, two guests, a FIP."""

    tag: str
    state: DesiredState
    ext: dict[str, Any]
    net: dict[str, Any]
    subnet: dict[str, Any]
    router: dict[str, Any]
    g1: dict[str, Any]
    g2: dict[str, Any]
    sg_web: dict[str, Any]
    sg_default: dict[str, Any]
    fip: dict[str, Any]


def mac(n: int) -> str:
    return f"fa:16:3e:00:90:{n:02x}"


def port(
    net: dict[str, Any],
    subnet: dict[str, Any],
    ip: str,
    n: int,
    owner: str,
    device: str = "",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": uid(),
        "network_id": net["id"],
        "mac_address": mac(n),
        "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": ip}],
        "device_owner": owner,
        "device_id": device or uid(),
        "security_groups": [],
        "port_security_enabled": True,
        "allowed_address_pairs": [],
        **extra,
    }


def rule(sg: dict[str, Any], direction: str, **kw: Any) -> dict[str, Any]:
    body = {
        "id": uid(),
        "security_group_id": sg["id"],
        "direction": direction,
        "ethertype": "IPv4",
        "protocol": None,
        "port_range_min": None,
        "port_range_max": None,
        "remote_ip_prefix": None,
        "remote_group_id": None,
    }
    body.update(kw)
    return body


def topology() -> Topology:
    tag = uuid.uuid4().hex[:6]
    ext = {
        "id": uid(),
        "name": "public",
        "router:external": True,
        "mtu": 1500,
        "provider:network_type": "flat",
    }
    ext_sub = {
        "id": uid(),
        "network_id": ext["id"],
        "cidr": "198.51.100.0/24",
        "gateway_ip": "198.51.100.1",
        "enable_dhcp": False,
    }
    net = {"id": uid(), "name": "private", "mtu": 1450}
    sub = {
        "id": uid(),
        "network_id": net["id"],
        "cidr": "10.90.1.0/24",
        "gateway_ip": "10.90.1.1",
        "enable_dhcp": True,
        "dns_nameservers": ["10.90.1.2"],
        "host_routes": [],
    }
    router = {
        "id": uid(),
        "name": "r1",
        "routes": [],
        "external_gateway_info": {"network_id": ext["id"], "enable_snat": True},
    }
    sg_web = {"id": uid(), "name": "web", "security_group_rules": []}
    sg_default = {"id": uid(), "name": "default", "security_group_rules": []}
    sg_web["security_group_rules"] = [
        rule(sg_web, "egress"),
        rule(
            sg_web,
            "ingress",
            protocol="tcp",
            port_range_min=8080,
            port_range_max=8080,
            remote_ip_prefix="0.0.0.0/0",
        ),
    ]
    sg_default["security_group_rules"] = [
        rule(sg_default, "egress"),
        rule(sg_default, "ingress", remote_group_id=sg_default["id"]),
    ]
    dhcp = port(net, sub, "10.90.1.2", 2, "network:dhcp")
    rif = port(net, sub, "10.90.1.1", 1, "network:router_interface", router["id"])
    gw = port(ext, ext_sub, "198.51.100.10", 10, "network:router_gateway", router["id"])
    g1 = port(net, sub, "10.90.1.11", 11, "compute:nova", security_groups=[sg_web["id"]])
    g2 = port(net, sub, "10.90.1.12", 12, "compute:nova", security_groups=[sg_default["id"]])
    fip = {
        "id": uid(),
        "floating_ip_address": "198.51.100.20",
        "fixed_ip_address": "10.90.1.11",
        "port_id": g1["id"],
        "router_id": router["id"],
        "floating_network_id": ext["id"],
    }
    state = DesiredState(
        networks=[ext, net],
        subnets=[ext_sub, sub],
        ports=[dhcp, rif, gw, g1, g2],
        routers=[router],
        floatingips=[fip],
        security_groups=[sg_web, sg_default],
    )
    return Topology(tag, state, ext, net, sub, router, g1, g2, sg_web, sg_default, fip)
