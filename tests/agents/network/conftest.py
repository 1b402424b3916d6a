"""Data-plane tests: root, iproute2 and nftables needed; everything made is removed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kumo.agents.network.cleanup import remove_owned, remove_unclaimed
from tests.agents.network import netlab


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "network data-plane tests need root (namespaces, bridges, nftables)"
    for tool in ("ip", "nft", "dnsmasq", "busybox"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    probe = "kumo-probe-" + os.urandom(3).hex()
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, check=False)
    if done.returncode != 0:
        return f"ip netns is unavailable: {done.stderr.decode().strip()}"
    subprocess.run(["ip", "netns", "delete", probe], check=False)
    return None


@pytest.fixture(scope="session")
def netroot() -> None:
    """Skip unless this process may create namespaces."""
    reason = _unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def state_dir(netroot: None, tmp_path: Path) -> Iterator[Path]:
    """A state dir; on teardown what the test made is removed, pass or fail.

    So are Kumo objects no live cloud claims (a test's hand-made devices, a killed
    run's leftovers); another live cloud's (another test run, a developer's
    `kumo up`) stay.
    """
    yield tmp_path
    remove_owned(tmp_path)
    remove_unclaimed(tmp_path)


@pytest.fixture
def topo() -> netlab.Topology:
    """A fresh sample topology (new ids every test)."""
    return netlab.topology()
