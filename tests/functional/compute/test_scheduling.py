"""Scheduling decisions end to end: server groups, availability zones, packing."""

from __future__ import annotations

from typing import Any

from kumo.compute.service import server_groups
from tests.functional.compute.conftest import Cloud


def boot_in_group(cloud: Cloud, group_id: str) -> str:
    uuid, request_id = cloud.create_instance("1")
    with cloud.db.writer() as s:
        server_groups.add_member(s, group_id, uuid)
    cloud.run(cloud.runtime.compute_rpc.schedule_and_build, cloud.ctx(), [uuid], request_id)
    return uuid


def make_group(cloud: Cloud, policy: str) -> str:
    ctx = cloud.ctx()
    with cloud.db.writer() as s:
        group = server_groups.create_group(
            s, name=policy, project_id=str(ctx.project_id), user_id=str(ctx.user_id), policy=policy
        )
        return group.id


def test_anti_affinity_puts_members_on_different_hosts_then_fails(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2) as cloud:
        group = make_group(cloud, "anti-affinity")
        rows = [cloud.wait_settled(boot_in_group(cloud, group)) for _ in range(3)]
        assert sorted(r.host or "" for r in rows[:2]) == ["fake-1", "fake-2"]
        assert rows[2].vm_state == "error"  # no third host


def test_affinity_keeps_members_together_even_when_spreading(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=3) as cloud:
        group = make_group(cloud, "affinity")
        hosts = {cloud.wait_settled(boot_in_group(cloud, group)).host for _ in range(3)}
        assert len(hosts) == 1


def test_pack_fills_one_host_first(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=3, scheduler_spread=False) as cloud:
        hosts = set()
        for _ in range(3):
            uuid, _ = cloud.boot("1")
            hosts.add(cloud.wait_settled(uuid).host)
        assert len(hosts) == 1


def test_unknown_availability_zone_gets_no_valid_host(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid, _ = cloud.boot("1", az="nowhere")
        assert cloud.wait_settled(uuid).vm_state == "error"
        ok, _ = cloud.boot("1", az="nova")
        assert cloud.wait_settled(ok).vm_state == "active"
