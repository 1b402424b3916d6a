"""The groups a server asks for at boot are put on the ports its host makes (as Nova does)."""

from __future__ import annotations

from typing import Any

from kumo.compute.db.instances import Instance
from tests.functional.compute.conftest import make_cloud as make_cloud
from tests.functional.compute.test_networking import make_network, ports_of


def _group(cloud: Any, name: str) -> str:
    resp = cloud.client.post(
        "/networking/v2.0/security-groups",
        json={"security_group": {"name": name}},
        headers={"X-Auth-Token": cloud.admin_token},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["security_group"]["id"])


def _boot_with_groups(cloud: Any, net_id: str, groups: list[str]) -> str:
    uuid, request_id = cloud.create_instance("1", networks=[{"uuid": net_id}])
    with cloud.db.writer() as s:
        s.get(Instance, uuid).security_groups = groups
    cloud.run(cloud.runtime.compute_rpc.schedule_and_build, cloud.ctx(), [uuid], request_id)
    return str(uuid)


def test_requested_groups_land_on_the_port(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        net_id = make_network(cloud)
        web = _group(cloud, "web")
        uuid = _boot_with_groups(cloud, net_id, ["web"])
        assert cloud.wait_settled(uuid).vm_state == "active"
        [port] = ports_of(cloud, uuid)
        assert port["security_groups"] == [web]


def test_an_unknown_group_fails_the_build(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        net_id = make_network(cloud)
        uuid = _boot_with_groups(cloud, net_id, ["no-such-group"])
        row = cloud.wait_settled(uuid)
        assert row.vm_state == "error"
        assert ports_of(cloud, uuid) == []
