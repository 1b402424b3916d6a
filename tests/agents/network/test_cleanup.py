"""``remove_everything`` leaves nothing Kumo-prefixed and nothing of the host changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kumo.agents.network.cleanup import kumo_objects, remove_everything
from kumo.agents.network.linux import names
from kumo.agents.network.plane import DataPlane
from tests.agents.network import netlab


def _host_view() -> dict[str, list[str]]:
    """The host's own links, routes and nftables tables (Kumo's left out)."""

    def lines(*argv: str) -> list[str]:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines()

    links = [
        line
        for line in lines("ip", "-o", "link", "show")
        if not names.is_kumo_device(line.split(": ")[1].split("@")[0])
    ]
    # Link counters/flags of the host's NICs can change on their own: keep names only.
    link_names = sorted(line.split(": ")[1].split("@")[0] for line in links)
    routes = [r for r in lines("ip", "route", "show") if names.EXTERNAL_BRIDGE not in r]
    tables = [t for t in lines("nft", "list", "tables") if " kumo-" not in t]
    return {"links": link_names, "routes": routes, "tables": tables}


def test_remove_everything(state_dir: Path, topo: netlab.Topology) -> None:
    before = _host_view()
    guest = netlab.make_guest(topo.tag, "g1", topo.g1, prefixlen=24, gateway="10.90.1.1")
    try:
        plane = DataPlane(state_dir)
        plane.apply(topo.state)
        made = kumo_objects()
        assert len(made["namespaces"]) >= 3  # dhcp, router, guest
        assert names.EXTERNAL_BRIDGE in made["devices"]
        assert "inet kumo-sg" in made["tables"] and "bridge kumo-sg" in made["tables"]
        dnsmasq = list((state_dir / "network").glob("**/dnsmasq.pid"))
        assert dnsmasq
        report = remove_everything(state_dir)
        assert report.processes and report.namespaces and report.tables
        assert kumo_objects() == {"namespaces": [], "devices": [], "tables": []}
        assert _host_view() == before
        # Nothing left: a second run removes nothing.
        assert not remove_everything(state_dir)
    finally:
        guest.stop()
