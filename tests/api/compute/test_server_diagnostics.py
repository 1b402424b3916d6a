"""GET /servers/{id}/diagnostics: the host's driver answers over the RPC; 2.48 and legacy."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from kumo.agents.compute.virt.driver import GuestSpec, VirtError
from kumo.agents.compute.virt.fake.driver import FakeDriver
from kumo.common.bus import RemoteError
from kumo.common.bus.base import BusTimeout
from tests.api.compute._servers import FAKE_HOST, ServersCloud
from tests.functional.compute.conftest import make_cloud as make_cloud

MAC = "fa:16:3e:00:00:01"


def _answer_from(c: ServersCloud, driver: FakeDriver) -> list[tuple[str, str]]:
    """The RPC asks ``driver`` (a real fake driver) as the compute agent would."""
    asked: list[tuple[str, str]] = []

    async def diagnostics(host: str, instance_uuid: str) -> dict[str, Any]:
        asked.append((host, instance_uuid))
        try:
            return asdict(await driver.diagnostics(instance_uuid))
        except VirtError as exc:  # what the bus makes of the agent's exception
            raise RemoteError(type(exc).__name__, str(exc)) from None

    c.rpc.diagnostics = diagnostics  # type: ignore[attr-defined]
    return asked


def _server_on(c: ServersCloud, driver: FakeDriver) -> str:
    server = c.demo.boot()
    c.demo.wait_status(server["id"], "ACTIVE")
    spec = GuestSpec(
        uuid=server["id"],
        name="vm",
        vcpus=2,
        memory_mb=512,
        root_gb=1,
        ports=[{"id": "p1", "mac_address": MAC}],
    )
    c.client.portal.call(driver.spawn, spec)  # type: ignore[union-attr]
    return str(server["id"])


def test_standard_format_from_the_fake_driver(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    driver = FakeDriver(FAKE_HOST)
    asked = _answer_from(c, driver)
    server_id = _server_on(c, driver)
    resp = c.admin.get(f"/servers/{server_id}/diagnostics", mv="2.48")
    assert resp.status_code == 200, resp.text
    diag = resp.json()
    assert asked == [(FAKE_HOST, server_id)]
    assert (diag["state"], diag["driver"], diag["hypervisor"]) == ("running", "libvirt", "fake")
    assert (diag["num_cpus"], diag["num_disks"], diag["num_nics"]) == (2, 1, 1)
    assert diag["memory_details"] == {"maximum": 512, "used": 0}
    assert diag["cpu_details"] == [
        {"id": 0, "time": 0, "utilisation": 0},
        {"id": 1, "time": 0, "utilisation": 0},
    ]
    assert diag["nic_details"][0]["mac_address"] == MAC and "name" not in diag["nic_details"][0]
    assert set(diag["disk_details"][0]) == {
        "read_bytes", "read_requests", "write_bytes", "write_requests", "errors_count",
    }  # fmt: skip
    assert isinstance(diag["uptime"], int) and diag["config_drive"] is True


def test_legacy_format_before_2_48(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    driver = FakeDriver(FAKE_HOST)
    _answer_from(c, driver)
    server_id = _server_on(c, driver)
    resp = c.admin.get(f"/servers/{server_id}/diagnostics", mv="2.47")
    assert resp.status_code == 200, resp.text
    diag = resp.json()
    assert diag["cpu0_time"] == 0 and diag["cpu1_time"] == 0
    assert diag["memory"] == 512 * 1024 and diag["memory-rss"] == 0
    assert diag["vda_read"] == 0 and diag["fake0_rx"] == 0 and diag["fake0_tx_drop"] == 0


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (RemoteError("DiagnosticsUnavailable", "not running"), 501),
        (RemoteError("VirtError", "Instance x could not be found on host"), 409),
        (BusTimeout("compute.fake-host-1", "get_diagnostics", 60.0), 503),
    ],
)
def test_host_errors_become_nova_errors(
    servers_cloud: ServersCloud, error: Exception, status: int
) -> None:
    c = servers_cloud
    server = c.demo.boot()
    c.demo.wait_status(server["id"], "ACTIVE")

    async def diagnostics(host: str, instance_uuid: str) -> dict[str, Any]:
        raise error

    c.rpc.diagnostics = diagnostics  # type: ignore[attr-defined]
    resp = c.admin.get(f"/servers/{server['id']}/diagnostics", mv="2.48")
    assert resp.status_code == status, resp.text


def test_admins_only_and_a_host_is_needed(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    driver = FakeDriver(FAKE_HOST)
    asked = _answer_from(c, driver)
    server_id = _server_on(c, driver)
    assert c.demo.get(f"/servers/{server_id}/diagnostics").status_code == 403
    assert (
        c.admin.get("/servers/00000000-0000-0000-0000-000000000000/diagnostics").status_code == 404
    )
    c.rpc.hold = True
    waiting = c.demo.boot()
    resp = c.admin.get(f"/servers/{waiting['id']}/diagnostics")
    assert resp.status_code == 409, resp.text
    assert asked == []


def test_through_the_bus_and_compute_agent(make_cloud: Any) -> None:
    """The whole path: API → rpcapi → bus → compute agent → fake driver."""
    with make_cloud() as cloud:
        uuid, _ = cloud.boot("1")
        assert cloud.wait_settled(uuid).vm_state == "active"
        resp = cloud.client.get(
            f"/compute/v2.1/servers/{uuid}/diagnostics",
            headers={"X-Auth-Token": cloud.admin_token, "OpenStack-API-Version": "compute 2.48"},
        )
        assert resp.status_code == 200, resp.text
        diag = resp.json()
        assert diag["hypervisor"] == "fake" and diag["state"] == "running"
        assert diag["num_cpus"] == 1 and diag["memory_details"]["maximum"] == 512
