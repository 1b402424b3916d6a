"""Two clouds on one host keep their own security groups (``kumo-sg-<tag>`` tables)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kumo.agents.network import ownership, security_groups
from kumo.agents.network.cleanup import remove_owned
from kumo.agents.network.linux import nft
from kumo.agents.network.plane import DataPlane
from kumo.agents.network.state import DesiredState
from tests.agents.network import netlab


def _bridge_nf_on() -> bool:
    try:
        return Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip() == "1"
    except OSError:
        return False


def test_tagged_rendering() -> None:
    topo = netlab.topology()
    bridge, inet = security_groups.render(topo.state, 5)
    assert "meta mark set meta mark | 0x45001000" in bridge  # cloud 5, from port 1
    assert "meta mark set meta mark | 0x45000001" in bridge  # cloud 5, to port 1
    assert "meta mark & 0x7f000000 != 0x45000000 accept" in inet
    plain_bridge, plain_inet = security_groups.render(topo.state)
    assert "meta mark set meta mark | 0x40001000" in plain_bridge
    assert "meta mark & 0x7f000000 != 0x40000000 accept" in plain_inet
    assert security_groups.table_name(0) == "kumo-sg"
    assert security_groups.table_name(5) == "kumo-sg-5"
    assert 1 <= security_groups.cloud_tag("/var/lib/kumo") <= security_groups.MAX_TAG
    with pytest.raises(ValueError):
        security_groups.table_name(64)


@pytest.fixture
def other_dir(state_dir: Path) -> Iterator[Path]:
    """A second cloud's state dir; what it made is removed at the end."""
    path = state_dir / "other-cloud"
    path.mkdir()
    yield path
    remove_owned(path)


@pytest.mark.skipif(not _bridge_nf_on(), reason="br_netfilter bridge-nf-call-iptables is off")
def test_another_cloud_does_not_open_this_clouds_ports(
    state_dir: Path, other_dir: Path, topo: netlab.Topology
) -> None:
    guests = []
    try:
        for name, port in (("g1", topo.g1), ("g2", topo.g2)):
            guests.append(
                netlab.make_guest(topo.tag, name, port, prefixlen=24, gateway="10.90.1.1")
            )
        plane = DataPlane(state_dir, isolate_security_groups=True)
        plane.apply(topo.state)
        g1, g2 = guests
        g1.listen(8080, "g1")
        g1.listen(9090, "g1-closed")
        assert netlab.connect_ok("10.90.1.11", 8080, netns=g2.netns) == "g1 10.90.1.12"
        assert netlab.connect("10.90.1.11", 9090, netns=g2.netns, timeout=1) == "ERROR TimeoutError"
        # Another cloud on the host with no guests applies its (empty) security groups:
        # its tables are its own, this cloud's rules stay and still decide.
        other = DataPlane(other_dir, isolate_security_groups=True)
        assert other.sg_table != plane.sg_table
        other.apply(DesiredState())
        assert nft.table_text("inet", other.sg_table) is not None
        assert nft.table_text("inet", plane.sg_table) is not None
        assert netlab.connect("10.90.1.11", 9090, netns=g2.netns, timeout=1) == "ERROR TimeoutError"
        assert netlab.connect_ok("10.90.1.11", 8080, netns=g2.netns) == "g1 10.90.1.12"
    finally:
        for guest in guests:
            guest.stop()


def _colliding_dirs(root: Path) -> tuple[Path, Path]:
    """Two state dirs whose hashes pick the same tag (the case a hash alone gets wrong)."""
    seen: dict[int, Path] = {}
    for i in range(200):
        path = root / f"cloud-{i}"
        tag = security_groups.cloud_tag(str(path.resolve()))
        if tag in seen:
            return seen[tag], path
        seen[tag] = path
    raise AssertionError("no two of 200 paths share one of 63 tags")


@pytest.fixture
def colliding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Two state dirs whose hashes collide, with a registry of their own."""
    monkeypatch.setattr(ownership, "REGISTRY", tmp_path / "run" / "clouds")
    return _colliding_dirs(tmp_path)


def test_tags_are_reserved_so_two_clouds_never_share_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, colliding: tuple[Path, Path]
) -> None:
    first, second = colliding
    first_tag = ownership.security_group_tag(first)
    assert first_tag == security_groups.cloud_tag(str(first.resolve()))
    second_tag = ownership.security_group_tag(second)
    assert second_tag != first_tag
    # Chosen once: a restart keeps its tag (and its tables' names).
    assert ownership.security_group_tag(first) == first_tag
    assert ownership.security_group_tag(second) == second_tag
    # Released by `kumo down`: the tag is free for another cloud.
    ownership.Ownership(first).release()
    third = tmp_path / "third"
    monkeypatch.setattr(security_groups, "cloud_tag", lambda key: first_tag)
    assert ownership.security_group_tag(third) == first_tag


def test_a_vanished_clouds_tag_is_free_again(colliding: tuple[Path, Path]) -> None:
    first, second = colliding
    tag = ownership.security_group_tag(first)
    shutil.rmtree(first)  # a test's temporary state dir, deleted without `kumo down`
    assert ownership.security_group_tag(second) == tag
