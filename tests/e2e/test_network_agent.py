"""`kumo up` with its defaults runs the network agent when the host allows it.

A cloud of its own (the session cloud opts out, as parallel test clouds must):
`kumo status` says the data plane runs, `openstack network agent list/show/set`
see the agent's four roles, the seeded networks get their namespaces, and
`kumo down --purge` removes exactly this cloud's data plane.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kumo.agents.network import capability
from kumo.agents.network.linux import ip
from kumo.agents.network.ownership import Ownership
from tests.e2e.clients import ADMIN_PASSWORD, KUMO, OPENSTACK, Cloud, clean_env, free_port

TYPES = {"DHCP agent", "L3 agent", "Metadata agent", "Linux bridge agent"}


@pytest.fixture
def default_cloud(tmp_path: Path) -> Iterator[tuple[Cloud, dict[str, str]]]:
    """`kumo up` with nothing about the network agent set (so: "auto")."""
    reason = capability.unavailable_reason()
    if reason:
        pytest.skip(f"this host cannot run the network agent: {reason}")
    if not OPENSTACK.exists():
        pytest.fail(f"{OPENSTACK} is missing: run `make clients` first", pytrace=False)
    home, state = tmp_path / "home", tmp_path / "state"
    home.mkdir()
    port = free_port()
    kumo_env = clean_env(home) | {
        "KUMO_STATE_DIR": str(state),
        "KUMO_PORT": str(port),
        "KUMO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "KUMO_VIRT_DRIVER": "fake",
        "KUMO_NETWORK_AGENT_REPORT_INTERVAL": "2",
    }
    client_env = clean_env(home) | {"OS_CLIENT_CONFIG_FILE": str(state / "clouds.yaml")}
    try:
        up = subprocess.run(
            [str(KUMO), "up"], env=kumo_env, capture_output=True, text=True, timeout=180
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert "Networking:    real data plane" in up.stdout, up.stdout
        yield (
            Cloud(state_dir=state, port=port, admin_password=ADMIN_PASSWORD, env=client_env),
            (kumo_env),
        )
    finally:
        subprocess.run(
            [str(KUMO), "down", "--purge"], env=kumo_env, capture_output=True, timeout=120
        )


def _until(predicate: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    return predicate()


def test_default_cloud_runs_and_reports_the_network_agent(
    default_cloud: tuple[Cloud, dict[str, str]],
) -> None:
    cloud, kumo_env = default_cloud
    status = subprocess.run(
        [str(KUMO), "status"], env=kumo_env, capture_output=True, text=True, timeout=60
    )
    assert "network agent" in status.stdout and "running" in status.stdout, status.stdout

    def listed() -> list[dict[str, Any]]:
        agents: list[dict[str, Any]] = cloud.openstack("network", "agent", "list")
        alive = {a["Agent Type"] for a in agents if a["Alive"] in (True, ":-)")}
        return agents if alive == TYPES else []

    agents = _until(listed)
    assert agents, cloud.openstack("network", "agent", "list")
    l3 = next(a for a in agents if a["Agent Type"] == "L3 agent")
    cloud.openstack_ok("network", "agent", "set", "--description", "the e2e host", l3["ID"])
    shown = cloud.openstack("network", "agent", "show", l3["ID"])
    assert shown["description"] == "the e2e host" and shown["binary"] == "neutron-l3-agent"
    # A project member sees no agents (admin only, as in Neutron).
    assert cloud.openstack("network", "agent", "list", cloud="devstack") == []
    # The seeded public/private networks and router are on the host, as this cloud's.
    owned = _until(lambda: Ownership(cloud.state_dir).load().namespaces, timeout=30)
    assert any(ns.startswith("kumo-qrouter-") for ns in owned), owned
    assert all(ip.namespace_exists(ns) for ns in owned)

    down = subprocess.run(
        [str(KUMO), "down"], env=kumo_env, capture_output=True, text=True, timeout=120
    )
    assert down.returncode == 0, down.stderr
    assert "Removed the network data plane" in down.stdout, down.stdout
    assert not any(ip.namespace_exists(ns) for ns in owned)
    assert not Ownership(cloud.state_dir).path.exists()
