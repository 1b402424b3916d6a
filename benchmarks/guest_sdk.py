"""The user's side of the real-guest benchmarks: openstacksdk against a `kumo up` cloud.

Run with the clients venv's Python (the main venv never imports openstacksdk):

    OS_CLIENT_CONFIG_FILE=<state>/clouds.yaml .venv-clients/bin/python guest_sdk.py ready
    ... guest_sdk.py boot --count 4 --tag r0
    ... guest_sdk.py network --rounds 5

Every command prints progress on stderr and one JSON object as its last stdout line.
Work is done as the ``devstack`` cloud (user and project ``demo``) on the networks
`kumo up` seeds: ``private`` behind ``router1``, floating IPs from ``public`` on the
Kumo-owned external bridge, which the host reaches. Traffic goes only to those
floating IPs' port 22 (bounded polls, short timeouts).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import selectors
import socket
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openstack
from guest_timeline import guest_steps, init_lines  # benchmarks/ is on the path
from openstack.connection import Connection

DEMO = "devstack"
ADMIN = "devstack-admin"
IMAGE = "kumo-guest"
#: devstack's default CirrOS flavor: 256 MiB, as the bare QEMU floor boots.
FLAVOR = "cirros256"
FINISHED = "Cloud-init v. kumo finished at"
BANNER = "SSH-2.0-dropbear"
SG_NAME = "bench-ssh"


def log(message: str) -> None:
    """Progress on stderr (stdout carries the JSON result)."""
    print(message, file=sys.stderr, flush=True)


def connect(cloud: str = DEMO) -> Connection:
    """A connection from clouds.yaml (OS_CLIENT_CONFIG_FILE)."""
    return openstack.connect(cloud=cloud)


def banner(address: str, connect_timeout: float = 0.3, read_timeout: float = 3.0) -> str:
    """What a TCP connect to ``address``:22 reads first ("" when it cannot connect).

    The short connect timeout keeps a SYN dropped by a security group or a missing DNAT
    from being retransmitted (after 1 s) into a success that hides when the change
    really applied; each poll is a new connection.
    """
    try:
        with socket.create_connection((address, 22), timeout=connect_timeout) as sock:
            sock.settimeout(read_timeout)
            return sock.recv(64).decode(errors="replace")
    except OSError:
        return ""


@dataclass
class _Attempt:
    """One TCP connect to port 22 in flight."""

    sock: socket.socket
    launched: float
    expires: float
    connected: bool = False


def probe(address: str, want_banner: bool, deadline: float, t0: float) -> float:
    """Seconds from ``t0`` until ``address``:22 starts (or stops) answering with the banner.

    A new non-blocking connect is launched every 50 ms without waiting for the ones in
    flight, so a SYN dropped for 0.3 s does not hide a change behind its timeout: the
    resolution is ~50 ms. Answering: the time the banner arrived. Not answering: the
    launch time of the earliest attempt that got no banner (refused, unreachable, or
    no SYN-ACK within 0.3 s), once every attempt launched before it has ended. At most
    ``deadline / 0.05`` connects, each closed within 3.3 s.
    """
    every, connect_timeout, read_timeout = 0.05, 0.3, 3.0
    selector = selectors.DefaultSelector()
    attempts: dict[int, _Attempt] = {}
    failed: list[float] = []
    next_launch = time.monotonic()
    end = time.monotonic() + deadline

    try:
        while True:
            now = time.monotonic()
            if now > end:
                raise TimeoutError(f"{address}:22 {'answering' if want_banner else 'closed'}")
            if now >= next_launch:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.connect_ex((address, 22))
                attempt = _Attempt(sock, now, now + connect_timeout)
                attempts[sock.fileno()] = attempt
                selector.register(sock, selectors.EVENT_WRITE, attempt)
                next_launch = now + every
            for key, _ in selector.select(timeout=max(0.0, next_launch - time.monotonic())):
                attempt = key.data
                fd = attempt.sock.fileno()
                if not attempt.connected:
                    if attempt.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                        attempts.pop(fd)
                        selector.unregister(attempt.sock)
                        attempt.sock.close()
                        failed.append(attempt.launched)
                        continue
                    attempt.connected = True
                    attempt.expires = time.monotonic() + read_timeout
                    selector.modify(attempt.sock, selectors.EVENT_READ, attempt)
                    continue
                try:
                    data = attempt.sock.recv(64)
                except OSError:
                    data = b""
                attempts.pop(fd)
                selector.unregister(attempt.sock)
                attempt.sock.close()
                if data.startswith(BANNER.encode()):
                    if want_banner:
                        return time.monotonic() - t0
                else:
                    failed.append(attempt.launched)
            now = time.monotonic()
            for fd, attempt in list(attempts.items()):
                if now > attempt.expires:
                    attempts.pop(fd)
                    selector.unregister(attempt.sock)
                    attempt.sock.close()
                    failed.append(attempt.launched)
            if not want_banner and failed:
                first = min(failed)
                if all(a.launched > first for a in attempts.values()):
                    return first - t0
    finally:
        for attempt in attempts.values():
            attempt.sock.close()
        selector.close()


def wait_for(what: str, check: Callable[[], bool], deadline: float, every: float = 0.05) -> float:
    """Poll ``check`` until true; the seconds it took (TimeoutError after ``deadline``)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > deadline:
            raise TimeoutError(f"{what}: not within {deadline:g} s")
        time.sleep(every)
    return time.monotonic() - started


def ids(conn: Connection) -> dict[str, str]:
    """The seeded resources the benchmark uses, by name."""
    found = {
        "image": conn.image.find_image(IMAGE),
        "flavor": conn.compute.find_flavor(FLAVOR),
        "private": conn.network.find_network("private"),
        "public": conn.network.find_network("public"),
        "router1": conn.network.find_router("router1"),
    }
    missing = [name for name, value in found.items() if value is None]
    if missing:
        raise SystemExit(f"`kumo up` did not seed {missing}: is this a fresh `kumo up` cloud?")
    return {name: str(value.id) for name, value in found.items()}


def security_group(conn: Connection) -> tuple[str, str]:
    """A group allowing SSH and ICMP in (Neutron's default group does not); (group, ssh rule)."""
    group = conn.network.find_security_group(SG_NAME, project_id=conn.current_project_id)
    if group is None:
        group = conn.network.create_security_group(name=SG_NAME)
        conn.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", ethertype="IPv4", protocol="icmp"
        )
    for rule in conn.network.security_group_rules(security_group_id=group.id):
        if rule.protocol == "tcp" and rule.port_range_min == 22:
            return str(group.id), str(rule.id)
    rule = add_ssh_rule(conn, str(group.id))
    return str(group.id), str(rule)


def add_ssh_rule(conn: Connection, group: str) -> str:
    """``openstack security group rule create --protocol tcp --dst-port 22``; the rule's id."""
    rule = conn.network.create_security_group_rule(
        security_group_id=group,
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
    )
    return str(rule.id)


def cmd_ready(args: argparse.Namespace) -> dict[str, Any]:
    """Wait until the cloud can boot a networked guest: a QEMU hypervisor, live L3/DHCP agents."""
    admin = connect(ADMIN)
    found: dict[str, Any] = {}

    def hypervisor_up() -> bool:
        hypervisors = list(admin.compute.hypervisors(details=True))
        found["hypervisors"] = [(h.name, h.hypervisor_type, h.state) for h in hypervisors]
        return any(h.hypervisor_type == "QEMU" and h.state == "up" for h in hypervisors)

    def agents_alive() -> bool:
        alive = {a.agent_type for a in admin.network.agents() if a.is_alive}
        found["agents"] = sorted(alive)
        return {"DHCP agent", "L3 agent", "Metadata agent"} <= alive

    took = wait_for("a QEMU hypervisor", hypervisor_up, args.deadline, every=1.0)
    took += wait_for("the network agent", agents_alive, args.deadline, every=1.0)
    found["seconds"] = round(took, 1)
    found.update(ids(connect(DEMO)))
    return found


class Guest:
    """One server on a port (in the SSH group) with a floating IP, both made before the clock.

    The port and its floating IP are looked up by name and reused by every round, as a
    user keeps a port across servers: a *new* port that gets a deleted port's fixed IP
    gets no DHCP lease on Kumo today (dnsmasq's lease file keeps the old MAC's lease),
    which would measure that bug instead of a boot.
    """

    def __init__(
        self, conn: Connection, seeded: dict[str, str], group: str, name: str, port_name: str
    ) -> None:
        self.name = name
        port = conn.network.find_port(port_name, project_id=conn.current_project_id)
        if port is None:
            port = conn.network.create_port(
                network_id=seeded["private"], security_group_ids=[group], name=port_name
            )
        self.port = port
        fips = list(conn.network.ips(port_id=port.id))
        self.fip = (
            fips[0]
            if fips
            else conn.network.create_ip(floating_network_id=seeded["public"], port_id=port.id)
        )
        self.address = str(self.fip.floating_ip_address)
        self.server_id: str | None = None
        self.times: dict[str, float] = {}
        #: Where the time went, read after the clock stopped (see :meth:`_timeline`).
        self.timeline: dict[str, Any] = {}
        self.error: str | None = None
        #: The end of the console when the boot failed (for the report).
        self.console_tail = ""

    def boot(
        self, seeded: dict[str, str], start: threading.Barrier, deadline: float, poll: float
    ) -> None:
        """Create the server (own connection: threads do not share one) and time its milestones.

        ``active``: the API shows ACTIVE; ``finished``: the finished line is in
        os-getConsoleOutput; ``ssh``: the floating IP answers with dropbear's banner.
        """
        try:
            conn = connect(DEMO)
            conn.authorize()  # the token is fetched before the clock starts
            start.wait()
            t0 = time.monotonic()
            wall0 = time.time()
            server = conn.compute.create_server(
                name=self.name,
                image_id=seeded["image"],
                flavor_id=seeded["flavor"],
                networks=[{"port": self.port.id}],
            )
            self.server_id = str(server.id)
            self.times["create_call"] = time.monotonic() - t0
            end = t0 + deadline
            while "active" not in self.times:
                status = conn.compute.get_server(server.id).status
                if status == "ACTIVE":
                    self.times["active"] = time.monotonic() - t0
                elif status == "ERROR" or time.monotonic() > end:
                    raise RuntimeError(f"server {server.id} is {status}")
                else:
                    time.sleep(0.1)  # a cheap GET; ACTIVE comes within a second or two
            # The banner is watched by its own thread (a connect every 50 ms), the console
            # polled here: neither's wait hides the other's moment.
            ssh = threading.Thread(target=self._watch_ssh, args=(end, t0), daemon=True)
            ssh.start()
            while not {"finished", "ssh"} <= self.times.keys():
                if time.monotonic() > end:
                    raise TimeoutError(f"{self.name}: {sorted(self.times)} within {deadline:g} s")
                if "finished" not in self.times:
                    output = conn.compute.get_server_console_output(server.id, length=200)
                    if FINISHED in str(output.get("output", "")):
                        self.times["finished"] = time.monotonic() - t0
                time.sleep(poll)
            self.timeline = self._timeline(conn, wall0)
        except Exception as exc:  # reported in the JSON, not a traceback
            self.error = f"{type(exc).__name__}: {exc}"
            if self.server_id:
                with contextlib.suppress(Exception):
                    output = connect(DEMO).compute.get_server_console_output(self.server_id, 40)
                    self.console_tail = str(output.get("output", ""))[-2500:]

    def _timeline(self, conn: Connection, wall0: float) -> dict[str, Any]:
        """The boot's steps after the fact: instance-action events and the guest's own stamps.

        ``events``: each event of the ``create`` action as [start, finish] seconds from
        the ``server create`` call (same host, same clock); ``guest``: the uptime of
        each init milestone on the serial console (``guest_timeline.guest_steps``).
        """
        # 2.51: a non-admin sees the events too.
        actions = conn.compute.get(
            f"/servers/{self.server_id}/os-instance-actions", microversion="2.51"
        ).json()
        create = [a for a in actions.get("instanceActions", []) if a.get("action") == "create"]
        events: dict[str, list[float | None]] = {}
        if create:
            detail = conn.compute.get(
                f"/servers/{self.server_id}/os-instance-actions/{create[0]['request_id']}",
                microversion="2.51",
            ).json()

            def offset(value: str | None) -> float | None:
                if not value:
                    return None
                when = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
                return round(when.timestamp() - wall0, 4)

            for event in detail.get("instanceAction", {}).get("events", []):
                events[event["event"]] = [
                    offset(event.get("start_time")),
                    offset(event.get("finish_time")),
                ]
        output = conn.compute.get_server_console_output(self.server_id)
        console = str(output.get("output", ""))
        return {"events": events, "guest": guest_steps(console), "lines": init_lines(console)}

    def _watch_ssh(self, end: float, t0: float) -> None:
        with contextlib.suppress(TimeoutError):
            self.times["ssh"] = probe(self.address, True, end - time.monotonic(), t0)

    def delete(self, conn: Connection, keep_port: bool = True) -> None:
        """The server (waits until it is gone); its port and floating IP unless kept."""
        server = conn.compute.find_server(self.server_id) if self.server_id else None
        if server is not None:
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, interval=1, wait=180)
        if not keep_port:
            conn.network.delete_ip(self.fip.id, ignore_missing=True)
            conn.network.delete_port(self.port.id, ignore_missing=True)


def cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system, with its waited-for children) of process ``pid``."""
    if not pid:
        return None
    try:
        # Fields after the ")" that ends the command name: utime is the 12th, then
        # stime, cutime, cstime (proc(5)).
        with open(f"/proc/{pid}/stat") as stream:
            fields = stream.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def cmd_boot(args: argparse.Namespace) -> dict[str, Any]:
    """Boot ``count`` servers at once; each one's seconds to each milestone."""
    conn = connect(DEMO)
    seeded = ids(conn)
    group, _ = security_group(conn)
    guests = [
        Guest(conn, seeded, group, f"bench-{args.tag}-{i}", f"bench-port-{i}")
        for i in range(args.count)
    ]
    # CPU the cloud's process (and the commands it ran) and this client used from the
    # creates (the barrier, once every guest has its token) to the last milestone; the
    # deletes after it are not counted.
    before: list[float | None] = []

    def clock_starts() -> None:
        before[:] = [cpu_seconds(args.cpu_pid), time.process_time()]

    try:
        start = threading.Barrier(len(guests), action=clock_starts)
        threads = [
            threading.Thread(target=g.boot, args=(seeded, start, args.deadline, args.poll))
            for g in guests
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.deadline + 60)
        kumo1, client1 = cpu_seconds(args.cpu_pid), time.process_time()
        kumo0, client0 = before or [None, None]
        for g in guests:
            log(f"  {g.name} {g.address}: {g.times if not g.error else g.error}")
        return {
            "cpu": {
                "kumo": None if kumo0 is None or kumo1 is None else kumo1 - kumo0,
                "client": None if client0 is None else client1 - client0,
            },
            "guests": [
                {
                    "name": g.name,
                    "times": g.times,
                    "timeline": g.timeline,
                    "error": g.error,
                    "console": g.console_tail,
                }
                for g in guests
            ],
        }
    finally:
        for g in guests:
            try:
                g.delete(conn)
            except Exception as exc:  # cleanup goes on for the others
                log(f"  cleanup of {g.name}: {type(exc).__name__}: {exc}")


def cmd_network(args: argparse.Namespace) -> dict[str, Any]:
    """One guest; ``rounds`` of floating IP associate → banner and SSH rule add → banner."""
    conn = connect(DEMO)
    seeded = ids(conn)
    group, ssh_rule = security_group(conn)
    guest = Guest(conn, seeded, group, f"bench-net-{uuid.uuid4().hex[:6]}", "bench-net-port")
    result: dict[str, Any] = {
        "associate": [],
        "rule_add": [],
        "rule_remove": [],
        "disassociate": [],
    }
    try:
        guest.boot(seeded, threading.Barrier(1), args.deadline, 0.5)
        if guest.error:
            raise RuntimeError(f"the guest did not boot: {guest.error}\n{guest.console_tail}")
        result["boot"] = guest.times
        log(f"  guest {guest.address} up: {guest.times}")
        for round_ in range(args.rounds):
            # Floating IP: disassociated, nothing answers; associated, the clock runs to the
            # banner. Each clock starts right before the API call.
            t0 = time.monotonic()
            conn.network.update_ip(guest.fip.id, port_id=None)
            result["disassociate"].append(probe(guest.address, False, args.change, t0))
            time.sleep(1)  # settle: the next clock must not catch the end of the removal
            assert banner(guest.address, 0.5) == "", "the banner answers while disassociated"
            t0 = time.monotonic()
            conn.network.update_ip(guest.fip.id, port_id=guest.port.id)
            result["associate"].append(probe(guest.address, True, args.change, t0))
            # Security group: without the tcp/22 rule the port is filtered; with it, open.
            t0 = time.monotonic()
            conn.network.delete_security_group_rule(ssh_rule)
            result["rule_remove"].append(probe(guest.address, False, args.change, t0))
            time.sleep(1)
            assert banner(guest.address, 0.5) == "", "the banner answers without the rule"
            t0 = time.monotonic()
            ssh_rule = add_ssh_rule(conn, group)
            result["rule_add"].append(probe(guest.address, True, args.change, t0))
            log(
                f"  round {round_}: associate {result['associate'][-1]:.2f} s, "
                f"rule add {result['rule_add'][-1]:.2f} s, disassociate "
                f"{result['disassociate'][-1]:.2f} s, rule remove {result['rule_remove'][-1]:.2f} s"
            )
        result["medians"] = {
            k: statistics.median(v) for k, v in result.items() if isinstance(v, list) and v
        }
        return result
    finally:
        guest.delete(conn)


def main() -> int:
    """Parse the command, run it, print its JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ready = sub.add_parser("ready", help="wait for a QEMU hypervisor and the network agent")
    ready.add_argument("--deadline", type=float, default=180)
    boot = sub.add_parser("boot", help="boot --count servers at once, time each milestone")
    boot.add_argument("--count", type=int, default=1)
    boot.add_argument("--tag", default=uuid.uuid4().hex[:6])
    boot.add_argument("--deadline", type=float, default=300, help="seconds per server")
    boot.add_argument(
        "--poll", type=float, default=0.5, help="seconds between status and console polls"
    )
    boot.add_argument(
        "--cpu-pid", type=int, default=None, help="the cloud's process, to count its CPU time"
    )
    network = sub.add_parser("network", help="floating IP and security group rule timings")
    network.add_argument("--rounds", type=int, default=5)
    network.add_argument("--deadline", type=float, default=300, help="boot deadline")
    network.add_argument("--change", type=float, default=30, help="deadline of one change")
    args = parser.parse_args()
    commands = {"ready": cmd_ready, "boot": cmd_boot, "network": cmd_network}
    print(json.dumps(commands[args.command](args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
