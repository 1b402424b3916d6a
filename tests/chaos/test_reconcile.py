"""Startup reconcile: what a crash left mid-work ends settled, and nothing stays allocated.

The crash is staged in the database as a killed process leaves it (a build
stopped at spawning with its allocation and port, a half-done delete, resize
and snapshot, a server deleted while its host was down); then the reconcile
runs as the restarted runtime runs it, and the consistency check must pass.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from kumo.common.clients.image import ImageClient
from kumo.common.clients.network import NetworkClient
from kumo.common.clients.placement import PlacementClient, provider_uuid
from kumo.common.db import utcnow
from kumo.compute import reconcile
from kumo.compute.db.instances import Instance
from kumo.compute.service import server_actions, servers
from tools.chaos import consistency

PLACEMENT = {"OpenStack-API-Version": "placement 1.36"}


def _stage(cloud: Any, uuid: str, **changes: Any) -> None:
    """Leave the server as a process killed mid-work leaves it (changed a while ago)."""
    with cloud.db.writer() as s:
        servers.set_state(s, uuid, **changes)
        row = s.get(Instance, uuid)
        assert row is not None
        row.updated_at = utcnow() - dt.timedelta(minutes=5)


def _claim(cloud: Any, uuid: str, resources: dict[str, int]) -> None:
    ctx = cloud.ctx()
    body = {
        "allocations": {provider_uuid("fake"): {"resources": resources}},
        "project_id": ctx.project_id,
        "user_id": ctx.user_id,
        "consumer_generation": _generation(cloud, uuid),
    }
    resp = cloud.client.put(
        f"/placement/allocations/{uuid}",
        json=body,
        headers={"X-Auth-Token": cloud.admin_token, **PLACEMENT},
    )
    assert resp.status_code == 204, resp.text


def _generation(cloud: Any, uuid: str) -> int | None:
    resp = cloud.client.get(
        f"/placement/allocations/{uuid}", headers={"X-Auth-Token": cloud.admin_token, **PLACEMENT}
    )
    gen: int | None = resp.json().get("consumer_generation")
    return gen


def _port(cloud: Any, network_id: str, device_id: str) -> str:
    resp = cloud.client.post(
        "/networking/v2.0/ports",
        json={
            "port": {
                "network_id": network_id,
                "device_id": device_id,
                "device_owner": "compute:nova",
            }
        },
        headers={"X-Auth-Token": cloud.admin_token},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["port"]["id"])


def _port_exists(cloud: Any, port_id: str) -> bool:
    resp = cloud.client.get(
        f"/networking/v2.0/ports/{port_id}", headers={"X-Auth-Token": cloud.admin_token}
    )
    return resp.status_code == 200


def _reconcile(cloud: Any, cutoff: dt.datetime) -> reconcile.Outcome:
    runtime = cloud.runtime
    run = functools.partial(
        reconcile.run,
        cloud.db,
        PlacementClient(runtime.session),
        NetworkClient(runtime.session),
        cutoff=cutoff,
        drivers={h: a.driver for h, a in runtime.agents.items()},
        image=ImageClient(runtime.session),
    )
    outcome: reconcile.Outcome = cloud.run(run)
    return outcome


def test_a_restart_settles_every_server_and_frees_leftovers(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=1) as cloud:
        net = cloud.client.post(
            "/networking/v2.0/networks",
            json={"network": {"name": "chaos"}},
            headers={"X-Auth-Token": cloud.admin_token},
        ).json()["network"]["id"]

        def active() -> str:
            uuid, _ = cloud.boot("1")
            assert cloud.wait_settled(uuid).vm_state == "active"
            return uuid

        untouched, deleting, resizing, snapshotting = active(), active(), active(), active()
        # A build killed at step 28: host chosen, allocation claimed, port made.
        building, _ = cloud.create_instance("1")
        _claim(cloud, building, {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1})
        building_port = _port(cloud, net, building)
        _stage(cloud, building, host="fake", node="fake", task_state="spawning")
        # A delete killed half-way (its port still there).
        deleting_port = _port(cloud, net, deleting)
        _stage(cloud, deleting, task_state="deleting")
        # A resize killed after the new flavor (m1.small) was claimed.
        _claim(cloud, resizing, {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20})
        _stage(cloud, resizing, task_state="resize_prep")
        _stage(cloud, snapshotting, task_state="image_uploading")
        snapshot = cloud.client.post(
            "/image/v2/images",
            json={
                "name": "snap",
                "disk_format": "raw",
                "container_format": "bare",
                "instance_uuid": snapshotting,
                "image_type": "snapshot",
            },
            headers={"X-Auth-Token": cloud.admin_token},
        )
        assert snapshot.status_code == 201, snapshot.text
        # A server deleted while its host was down: allocation and port left behind.
        gone, _ = cloud.create_instance("1")
        _claim(cloud, gone, {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1})
        gone_port = _port(cloud, net, gone)
        with cloud.db.writer() as s:
            server_actions.delete_locally(s, gone)
        # A build that started after the restart is none of the reconcile's business.
        fresh, _ = cloud.create_instance("1")
        cutoff = utcnow() - dt.timedelta(minutes=1)
        _stage(cloud, fresh, task_state="scheduling")
        with cloud.db.writer() as s:
            row = s.get(Instance, fresh)
            assert row is not None
            row.updated_at = utcnow()

        before = consistency.check(cloud.db)
        assert any(building in p for p in before), before  # the checker sees the mess
        assert any(gone in p for p in before), before
        with cloud.db.reader() as s:  # the snapshot is still being made: not a leftover yet
            assert consistency.snapshot_leftovers(s) == []

        outcome = _reconcile(cloud, cutoff)

        assert sorted(outcome.errored) == sorted([building, resizing])
        assert outcome.deleted == [deleting]
        assert outcome.tasks_dropped == [snapshotting]
        row = cloud.instance(building)
        assert (row.vm_state, row.task_state) == ("error", None)
        with cloud.db.reader() as s:
            fault = servers.latest_fault(s, building)
            assert fault is not None and fault.message.startswith(reconcile.INTERRUPTED)
        assert cloud.allocations(building) == {}
        assert not _port_exists(cloud, building_port)
        assert cloud.instance(deleting).deleted
        assert cloud.allocations(deleting) == {}
        assert not _port_exists(cloud, deleting_port)
        assert cloud.instance(resizing).vm_state == "error"
        held = cloud.allocations(resizing)[provider_uuid("fake")]["resources"]
        assert held["MEMORY_MB"] == 512  # back to the flavor it still has
        row = cloud.instance(snapshotting)
        assert (row.vm_state, row.task_state) == ("active", None)
        assert outcome.stale_images == [snapshot.json()["id"]]
        got = cloud.client.get(
            f"/image/v2/images/{snapshot.json()['id']}",
            headers={"X-Auth-Token": cloud.admin_token},
        )
        assert got.status_code == 404, got.text  # the unfinished snapshot is gone
        assert cloud.allocations(gone) == {}
        assert not _port_exists(cloud, gone_port)
        assert cloud.instance(untouched).vm_state == "active"
        assert cloud.allocations(untouched) != {}
        assert cloud.instance(fresh).task_state == "scheduling"

        with cloud.db.writer() as s:  # the fresh build finishes elsewhere; then all is settled
            servers.set_state(s, fresh, vm_state="error", task_state=None)
            servers.set_fault(s, fresh, 500, "No valid host was found.")
        assert consistency.check(cloud.db) == []


def test_an_interrupted_stop_start_or_reboot_is_finished_by_the_restart(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=1) as cloud:
        uuids = []
        for _ in range(3):
            uuid, _ = cloud.boot("1")
            assert cloud.wait_settled(uuid).vm_state == "active"
            uuids.append(uuid)
        stopping, starting, rebooting = uuids
        driver = cloud.runtime.agents["fake"].driver
        cloud.run(functools.partial(driver.power_off, starting))  # stopped before the start
        _stage(cloud, starting, vm_state="stopped", power_state=4)
        _stage(cloud, stopping, task_state="powering-off")
        _stage(cloud, starting, task_state="powering-on")
        _stage(cloud, rebooting, task_state="reboot_started")

        outcome = _reconcile(cloud, utcnow())

        assert sorted(outcome.power_done) == sorted(uuids)
        assert outcome.tasks_dropped == []
        settled = {u: cloud.instance(u) for u in uuids}
        assert {u: (r.vm_state, r.task_state, r.power_state) for u, r in settled.items()} == {
            stopping: ("stopped", None, 4),
            starting: ("active", None, 1),
            rebooting: ("active", None, 1),
        }
        info = {u: cloud.run(functools.partial(driver.get_info, u)).power_state for u in uuids}
        assert info == {stopping: 4, starting: 1, rebooting: 1}
        assert consistency.check(cloud.db) == []


def test_the_guest_of_a_server_deleted_while_its_agent_was_away_is_destroyed(
    make_cloud: Any,
) -> None:
    with make_cloud(fake_hosts=1) as cloud:
        kept, _ = cloud.boot("1")
        deleted, _ = cloud.boot("1")
        assert cloud.wait_settled(kept).vm_state == "active"
        assert cloud.wait_settled(deleted).vm_state == "active"
        agent = cloud.runtime.agents["fake"]
        with cloud.db.writer() as s:  # the API's local delete: nobody told the agent
            server_actions.delete_locally(s, deleted)
        assert deleted in cloud.run(agent.driver.list_instances)

        cloud.run(agent.sync_power_states)

        assert cloud.run(agent.driver.list_instances) == [kept]
