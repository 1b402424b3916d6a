"""The host keeps every range it already uses: Kumo's external network must not overlap one."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

from kumo.agents.network.linux import names
from kumo.agents.network.linux.hostsafety import host_conflicts


def _host_address() -> ipaddress.IPv4Interface:
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True)
    for entry in json.loads(out.stdout):
        if names.is_kumo_device(entry["ifname"]) or entry["ifname"] == "lo":
            continue
        for info in entry.get("addr_info", []):
            if info["family"] == "inet":
                return ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}")
    raise AssertionError("the host has no IPv4 address outside loopback")


def test_a_range_the_host_uses_is_refused(tmp_path: Path) -> None:
    own = _host_address()
    reasons = host_conflicts(str(own.network), resolv_conf=tmp_path / "none")
    assert any(str(own.ip) in reason for reason in reasons), reasons


def test_the_hosts_nameserver_is_refused(tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("# test\nnameserver 100.64.7.53\n")
    assert host_conflicts("100.64.7.0/24", resolv_conf=resolv) == [
        "the host's nameserver 100.64.7.53"
    ]


def test_the_default_external_range_is_free_here() -> None:
    # kumo up's public network (kumo/network/service/bootstrap.py); the old default,
    # 203.0.113.0/24, held the package registries' address on these machines.
    assert host_conflicts("198.51.100.0/24") == []
