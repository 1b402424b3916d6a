"""Cleanup: ``remove_everything`` (``kumo down --all``) leaves nothing Kumo-prefixed and
nothing of the host changed; ``remove_owned`` (``kumo down``) removes one cloud's objects only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kumo.agents.network.cleanup import kumo_objects, remove_everything, remove_owned
from kumo.agents.network.linux import names
from kumo.agents.network.ownership import Ownership
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
    if Ownership(state_dir).others():
        # `kumo down --all` would take their networks away mid-test.
        pytest.skip("another cloud's data plane is live on this host")
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


def _running(state_dir: Path) -> list[int]:
    """Pids of the dnsmasq processes whose pid files lie under ``state_dir``."""
    pids = []
    for pidfile in (state_dir / "network").glob("**/dnsmasq.pid"):
        pid = int(pidfile.read_text().strip())
        if Path(f"/proc/{pid}").exists():
            pids.append(pid)
    return pids


def test_two_clouds_on_one_host_clean_up_only_their_own(state_dir: Path) -> None:
    a_dir, b_dir = state_dir / "a", state_dir / "b"
    a, b = netlab.topology(), netlab.topology()
    a_ns = {names.dhcp_namespace(a.net["id"]), names.router_namespace(a.router["id"])}
    b_ns = {names.dhcp_namespace(b.net["id"]), names.router_namespace(b.router["id"])}
    plane_a, plane_b = DataPlane(a_dir), DataPlane(b_dir)
    plane_a.apply(a.state)
    plane_b.apply(b.state)
    # Neither reconcile takes the other cloud's namespaces and bridges for stale ones.
    plane_a.apply(a.state)
    found = kumo_objects()
    assert a_ns | b_ns <= set(found["namespaces"])
    assert {names.bridge(a.net["id"]), names.bridge(b.net["id"])} <= set(found["devices"])
    recorded = Ownership(a_dir).load()
    assert a_ns <= recorded.namespaces and names.bridge(a.net["id"]) in recorded.devices
    assert not (b_ns & recorded.namespaces)
    b_dnsmasq = _running(b_dir)
    assert b_dnsmasq and _running(a_dir)

    report = remove_owned(a_dir)
    assert set(report.namespaces) == a_ns
    assert names.bridge(a.net["id"]) in report.devices
    # The external bridge and the security group tables are B's too: they stay.
    assert names.EXTERNAL_BRIDGE not in report.devices and not report.tables
    found = kumo_objects()
    assert not a_ns & set(found["namespaces"]) and b_ns <= set(found["namespaces"])
    assert names.bridge(a.net["id"]) not in found["devices"]
    assert {names.bridge(b.net["id"]), names.EXTERNAL_BRIDGE} <= set(found["devices"])
    assert "inet kumo-sg" in found["tables"]
    assert not _running(a_dir) and _running(b_dir) == b_dnsmasq
    assert not Ownership(a_dir).path.exists()
    assert not remove_owned(a_dir)  # nothing of A's is left

    # B is now the last cloud of this test using the host-wide objects: they go with
    # it, unless a cloud outside this test (another test run, a developer's
    # `kumo up`) claims them too.
    report = remove_owned(b_dir)
    assert set(report.namespaces) == b_ns
    found = kumo_objects()
    assert not b_ns & set(found["namespaces"])
    others = Ownership(b_dir).others()
    assert names.EXTERNAL_BRIDGE in report.devices or names.EXTERNAL_BRIDGE in others
    assert "inet kumo-sg" in report.tables or "inet kumo-sg" in others
    assert not _running(b_dir)


def test_down_keeps_running_guests_taps(state_dir: Path, topo: netlab.Topology) -> None:
    guest = netlab.make_guest(topo.tag, "g1", topo.g1, prefixlen=24, gateway="10.90.1.1")
    try:
        DataPlane(state_dir).apply(topo.state)
        tap = names.tap(topo.g1["id"])
        report = remove_owned(state_dir, keep_guest_taps=True)
        assert report.namespaces and tap not in report.devices
        assert tap in kumo_objects()["devices"]
        # The tap stays recorded, so a later `kumo down --purge` still removes it.
        assert Ownership(state_dir).load().devices == {tap}
        report = remove_owned(state_dir)
        assert report.devices == [tap] and tap not in kumo_objects()["devices"]
    finally:
        guest.stop()


def test_kumo_down_removes_only_this_clouds_network(state_dir: Path) -> None:
    from kumo.cli.down import down
    from kumo.cli.main import _parser
    from kumo.common.config import Settings

    assert _parser().parse_args(["down", "--all"]).everything is True
    assert _parser().parse_args(["down"]).everything is False
    mine, theirs = netlab.topology(), netlab.topology()
    DataPlane(state_dir / "mine").apply(mine.state)
    DataPlane(state_dir / "theirs").apply(theirs.state)
    down(Settings(state_dir=state_dir / "mine"), purge=False)
    namespaces = set(kumo_objects()["namespaces"])
    assert names.router_namespace(mine.router["id"]) not in namespaces
    assert names.dhcp_namespace(mine.net["id"]) not in namespaces
    assert names.router_namespace(theirs.router["id"]) in namespaces
    assert names.dhcp_namespace(theirs.net["id"]) in namespaces
    remove_owned(state_dir / "theirs")


def test_leftovers_go_claimed_objects_stay(state_dir: Path, topo: netlab.Topology) -> None:
    from kumo.agents.network.cleanup import remove_unclaimed
    from kumo.agents.network.linux import ip

    DataPlane(state_dir / "live").apply(topo.state)
    leftover = names.bridge(netlab.uid())  # as a killed cloud would leave it
    ip.ensure_bridge(leftover)
    report = remove_unclaimed(state_dir / "cleaner")
    assert leftover in report.devices and not ip.link_exists(leftover)
    live = Ownership(state_dir / "live").load()
    assert not live.namespaces & set(report.namespaces)
    assert all(ip.namespace_exists(ns) for ns in live.namespaces)
    assert ip.link_exists(names.bridge(topo.net["id"]))
    remove_owned(state_dir / "live")


def test_kumo_down_points_at_all_for_unrecorded_namespaces(
    state_dir: Path, topo: netlab.Topology, capsys: pytest.CaptureFixture[str]
) -> None:
    from kumo.agents.network.cleanup import remove_unclaimed
    from kumo.cli.down import down
    from kumo.common.config import Settings

    old = state_dir / "old"
    DataPlane(old).apply(topo.state)
    Ownership(old).path.unlink()  # as an agent from before ownership records left it
    down(Settings(state_dir=old), purge=False)
    out = capsys.readouterr().out
    assert "kumo down --all" in out
    assert names.dhcp_namespace(topo.net["id"]) in kumo_objects()["namespaces"]
    remove_unclaimed(old)
    assert names.dhcp_namespace(topo.net["id"]) not in kumo_objects()["namespaces"]
