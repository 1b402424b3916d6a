"""One real QEMU guest on a real tenant network, driven through the API.

The ``cloud`` app runs the compute agent on the QEMU driver and the network
agent (bridges, dnsmasq, router namespace, nftables) in its own event loop.
One guest boots on a private network behind a router with an external gateway,
without a config drive, and the test proves from outside the guest:

- it got its port's fixed IP by DHCP from the network's dnsmasq (its console
  and dnsmasq's lease file);
- it read its metadata through the proxy at 169.254.169.254 (the console shows
  the datasource, the server's hostname and its SSH key), and that key logs in
  over SSH, where a 256 KiB transfer out of the guest (full-size TCP segments)
  arrives whole;
- its floating IP answers SSH (dropbear's banner) and ping from the host's side
  of the Kumo external bridge ``kbr-ext``; without the tcp/22 rule the SSH port
  is filtered while ping still answers; with the rule back, and after the
  floating IP is disassociated and associated again, the banner answers again;
- after a stop and start (a new QEMU, a new tap) the agent plugs the new tap
  and the guest answers on its floating IP again.

Figures printed: server create → SSH banner on the floating IP, security group
rule removed → SSH blocked, rule added → banner, floating IP associate → banner,
server start → banner.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.agents.compute.virt.qemu.accel import Accelerator
from kumo.agents.network.cleanup import remove_everything, remove_owned
from kumo.agents.network.linux import ip, names, nft
from kumo.agents.network.ownership import Ownership
from kumo.common.config import Settings
from kumo.compute.service.flavors import bootstrap_flavors
from kumo.guest.image import GuestImage
from kumo.guest.register import GUEST_IMAGE_ID, register_guest_image
from kumo.identity.service.core import Identity
from tests.agents.guestlib import (
    FINISHED,
    C,
    boot_server,
    console_output,
    get_server,
    qemu_settings,
    server_action,
    wait_for,
)
from tests.conftest import issue

pytestmark = pytest.mark.guest

N = "/networking/v2.0"
BANNER = "SSH-2.0-dropbear"
#: Boot deadline for one TCG guest on a loaded 2-core machine.
BOOT_DEADLINE = float(os.environ.get("KUMO_GUEST_BOOT_DEADLINE", "300"))
#: Deadline for a data-plane change (rule, floating IP) to show on the wire.
CHANGE_DEADLINE = 30.0


@pytest.fixture
def settings(
    settings: Settings,
    qemu_state: Path,
    guest_image: GuestImage,
    accelerator: Accelerator,
    netroot: None,
) -> Settings:
    """QEMU driver and network agent on a short state dir (unix socket paths)."""
    # The data plane does not depend on the database; one real guest is enough.
    return qemu_settings(
        settings,
        qemu_state,
        guest_image,
        accelerator,
        sqlite_only="the real-guest network test runs on SQLite only",
        qemu_shutdown_timeout=10.0,
        network_agent=True,
        force_config_drive=False,
    )


@pytest.fixture
def net_cleanup(settings: Settings) -> Iterator[None]:
    """What the cloud made is removed at the end (after the cloud and its agent stopped).

    As the ``state_dir`` fixture does: another live cloud's objects on this host stay.
    """
    yield
    remove_owned(settings.state_dir)
    if not Ownership(settings.state_dir).others():
        remove_everything(settings.state_dir)


@pytest.fixture
def net_cloud(
    net_cleanup: None, cloud: TestClient, ident: Identity, guest_image: GuestImage
) -> TestClient:
    """The cloud with flavors and the guest image registered."""
    bootstrap_flavors(ident.db)
    assert register_guest_image(ident.settings, ident.db, guest_image) == GUEST_IMAGE_ID
    return cloud


class Api:
    """Tiny helper over the TestClient with one token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": token}

    def create(self, collection: str, resource: str, **body: Any) -> dict[str, Any]:
        resp = self.client.post(f"{N}/{collection}", json={resource: body}, headers=self.headers)
        assert resp.status_code == 201, resp.text
        created: dict[str, Any] = resp.json()[resource]
        return created

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.client.put(f"{N}{path}", json=body, headers=self.headers)
        assert resp.status_code == 200, resp.text
        result: dict[str, Any] = resp.json()
        return result

    def delete(self, path: str) -> None:
        resp = self.client.delete(f"{N}{path}", headers=self.headers)
        assert resp.status_code == 204, resp.text

    def server(self, server_id: str) -> dict[str, Any]:
        return get_server(self.client, server_id, self.headers)

    def action(self, server_id: str, body: dict[str, Any]) -> None:
        server_action(self.client, server_id, body, self.headers, codes=(202,))

    def console(self, server_id: str) -> str:
        return console_output(self.client, server_id, self.headers)


def banner(address: str, connect_timeout: float = 0.3, read_timeout: float = 5.0) -> str:
    """What a TCP connect to ``address``:22 reads first ("" when it cannot connect).

    The connect timeout is short so that a SYN dropped by a security group is not
    retransmitted (after 1 s) into a success that hides when the rule really applied.
    """
    try:
        with socket.create_connection((address, 22), timeout=connect_timeout) as sock:
            sock.settimeout(read_timeout)
            return sock.recv(64).decode(errors="replace")
    except OSError:
        return ""


def answers(address: str) -> bool:
    """Whether ``address``:22 answers with dropbear's banner."""
    return banner(address).startswith(BANNER)


def pings(address: str, size: int = 56) -> bool:
    """An ICMP echo to ``address`` answered (busybox ping: the host has none).

    Three echoes a second apart, any answer counts: a TCG guest on a loaded host can
    miss one, while a path that drops the size (MTU) or the address misses all three.
    """
    done = subprocess.run(
        ["busybox", "ping", "-c", "3", "-W", "2", "-s", str(size), address],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return done.returncode == 0


def _keypair(api: Api, directory: Path, name: str) -> Path:
    """A keypair in the API; the private key's path."""
    key = directory / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "net@kumo", "-f", str(key)],
        check=True,
        timeout=30,
    )
    resp = api.client.post(
        f"{C}/os-keypairs",
        json={"keypair": {"name": name, "public_key": (directory / "id_ed25519.pub").read_text()}},
        headers=api.headers,
    )
    assert resp.status_code in (200, 201), resp.text
    return key


def _external_network(api: Api, tag: str, pool: tuple[str, str]) -> dict[str, Any]:
    """An external network on kbr-ext (198.51.100.0/24, no DHCP) with its floating-IP pool.

    Each test takes its own pool: another cloud may share kbr-ext.
    """
    ext = api.create("networks", "network", name=f"public-{tag}", **{"router:external": True})
    api.create(
        "subnets",
        "subnet",
        network_id=ext["id"],
        cidr="198.51.100.0/24",
        ip_version=4,
        gateway_ip="198.51.100.1",
        allocation_pools=[{"start": pool[0], "end": pool[1]}],
        enable_dhcp=False,
    )
    return ext


def _ssh_rule(api: Api, group_id: str, **extra: Any) -> dict[str, Any]:
    """An ingress IPv4 tcp/22 rule in the group."""
    return api.create(
        "security-group-rules",
        "security_group_rule",
        security_group_id=group_id,
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        **extra,
    )


def ssh(key: Path, address: str, command: str, timeout: float = 60) -> bytes:
    """Run ``command`` in the guest as root over SSH; its output (the test fails otherwise)."""
    done = subprocess.run(
        [
            "ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
            f"root@{address}", command,
        ],
        capture_output=True,
        timeout=timeout,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def test_guest_gets_dhcp_metadata_floating_ip_and_security_groups(
    net_cloud: TestClient, settings: Settings, tmp_path: Path
) -> None:
    api = Api(net_cloud, issue(net_cloud))
    tag = uuid.uuid4().hex[:6]
    key = _keypair(api, tmp_path, f"key-{tag}")

    # The topology: external network on kbr-ext, a private network, a router between.
    # Far from the addresses other tests take first (another cloud may share kbr-ext).
    ext = _external_network(api, tag, ("198.51.100.200", "198.51.100.230"))
    net = api.create("networks", "network", name=f"private-{tag}")
    sub = api.create("subnets", "subnet", network_id=net["id"], cidr="10.93.0.0/24", ip_version=4)
    router = api.create(
        "routers",
        "router",
        name=f"r-{tag}",
        external_gateway_info={"network_id": ext["id"]},
    )
    api.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})

    # A security group allowing SSH and ICMP in; the port and its floating IP exist first.
    sg = api.create("security-groups", "security_group", name=f"ssh-{tag}")
    ssh_rule = _ssh_rule(api, sg["id"], remote_ip_prefix="0.0.0.0/0")
    api.create(
        "security-group-rules",
        "security_group_rule",
        security_group_id=sg["id"],
        direction="ingress",
        ethertype="IPv4",
        protocol="icmp",
    )
    port = api.create(
        "ports", "port", network_id=net["id"], security_groups=[sg["id"]], name=f"p-{tag}"
    )
    fixed_ip = port["fixed_ips"][0]["ip_address"]
    fip = api.create("floatingips", "floatingip", floating_network_id=ext["id"], port_id=port["id"])
    fip_address = fip["floating_ip_address"]

    # Boot: no config drive, so the guest must find the metadata service.
    name = f"netguest-{tag}"
    started = time.monotonic()
    server_id = boot_server(
        net_cloud,
        name,
        GUEST_IMAGE_ID,
        api.headers,
        networks=[{"port": port["id"]}],
        config_drive=False,
        key_name=f"key-{tag}",
    )

    def active() -> bool:
        server = api.server(server_id)
        assert server["status"] != "ERROR", server
        return bool(server["status"] == "ACTIVE")

    wait_for("server ACTIVE", active, BOOT_DEADLINE, every=0.5)
    tap = ip.get_link(names.tap(port["id"]))
    assert tap is not None, "QEMU did not create the guest's tap"

    # The floating IP answers SSH once the guest booted, got its lease and started dropbear.
    try:
        wait_for(
            "SSH banner on the floating IP",
            lambda: answers(fip_address),
            BOOT_DEADLINE - (time.monotonic() - started),
            every=0.2,
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; console:\n{api.console(server_id)[-3000:]}") from None
    to_banner = time.monotonic() - started
    console = ""

    def finished() -> bool:
        nonlocal console
        console = api.console(server_id)
        return FINISHED in console

    wait_for("finished line", finished, 60, every=0.5)

    # DHCP: the guest's NIC got the port's fixed IP, from this network's dnsmasq.
    assert f"DHCP lease {fixed_ip}/24" in console, console[-3000:]
    leases = settings.state_dir / "network" / "dhcp" / net["id"] / "leases"
    lease_text = leases.read_text()
    assert port["mac_address"].lower() in lease_text and fixed_ip in lease_text, lease_text
    # The tap is on the network's bridge.
    tap = ip.get_link(names.tap(port["id"]))
    assert tap is not None and tap.master == names.bridge(net["id"])
    # Metadata: no config drive, yet the guest got its hostname from the proxy.
    assert "Datasource DataSourceOpenStack" in console, console[-3000:]
    assert f"kumo-init: hostname {name}" in console, console[-3000:]
    # SSH and ping answer on the floating IP.
    assert answers(fip_address)
    assert pings(fip_address)
    # Full-size packets both ways: the guest's reply (1500 bytes on a 1500-byte NIC) must
    # fit the network's MTU, which it learnt by DHCP, or the bridge drops it silently.
    assert net["mtu"] < 1500
    assert f"DHCP lease {fixed_ip}/24 mtu {net['mtu']}" in console, console[-3000:]
    assert pings(fip_address, size=1472)
    # The key came by the metadata service too; full-size TCP segments from the guest
    # (DF set: nothing fragments them) cross the network.
    assert "root has 1 authorized key(s)" in console, console[-3000:]
    data = ssh(key, fip_address, "dd if=/dev/zero bs=1024 count=256 2>/dev/null")
    assert len(data) == 256 * 1024

    # Without the tcp/22 rule the SSH port is filtered; ping (its own rule) still answers,
    # so the router's DNAT and the guest are fine: the security group is what blocks.
    removed = time.monotonic()
    api.delete(f"/security-group-rules/{ssh_rule['id']}")
    to_blocked = wait_for("SSH blocked", lambda: banner(fip_address, 1.0) == "", CHANGE_DEADLINE)
    for _ in range(3):
        assert banner(fip_address, 1.0) == ""
    assert pings(fip_address)
    assert time.monotonic() - removed < CHANGE_DEADLINE + 15

    # The rule back: the banner answers again.
    ssh_rule = _ssh_rule(api, sg["id"])
    rule_to_banner = wait_for("SSH after the rule", lambda: answers(fip_address), CHANGE_DEADLINE)

    # Floating IP: disassociated, nothing answers; associated again, the banner comes back.
    api.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": None}})
    rns = names.router_namespace(router["id"])
    wait_for(
        "DNAT removed",
        lambda: f"dnat to {fixed_ip}" not in (nft.table_text("ip", "kumo-router", netns=rns) or ""),
        CHANGE_DEADLINE,
    )
    assert banner(fip_address, 1.0) == ""
    associated = time.monotonic()
    api.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}})
    wait_for("SSH after associate", lambda: answers(fip_address), CHANGE_DEADLINE)
    associate_to_banner = time.monotonic() - associated

    # Stop and start: the tap goes with the old QEMU; the new one's tap is plugged again
    # and the guest answers on its floating IP with the same address.
    api.action(server_id, {"os-stop": None})
    wait_for("server SHUTOFF", lambda: api.server(server_id)["status"] == "SHUTOFF", 120, 0.5)
    wait_for("tap gone", lambda: not ip.link_exists(names.tap(port["id"])), 30)
    assert banner(fip_address, 1.0) == ""
    restarted = time.monotonic()
    api.action(server_id, {"os-start": None})
    wait_for("SSH after start", lambda: answers(fip_address), BOOT_DEADLINE, every=0.2)
    start_to_banner = time.monotonic() - restarted
    console = api.console(server_id)
    assert console.count(f"DHCP lease {fixed_ip}/24") == 2, console[-3000:]

    print(
        f"\nserver create -> SSH banner on the floating IP: {to_banner:.1f} s"
        f"\nsecurity group rule removed -> SSH blocked: {to_blocked:.2f} s"
        f"\nsecurity group rule added -> SSH banner: {rule_to_banner:.2f} s"
        f"\nfloating IP associate -> SSH banner: {associate_to_banner:.2f} s"
        f"\nserver start (after stop) -> SSH banner: {start_to_banner:.1f} s"
    )
