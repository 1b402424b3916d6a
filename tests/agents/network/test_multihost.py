"""Two hosts: a second "host" in a network namespace, VXLAN between them.

Host 1 is the test's cloud, served by uvicorn on the host's end of a Kumo veth
(the underlay, 10.254.<n>.0/30) with its network agent in the API process
(role all: the network node). Host 2 is the namespace ``kumo-h<tag>`` holding
the other end of the veth, where ``kumo serve --role network`` runs in
``network_agent_mode = compute``: it reads the API over the underlay, reports
its tunnel IP and builds bridges, VXLAN devices, tap plugging and security
groups there, but no DHCP or routers.

On one VXLAN tenant network a namespace guest has a port bound to host 1 and
another has a port bound to host 2 (its tap-named veth inside ``kumo-h…``).
The test proves: no VXLAN device while the network is on one host; once the
second port is bound to host 2, each host has the network's VXLAN device with
the other host's tunnel IP as its only peer; the host-2 guest gets its address
by DHCP from host 1's dnsmasq across the tunnel; TCP works both ways between the
guests; host 2's security groups block a port without a rule and open it when
the rule is added; when the host-2 port goes, host 1's VXLAN device goes too.

With ``KUMO_TEST_GUEST_MULTIHOST=1`` (``make test-guests``) host 2 also runs
``kumo serve --role compute`` (the cloud's compute control plane is then on
RabbitMQ, which host 2 reaches through a relay on the underlay): a server Nova
sends to host 2 is a real QEMU guest there, its tap inside ``kumo-h…``; it gets
its lease from host 1 across the tunnel and its SSH server answers a guest on
host 1, while a port without a rule is filtered by host 2.

Everything made (the namespaces, the underlay veth, the guests) is removed after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.network.linux import hostsafety, ip, names, nft
from kumo.agents.network.ownership import Owned, Ownership, namespace_registry
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.compute.service.flavors import bootstrap_flavors
from kumo.guest.image import GuestImage
from kumo.guest.register import register_guest_image
from kumo.identity.api.app import make_identity
from kumo.identity.service.bootstrap import FULL_CATALOG, Bootstrap
from tests.agents.network import netlab
from tests.conftest import ADMIN_PASSWORD, SERVICE_PASSWORD, password_auth

N = "/networking/v2.0"
C = "/compute/v2.1"
#: Deadline for a change to reach both hosts (host 2 polls the API every second).
CHANGE_DEADLINE = 45.0


def wait_for(what: str, check: Callable[[], bool], deadline: float, every: float = 0.2) -> float:
    """Poll ``check`` until true; the seconds it took (AssertionError after ``deadline``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > deadline:
            raise AssertionError(f"{what}: not within {deadline:g} s")
        time.sleep(every)
    return time.monotonic() - started


def _underlay_subnet() -> int:
    """A 10.254.<n>.0/30 that neither the host nor another Kumo underlay uses."""
    used = {a for link in ip.list_links() for a in _addresses(link.name)}
    for n in random.sample(range(1, 255), 254):
        cidr = f"10.254.{n}.1/30"
        if cidr not in used and not hostsafety.host_conflicts(cidr):
            return n
    raise AssertionError("no free 10.254.<n>.0/30 for the underlay")


def _addresses(device: str) -> list[str]:
    try:
        return ip.list_addresses(device)
    except Exception:  # the device went away meanwhile
        return []


@dataclass
class Host2:
    """The second host: a namespace on the underlay, running a network agent."""

    netns: str
    state_dir: Path
    tunnel_ip: str
    host: str
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def links(self) -> list[ip.Link]:
        return ip.list_links(self.netns)

    def log_tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join([line for line in lines if " httpx " not in line][-40:])


@dataclass
class Lab:
    """Both hosts, the API client and what the test made."""

    tag: str
    settings: Settings
    url: str
    api: httpx.Client
    host2: Host2
    record: Ownership
    owned: Owned = field(default_factory=Owned)
    guests: list[netlab.Guest] = field(default_factory=list)
    db: Database | None = None
    #: The broker as host 2 reaches it (through the relay), when the cloud uses RabbitMQ.
    rabbit_url: str = ""

    def claim(self, namespaces: set[str]) -> None:
        """Record test-made namespaces first: another test's cleanup then leaves them alone."""
        self.owned = self.owned | Owned(namespaces=set(namespaces))
        self.record.claim(self.owned)

    def create(self, collection: str, resource: str, **body: Any) -> dict[str, Any]:
        resp = self.api.post(f"{N}/{collection}", json={resource: body})
        assert resp.status_code == 201, resp.text
        created: dict[str, Any] = resp.json()[resource]
        return created

    def agents(self) -> list[dict[str, Any]]:
        """GET /v2.0/agents."""
        resp = self.api.get(f"{N}/agents")
        assert resp.status_code == 200, resp.text
        return list(resp.json()["agents"])

    def wait_for_host2(self) -> None:
        """Until host 2's agent has reported (it fails the test if it died)."""

        def reported() -> bool:
            proc = self.host2.proc
            assert proc is not None and proc.poll() is None, self.host2.log_tail()
            return any(a["host"] == self.host2.host for a in self.agents())

        wait_for("host 2's agent reports", reported, CHANGE_DEADLINE)

    def tunnelled(self, network_id: str, host2_port_id: str) -> bool:
        """Whether both hosts tunnel the network to each other, host 2's tap plugged."""
        bridge, vxlan = names.bridge(network_id), names.device(names.VXLAN, network_id)
        links = {link.name: link for link in self.host2.links()}
        tap2 = links.get(names.tap(host2_port_id))
        return (
            ip.link_exists(vxlan)
            and fdb_peers(vxlan) == {self.host2.tunnel_ip}
            and vxlan in links
            and fdb_peers(vxlan, self.host2.netns) == {self.settings.network_tunnel_ip}
            and links[vxlan].master == bridge
            and tap2 is not None
            and tap2.master == bridge
        )

    def explain(self, network_id: str) -> str:
        """What both hosts have of a network, and host 2's log (for a failure message)."""
        vxlan = names.device(names.VXLAN, network_id)
        host1 = ip.get_link(vxlan)
        host2 = {link.name: (link.kind, link.master, link.up) for link in self.host2.links()}
        return (
            f"host 1 {vxlan}: {host1 and (host1.master, fdb_peers(vxlan))}\n"
            f"host 2 links: {host2}\nhost 2 agent log:\n{self.host2.log_tail()}"
        )

    def update(self, collection: str, resource: str, rid: str, **body: Any) -> dict[str, Any]:
        resp = self.api.put(f"{N}/{collection}/{rid}", json={resource: body})
        assert resp.status_code == 200, resp.text
        updated: dict[str, Any] = resp.json()[resource]
        return updated


def _serve(settings: Settings, db: Database) -> tuple[uvicorn.Server, threading.Thread]:
    from kumo.app import build_app

    config = uvicorn.Config(
        build_app(settings, db),
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="kumo multihost api", daemon=True)
    thread.start()
    wait_for("API server started", lambda: server.started or not thread.is_alive(), 60)
    assert server.started, "the API server did not start"
    return server, thread


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


async def _delete_queues(url: str, prefix: str, hosts: list[str]) -> None:
    """Delete the durable queues of this test's topics (they outlive their consumers)."""
    import aio_pika

    from kumo.agents.network.agent import TOPIC
    from kumo.common.bus.rabbit import queue_name
    from kumo.compute.rpcapi import CONDUCTOR_TOPIC, SCHEDULER_TOPIC, compute_topic

    topics = [prefix + t for t in (SCHEDULER_TOPIC, CONDUCTOR_TOPIC, TOPIC)]
    topics += [compute_topic(host, prefix) for host in hosts]
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for topic in topics:
            await channel.queue_delete(queue_name(topic))


class Relay:
    """A TCP relay from the underlay to a service on the host's loopback (RabbitMQ).

    Inside host 2, 127.0.0.1 is the namespace's own loopback; the broker listens
    on the host's only, so host 2 reaches it through here.
    """

    def __init__(self, listen: str, target: tuple[str, int]) -> None:
        self.target = target
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()

        async def serve() -> None:
            server = await asyncio.start_server(self._handle, listen, 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            async with server:
                await server.serve_forever()

        self.thread = threading.Thread(
            target=lambda: self._run(serve()), name="kumo relay", daemon=True
        )
        self.thread.start()
        assert ready.wait(10), "the relay did not start"

    def _run(self, main: Any) -> None:
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            self.loop.run_until_complete(main)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def close(self) -> None:
        """Stop relaying (open connections are cut)."""

        def cancel_all() -> None:
            for task in asyncio.all_tasks(self.loop):
                task.cancel()

        self.loop.call_soon_threadsafe(cancel_all)
        self.thread.join(timeout=10)


@pytest.fixture
def lab(
    request: pytest.FixtureRequest,
    state_dir: Path,
    sqlite_templates: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Lab]:
    """Host 1 (cloud + network node agent) and host 2 (namespace + network agent).

    ``@pytest.mark.parametrize("lab", [RABBIT], indirect=True)`` puts the cloud's
    compute control plane on RabbitMQ (``Lab.rabbit_url`` from host 2), so a compute
    agent on host 2 can join it.
    """
    options: dict[str, Any] = getattr(request, "param", {})
    tag = uuid.uuid4().hex[:6]
    record = Ownership(tmp_path_factory.mktemp("multihost-lab"))
    ns = f"kumo-h{tag}"
    underlay = names.device(names.TRUNK, netlab.uid())  # a Kumo stand-in for each host's NIC
    peer = names.device(names.TRUNK, netlab.uid())
    n = _underlay_subnet()
    ip1, ip2 = f"10.254.{n}.1", f"10.254.{n}.2"
    h2_dir = state_dir / "host2"
    host2 = Host2(ns, h2_dir, ip2, f"mh2-{tag}")
    owned = Owned({ns}, {underlay})
    record.claim(owned)
    server = thread = None
    api = None
    lab = None
    relay = None
    try:
        netlab.sh("ip", "netns", "add", ns)
        netlab.sh("ip", "link", "set", "lo", "up", netns=ns)
        netlab.sh("ip", "link", "add", underlay, "type", "veth", "peer", "name", peer, "netns", ns)
        netlab.sh("ip", "addr", "add", f"{ip1}/30", "dev", underlay)
        netlab.sh("ip", "link", "set", underlay, "up")
        netlab.sh("ip", "addr", "add", f"{ip2}/30", "dev", peer, netns=ns)
        netlab.sh("ip", "link", "set", peer, "up", netns=ns)

        # Host 1: a cloud whose catalog points at its underlay address.
        shutil.copytree(sqlite_templates["migrated"], state_dir, dirs_exist_ok=True)
        settings = Settings(
            state_dir=state_dir,
            database_url=f"sqlite:///{state_dir / 'kumo.db'}",
            host=ip1,
            port=_free_port(ip1),
            service_password=SERVICE_PASSWORD,
            virt_driver="fake",
            transport_url=options.get("transport_url", "inproc://"),
            bus_topic_prefix=f"mh{tag}." if options.get("transport_url") else "",
            network_agent=True,
            compute_host=f"mh1-{tag}",
            network_tunnel_ip=ip1,
            network_agent_resync_interval=2.0,
            network_agent_report_interval=2.0,
        )
        if options.get("transport_url"):
            broker = httpx.URL(options["transport_url"])
            relay = Relay(ip1, (str(broker.host), int(broker.port or 5672)))
        db = Database(settings.effective_database_url)
        Bootstrap(
            make_identity(settings, db),
            ADMIN_PASSWORD,
            settings.public_url,
            catalog=FULL_CATALOG,
            service_password=SERVICE_PASSWORD,
        ).run()
        server, thread = _serve(settings, db)
        url = settings.public_url
        token = httpx.post(
            f"{url}/identity/v3/auth/tokens",
            json=password_auth("admin", ADMIN_PASSWORD, "admin"),
            timeout=30,
        )
        assert token.status_code == 201, token.text
        api = httpx.Client(
            base_url=url, headers={"X-Auth-Token": token.headers["X-Subject-Token"]}, timeout=30
        )

        # Host 2: `kumo serve --role network` inside the namespace, reaching the API over
        # the underlay (the namespace's 127.0.0.1 is its own).
        h2_dir.mkdir()
        host2.log = h2_dir / "agent.log"
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(h2_dir),
            "KUMO_CONFIG": str(h2_dir / "absent.toml"),
            "KUMO_STATE_DIR": str(h2_dir),
            "KUMO_HOST": ip1,
            "KUMO_PORT": str(settings.port),
            "KUMO_SERVICE_PASSWORD": SERVICE_PASSWORD,
            "KUMO_COMPUTE_HOST": host2.host,
            "KUMO_NETWORK_AGENT_MODE": "compute",
            "KUMO_NETWORK_TUNNEL_IP": ip2,
            "KUMO_NETWORK_AGENT_RESYNC_INTERVAL": "1",
            "KUMO_NETWORK_AGENT_REPORT_INTERVAL": "2",
        }
        argv = [sys.executable, "-m", "kumo.cli.main", "serve", "--role", "network"]
        with open(host2.log, "wb") as out:
            host2.proc = subprocess.Popen(
                ["ip", "netns", "exec", ns, *argv],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=str(Path(__file__).resolve().parents[3]),
            )
        lab = Lab(tag, settings, url, api, host2, record, owned, db=db)
        if relay is not None:
            lab.rabbit_url = str(
                httpx.URL(options["transport_url"]).copy_with(host=ip1, port=relay.port)
            )
        yield lab
    finally:
        if host2.proc is not None:
            host2.proc.send_signal(signal.SIGTERM)
            try:
                host2.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                host2.proc.kill()
                host2.proc.wait(timeout=10)
        if api is not None:
            api.close()
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=60)
        if relay is not None:
            relay.close()
            hosts = [settings.compute_host, host2.host]
            asyncio.run(_delete_queues(options["transport_url"], settings.bus_topic_prefix, hosts))
        for guest in lab.guests if lab is not None else []:
            guest.stop()
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
        ip.delete_link(underlay)
        Ownership(h2_dir).release()
        shutil.rmtree(namespace_registry(ns).parent, ignore_errors=True)
        record.release()
        # The second host is gone whole: its namespace and the underlay veth (both ends).
        assert not ip.namespace_exists(ns)
        assert not ip.link_exists(underlay)


def make_guest_on(netns: str, tag: str, name: str, port: dict[str, Any]) -> netlab.Guest:
    """A namespace guest whose tap-named veth end lives in ``netns`` (another "host")."""
    guest_ns = f"kumo-t{tag}-{name}"
    netlab.sh("ip", "netns", "add", guest_ns)
    netlab.sh("ip", "link", "set", "lo", "up", netns=guest_ns)
    tap = names.tap(port["id"])
    netlab.sh(
        "ip", "link", "add", tap, "type", "veth", "peer", "name", "eth0",
        "address", port["mac_address"], "netns", guest_ns, netns=netns,
    )  # fmt: skip
    netlab.sh("ip", "link", "set", "eth0", "up", netns=guest_ns)
    return netlab.Guest(netns=guest_ns, port=port, listeners=[])


def fdb_peers(device: str, netns: str | None = None) -> set[str]:
    """The VXLAN device's flood destinations (all-zero MAC entries)."""
    argv = ["bridge", "-j", "fdb", "show", "dev", device]
    out = netlab.sh(*argv, netns=netns) if netns else netlab.sh(*argv)
    return {str(e["dst"]) for e in json.loads(out or "[]") if e.get("mac") == "00:00:00:00:00:00"}


def dhcp_lease(guest: netlab.Guest, script: Path) -> str:
    """Run busybox udhcpc in the guest; the script applies the lease. Its log."""
    netlab.sh(
        "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "20", "-T", "1",
        "-s", str(script), netns=guest.netns,
    )  # fmt: skip
    return Path(f"{script}.log").read_text()


SINK = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); s.settimeout(30)
print("ready", flush=True)
conn, _ = s.accept(); conn.settimeout(30); total = 0
while data := conn.recv(1 << 16):
    total += len(data)
conn.sendall(str(total).encode()); conn.close()
"""

SOURCE = """
import socket, sys, time
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=30)
started = time.monotonic(); chunk = bytes(1 << 16); sent = 0
while sent < size:
    s.sendall(chunk[: size - sent]); sent += min(len(chunk), size - sent)
s.shutdown(socket.SHUT_WR); answer = s.recv(64).decode()
print(answer, time.monotonic() - started)
"""


def bulk_transfer(
    sender: netlab.Guest, receiver: netlab.Guest, port: int, size: int
) -> tuple[int, float]:
    """Send ``size`` bytes over TCP; (bytes the receiver counted, seconds it took)."""
    sink = subprocess.Popen(
        ["ip", "netns", "exec", receiver.netns, sys.executable, "-c", SINK, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        out = netlab.sh(
            sys.executable, "-c", SOURCE, receiver.ip, str(port), str(size), netns=sender.netns
        )
        received, seconds = out.split()
        return int(received), float(seconds)
    finally:
        sink.kill()
        sink.wait(timeout=10)


def test_vxlan_network_across_two_hosts(lab: Lab, tmp_path: Path) -> None:
    host2 = lab.host2
    host1 = lab.settings.compute_host

    # Both agents report; host 2 only as a Linux bridge agent, with its tunnel IP.
    lab.wait_for_host2()
    by_host: dict[str, dict[str, dict[str, Any]]] = {}
    for agent in lab.agents():
        by_host.setdefault(agent["host"], {})[agent["agent_type"]] = agent
    assert set(by_host[host2.host]) == {"Linux bridge agent"}
    l2 = by_host[host2.host]["Linux bridge agent"]
    assert l2["configurations"]["tunneling_ip"] == host2.tunnel_ip and l2["alive"]
    assert {"DHCP agent", "L3 agent", "Linux bridge agent"} <= set(by_host[host1])
    assert by_host[host1]["Linux bridge agent"]["configurations"]["tunneling_ip"] == (
        lab.settings.network_tunnel_ip
    )

    # A VXLAN tenant network, a security group opening tcp/8080 only.
    net = lab.create("networks", "network", name=f"mh-{lab.tag}")
    assert net["provider:network_type"] == "vxlan"
    lab.create(
        "subnets", "subnet", network_id=net["id"], cidr="10.97.0.0/24", ip_version=4,
        gateway_ip=None,
    )  # fmt: skip
    sg = lab.create("security-groups", "security_group", name=f"mh-{lab.tag}")
    lab.create(
        "security-group-rules", "security_group_rule", security_group_id=sg["id"],
        direction="ingress", ethertype="IPv4", protocol="tcp", port_range_min=8080,
        port_range_max=8080, remote_ip_prefix="0.0.0.0/0",
    )  # fmt: skip
    lab.create(
        "security-group-rules", "security_group_rule", security_group_id=sg["id"],
        direction="ingress", ethertype="IPv4", protocol="tcp", port_range_min=7070,
        port_range_max=7070,
    )  # fmt: skip
    common = {
        "network_id": net["id"],
        "device_owner": "compute:nova",
        "security_groups": [sg["id"]],
    }
    p1 = lab.create("ports", "port", **common, device_id=netlab.uid(), **{"binding:host_id": host1})
    p2 = lab.create("ports", "port", **common, device_id=netlab.uid())
    bridge = names.bridge(net["id"])
    vxlan = names.device(names.VXLAN, net["id"])

    # Guests: g1 on host 1 (static address), g2 on host 2 (DHCP), taps named after ports.
    g1_ns, g2_ns = f"kumo-t{lab.tag}-g1", f"kumo-t{lab.tag}-g2"
    lab.claim({g1_ns, g2_ns})
    g1 = netlab.make_guest(lab.tag, "g1", p1, prefixlen=24, gateway=None)
    lab.guests.append(g1)
    g2 = make_guest_on(host2.netns, lab.tag, "g2", p2)
    lab.guests.append(g2)

    # One host only: host 1 plugs g1 and serves DHCP; no VXLAN device anywhere yet.
    wait_for(
        "g1 plugged on host 1",
        lambda: getattr(ip.get_link(names.tap(p1["id"])), "master", None) == bridge,
        CHANGE_DEADLINE,
    )
    wait_for(
        "host 1's DHCP namespace",
        lambda: ip.namespace_exists(names.dhcp_namespace(net["id"])),
        CHANGE_DEADLINE,
    )
    assert not ip.link_exists(vxlan)
    assert not any(link.name == bridge for link in host2.links())

    # p2 bound to host 2: the network spans two hosts, each tunnels to the other.
    lab.update("ports", "port", p2["id"], **{"binding:host_id": host2.host})

    try:
        to_tunnel = wait_for(
            "VXLAN on both hosts", lambda: lab.tunnelled(net["id"], p2["id"]), CHANGE_DEADLINE
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{lab.explain(net['id'])}") from None
    assert getattr(ip.get_link(vxlan), "master", None) == bridge
    details = json.loads(netlab.sh("ip", "-d", "-j", "link", "show", "dev", vxlan))[0]
    assert details["linkinfo"]["info_data"]["id"] == net["provider:segmentation_id"]
    # Host 2 is compute only: no DHCP or router namespace is its own, its tables are in it.
    h2_owned = Ownership(host2.state_dir).load()
    assert h2_owned.namespaces == set() and vxlan in h2_owned.devices
    sg_tables = {t for _, t in nft.list_tables(host2.netns) if t.startswith("kumo-sg")}
    assert len(sg_tables) == 1, sg_tables
    sg_table = sg_tables.pop()
    sg_rules = nft.table_text("bridge", sg_table, netns=host2.netns) or ""
    assert names.tap(p2["id"]) in sg_rules

    # DHCP across the tunnel: host 1's dnsmasq leases g2 its port's address.
    script = tmp_path / "udhcpc.sh"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$1 ip=$ip mask=$mask" >> "$0.log"\n'
        'if [ "$1" = bound ]; then ip addr add "$ip/$mask" dev "$interface"; fi\n'
    )
    script.chmod(0o755)
    started = time.monotonic()
    log = dhcp_lease(g2, script)
    to_lease = time.monotonic() - started
    assert f"bound ip={g2.ip} mask=24" in log, log
    leases = lab.settings.state_dir / "network" / "dhcp" / net["id"] / "leases"
    assert p2["mac_address"].lower() in leases.read_text().lower()
    assert f"{g2.ip}/24" in ip.list_addresses("eth0", g2.netns)

    # TCP both ways between the hosts' guests (the security group opens 8080).
    g1.listen(8080, "g1")
    g2.listen(8080, "g2")
    g2.listen(9090, "g2-9090")
    started = time.monotonic()
    assert netlab.connect_ok(g2.ip, 8080, netns=g1.netns) == f"g2 {g1.ip}"
    to_tcp = time.monotonic() - started
    assert netlab.connect_ok(g1.ip, 8080, netns=g2.netns) == f"g1 {g2.ip}"

    # Host 2's security groups: 9090 has no rule, so it is blocked there ...
    for _ in range(2):
        assert netlab.connect(g2.ip, 9090, netns=g1.netns, timeout=2) == "ERROR TimeoutError"
    assert netlab.connect_ok(g2.ip, 8080, netns=g1.netns) == f"g2 {g1.ip}"
    # ... until the rule is added; host 2's agent opens it at its next pass.
    added = time.monotonic()
    lab.create(
        "security-group-rules", "security_group_rule", security_group_id=sg["id"],
        direction="ingress", ethertype="IPv4", protocol="tcp", port_range_min=9090,
        port_range_max=9090,
    )  # fmt: skip
    to_open = wait_for(
        "9090 open on host 2",
        lambda: netlab.connect(g2.ip, 9090, netns=g1.netns, timeout=1) == f"g2-9090 {g1.ip}",
        CHANGE_DEADLINE,
        every=0.1,
    )
    assert time.monotonic() - added < CHANGE_DEADLINE + 5
    inet = nft.table_text("inet", sg_table, netns=host2.netns) or ""
    assert "tcp dport 9090" in inet, inet

    # Bulk TCP across the tunnel with the network's MTU on both NICs (as DHCP tells real
    # guests): full-size segments fit the VXLAN encapsulation, every byte arrives.
    for guest in (g1, g2):
        netlab.sh("ip", "link", "set", "eth0", "mtu", str(net["mtu"]), netns=guest.netns)
    received, seconds = bulk_transfer(g1, g2, 7070, 32 << 20)
    assert received == 32 << 20

    # The host-2 port goes: the network is on one host again, host 1's VXLAN device goes.
    resp = lab.api.delete(f"{N}/ports/{p2['id']}")
    assert resp.status_code == 204, resp.text
    wait_for("host 1's VXLAN device removed", lambda: not ip.link_exists(vxlan), CHANGE_DEADLINE)
    wait_for(
        "host 2's bridge removed",
        lambda: not any(link.name == bridge for link in host2.links()),
        CHANGE_DEADLINE,
    )
    print(
        f"\nport bound to host 2 -> VXLAN on both hosts: {to_tunnel:.2f} s"
        f"\nDHCP lease across VXLAN: {to_lease:.2f} s"
        f"\nfirst TCP connection host 1 -> host 2 guest: {to_tcp:.2f} s"
        f"\nsecurity group rule added -> port open on host 2: {to_open:.2f} s"
        f"\nTCP host 1 guest -> host 2 guest over VXLAN (MTU {net['mtu']}):"
        f" {32 / seconds:.0f} MiB/s"
    )


#: The first line an SSH server sends (its binary key exchange follows: not UTF-8).
BANNER = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], 22), timeout=2) as s:
        print(s.recv(64).split(b"\\r\\n")[0].decode(errors="replace"))
except OSError as exc:
    print(f"ERROR {type(exc).__name__}")
"""


def ssh_banner(address: str, *, netns: str) -> str:
    """The SSH banner of ``address`` seen from ``netns`` (``ERROR …`` when none)."""
    argv = ["ip", "netns", "exec", netns, sys.executable, "-c", BANNER, address]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return done.stdout.strip() or f"ERROR {done.stderr.strip()[-200:]}"


RABBIT = {
    "transport_url": os.environ.get("KUMO_TEST_RABBIT_URL", "amqp://guest:guest@127.0.0.1:5672/")
}


def _broker_reachable() -> bool:
    url = httpx.URL(RABBIT["transport_url"])
    try:
        socket.create_connection((str(url.host), int(url.port or 5672)), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.mark.guest
@pytest.mark.skipif(
    not os.environ.get("KUMO_TEST_GUEST_MULTIHOST"),
    reason="boots a real QEMU guest (slow under TCG): make test-guests runs it",
)
@pytest.mark.skipif(not _broker_reachable(), reason="RabbitMQ is not reachable")
@pytest.mark.parametrize("lab", [RABBIT], indirect=True)
def test_nova_boots_a_server_on_the_second_host(
    lab: Lab, qemu_state: Path, guest_image: GuestImage, accelerator: Accelerator
) -> None:
    """`kumo serve --role compute` inside host 2 builds the server Nova sends there."""
    host2 = lab.host2
    assert lab.db is not None
    bootstrap_flavors(lab.db)
    image_id = register_guest_image(lab.settings, lab.db, guest_image)
    assert image_id is not None
    (qemu_state / "guest").symlink_to(guest_image.directory)
    compute_log = qemu_state / "compute.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(qemu_state),
        "KUMO_CONFIG": str(qemu_state / "absent.toml"),
        "KUMO_STATE_DIR": str(qemu_state),
        "KUMO_HOST": lab.settings.host,
        "KUMO_PORT": str(lab.settings.port),
        "KUMO_SERVICE_PASSWORD": SERVICE_PASSWORD,
        "KUMO_COMPUTE_HOST": host2.host,
        "KUMO_TRANSPORT_URL": lab.rabbit_url,
        "KUMO_BUS_TOPIC_PREFIX": lab.settings.bus_topic_prefix,
        "KUMO_VIRT_DRIVER": "qemu",
        "KUMO_QEMU_ACCEL": accelerator.name,
        "KUMO_QEMU_SHUTDOWN_TIMEOUT": "10",
        "KUMO_NETWORK_AGENT": "false",
    }
    argv = [sys.executable, "-m", "kumo.cli.main", "serve", "--role", "compute"]
    with open(compute_log, "wb") as out:
        compute = subprocess.Popen(
            ["ip", "netns", "exec", host2.netns, *argv],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(Path(__file__).resolve().parents[3]),
        )

    def compute_tail() -> str:
        return "\n".join(compute_log.read_text(errors="replace").splitlines()[-40:])

    try:
        lab.wait_for_host2()
        headers = {"OpenStack-API-Version": "compute 2.37"}

        def service_up() -> bool:
            assert compute.poll() is None, compute_tail()
            resp = lab.api.get(f"{C}/os-services", params={"host": host2.host})
            assert resp.status_code == 200, resp.text
            return any(s["state"] == "up" for s in resp.json()["services"])

        wait_for("host 2's compute service up", service_up, 120, every=0.5)

        net = lab.create("networks", "network", name=f"mhn-{lab.tag}")
        lab.create("subnets", "subnet", network_id=net["id"], cidr="10.99.0.0/24", ip_version=4)
        sg = lab.create("security-groups", "security_group", name=f"mhn-{lab.tag}")
        lab.create(
            "security-group-rules", "security_group_rule", security_group_id=sg["id"],
            direction="ingress", ethertype="IPv4", protocol="tcp", port_range_min=22,
            port_range_max=22,
        )  # fmt: skip
        p1 = lab.create(
            "ports", "port", network_id=net["id"], device_owner="compute:nova",
            device_id=netlab.uid(), security_groups=[sg["id"]],
            **{"binding:host_id": lab.settings.compute_host},
        )  # fmt: skip
        p3 = lab.create("ports", "port", network_id=net["id"], security_groups=[sg["id"]])
        lab.claim({f"kumo-t{lab.tag}-g1"})
        g1 = netlab.make_guest(lab.tag, "g1", p1, prefixlen=24, gateway=None)
        lab.guests.append(g1)

        started = time.monotonic()
        resp = lab.api.post(
            f"{C}/servers",
            json={
                "server": {
                    "name": f"mh-{lab.tag}",
                    "imageRef": image_id,
                    "flavorRef": "1",
                    "networks": [{"port": p3["id"]}],
                    # Admin only: this very host (Nova's zone:host syntax).
                    "availability_zone": f"nova:{host2.host}",
                }
            },
            headers=headers,
        )
        assert resp.status_code == 202, resp.text
        server_id = resp.json()["server"]["id"]

        def console() -> str:
            out = lab.api.post(
                f"{C}/servers/{server_id}/action", json={"os-getConsoleOutput": {"length": 60}}
            )
            return str(out.json().get("output", out.text))

        def active() -> bool:
            server = lab.api.get(f"{C}/servers/{server_id}", headers=headers).json()["server"]
            assert server["status"] != "ERROR", (server, compute_tail())
            return bool(server["status"] == "ACTIVE")

        boot_deadline = float(os.environ.get("KUMO_GUEST_BOOT_DEADLINE", "300"))
        wait_for("server ACTIVE", active, boot_deadline, every=0.5)
        server = lab.api.get(f"{C}/servers/{server_id}", headers=headers).json()["server"]
        assert server["OS-EXT-SRV-ATTR:host"] == host2.host
        port = lab.api.get(f"{N}/ports/{p3['id']}").json()["port"]
        assert port["binding:host_id"] == host2.host and port["device_id"] == server_id
        try:
            wait_for(
                "VXLAN on both hosts", lambda: lab.tunnelled(net["id"], p3["id"]), CHANGE_DEADLINE
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{lab.explain(net['id'])}\n{compute_tail()}") from None
        # QEMU runs in host 2 (the compute agent's namespace), so its tap is there only.
        assert not ip.link_exists(names.tap(p3["id"]))
        pid = (qemu_state / "instances" / server_id / "qemu.pid").read_text().strip()
        assert host2.netns in netlab.sh("ip", "netns", "identify", pid).split()

        fixed_ip = p3["fixed_ips"][0]["ip_address"]
        try:
            wait_for(
                "SSH banner from host 1",
                lambda: ssh_banner(fixed_ip, netns=g1.netns).startswith("SSH-2.0-dropbear"),
                boot_deadline,
                every=0.5,
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nconsole:\n{console()}") from None
        to_banner = time.monotonic() - started
        # Its address came by DHCP from host 1's dnsmasq, across the tunnel.
        assert f"DHCP lease {fixed_ip}/24" in console()
        leases = lab.settings.state_dir / "network" / "dhcp" / net["id"] / "leases"
        assert p3["mac_address"].lower() in leases.read_text().lower()
        # Port 2222 has no rule: host 2 drops the SYN (a timeout; the guest would refuse).
        assert netlab.connect(fixed_ip, 2222, netns=g1.netns, timeout=2) == "ERROR TimeoutError"

        resp = lab.api.delete(f"{C}/servers/{server_id}")
        assert resp.status_code == 204, resp.text
        wait_for(
            "the guest's tap gone from host 2",
            lambda: names.tap(p3["id"]) not in {link.name for link in host2.links()},
            120,
        )
        print(
            f"\nNova boot on host 2 ({accelerator.name}) -> SSH banner seen from host 1:"
            f" {to_banner:.1f} s"
        )
    finally:
        compute.send_signal(signal.SIGTERM)
        try:
            compute.wait(timeout=30)
        except subprocess.TimeoutExpired:
            compute.kill()
            compute.wait(timeout=10)
