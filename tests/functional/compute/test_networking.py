"""Steps 22–24: the compute agent makes the server's ports in the network API."""

from __future__ import annotations

from typing import Any

from tests.functional.compute.conftest import Cloud


def make_network(cloud: Cloud, name: str = "private") -> str:
    headers = {"X-Auth-Token": cloud.admin_token}
    net = cloud.client.post(
        "/networking/v2.0/networks", json={"network": {"name": name}}, headers=headers
    )
    assert net.status_code == 201, net.text
    net_id: str = net.json()["network"]["id"]
    sub = cloud.client.post(
        "/networking/v2.0/subnets",
        json={"subnet": {"network_id": net_id, "cidr": "10.9.0.0/24", "ip_version": 4}},
        headers=headers,
    )
    assert sub.status_code == 201, sub.text
    return net_id


def ports_of(cloud: Cloud, instance_uuid: str) -> list[dict[str, Any]]:
    resp = cloud.client.get(
        f"/networking/v2.0/ports?device_id={instance_uuid}",
        headers={"X-Auth-Token": cloud.admin_token},
    )
    assert resp.status_code == 200, resp.text
    ports: list[dict[str, Any]] = resp.json()["ports"]
    return ports


def test_requested_network_gets_a_bound_port_and_addresses(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        net_id = make_network(cloud)
        uuid, _ = cloud.boot("1", networks=[{"uuid": net_id}])
        row = cloud.wait_settled(uuid)
        assert row.vm_state == "active", row.vm_state
        [port] = ports_of(cloud, uuid)
        assert port["network_id"] == net_id
        assert port["device_owner"] == "compute:nova"
        assert port["binding:host_id"] == "fake"
        [addr] = row.network_info["private"]
        assert addr["addr"].startswith("10.9.0.") and addr["version"] == 4
        assert addr["OS-EXT-IPS-MAC:mac_addr"] == port["mac_address"]


def test_auto_picks_the_only_network_and_delete_removes_the_port(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        make_network(cloud)
        uuid, _ = cloud.boot("1", networks="auto")
        assert cloud.wait_settled(uuid).vm_state == "active"
        assert len(ports_of(cloud, uuid)) == 1
        from tests.functional.compute.test_actions import act

        act(cloud, uuid, "delete", "deleting")
        cloud.wait(uuid, lambda r: r.deleted)
        assert ports_of(cloud, uuid) == []


def test_unknown_network_fails_the_build_clearly(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2) as cloud:
        uuid, _ = cloud.boot("1", networks=[{"uuid": "0b7c1a8e-0000-4000-8000-000000000000"}])
        row = cloud.wait_settled(uuid)
        assert row.vm_state == "error"
        from kumo.compute.service import servers

        with cloud.db.reader() as s:
            fault = servers.latest_fault(s, uuid)
        assert fault is not None and fault.message.startswith("Network allocation failed")
        assert cloud.allocations(uuid) == {}
