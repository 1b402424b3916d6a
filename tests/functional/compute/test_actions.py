"""Server actions run by the compute agent (cast through ComputeAPI.run_action)."""

from __future__ import annotations

from typing import Any

import pytest

from kumo.common.clients.placement import provider_uuid
from tests.functional.compute.conftest import Cloud, start_action

#: action, the task_state the API sets, params, expected (vm_state, power_state).
POWER_ACTIONS = [
    ("stop", "powering-off", {}, ("stopped", 4)),
    ("start", "powering-on", {}, ("active", 1)),
    ("pause", "pausing", {}, ("paused", 3)),
    ("unpause", "unpausing", {}, ("active", 1)),
    ("suspend", "suspending", {}, ("suspended", 7)),
    ("resume", "resuming", {}, ("active", 1)),
    ("reboot", "rebooting_hard", {"reboot_type": "HARD"}, ("active", 1)),
    ("rescue", "rescuing", {}, ("rescued", 1)),
    ("unrescue", "unrescuing", {}, ("active", 1)),
]


def act(cloud: Cloud, uuid: str, action: str, task: str | None, **params: Any) -> Any:
    request_id = start_action(cloud, uuid, action, task)
    row = cloud.instance(uuid)
    result = cloud.run(
        lambda: cloud.runtime.compute_rpc.run_action(
            cloud.ctx(), row.host, uuid, action, request_id, **params
        )
    )
    return result


def active_server(cloud: Cloud) -> str:
    uuid, _ = cloud.boot("1")
    assert cloud.wait_settled(uuid).vm_state == "active"
    return uuid


def test_power_actions_walk_the_state_machine(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        driver = cloud.runtime.agents["fake"].driver
        for action, task, params, (vm_state, power) in POWER_ACTIONS:
            act(cloud, uuid, action, task, **params)
            row = cloud.wait_settled(uuid)
            assert (row.vm_state, row.task_state, row.power_state) == (vm_state, None, power), (
                action
            )
            info = cloud.run(driver.get_info, uuid)
            assert info.power_state == power, action


def test_console_output_is_a_call_returning_text(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        row = cloud.instance(uuid)
        text = cloud.run(
            lambda: cloud.runtime.compute_rpc.run_action(
                cloud.ctx(), row.host, uuid, "get_console_output", "req-x", length=5
            )
        )
        assert "booted; no guest runs" in text


def test_failed_action_keeps_state_and_records_fault(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        cloud.runtime.agents["fake"].driver.fail["pause"] = "cannot freeze"
        act(cloud, uuid, "pause", "pausing")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.task_state) == ("active", None)
        from kumo.compute.service import servers

        with cloud.db.reader() as s:
            assert servers.latest_fault(s, uuid).message == "cannot freeze"


def test_delete_frees_guest_allocation_and_marks_deleted(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        act(cloud, uuid, "delete", "deleting")
        row = cloud.wait(uuid, lambda r: r.deleted)
        assert row.vm_state == "deleted"
        assert cloud.allocations(uuid) == {}
        assert cloud.run(cloud.runtime.agents["fake"].driver.list_instances) == []


def test_resize_then_confirm_and_revert(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        rp = provider_uuid("fake")
        with cloud.db.reader() as s:
            from kumo.compute.service.flavors import get_flavor

            small = get_flavor(s, "2")
            new = {
                "id": small.id,
                "flavorid": small.id,
                "name": small.name,
                "vcpus": small.vcpus,
                "memory_mb": small.memory_mb,
                "root_gb": small.root_gb,
                "ephemeral_gb": 0,
                "swap": 0,
            }
        act(cloud, uuid, "resize", "resize_prep", flavor=new)
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.flavor["name"], row.old_flavor["id"]) == (
            "resized",
            small.name,
            "1",
        )
        assert cloud.allocations(uuid)[rp]["resources"]["MEMORY_MB"] == small.memory_mb
        act(cloud, uuid, "revert_resize", "resize_reverting")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.flavor["id"]) == ("active", "1")
        assert cloud.allocations(uuid)[rp]["resources"]["MEMORY_MB"] == 512
        act(cloud, uuid, "resize", "resize_prep", flavor=new)
        cloud.wait_settled(uuid)
        act(cloud, uuid, "confirm_resize", "resize_confirming")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.flavor["id"], row.old_flavor) == ("active", "2", None)


def test_cold_migrate_moves_to_another_host_and_confirm_frees_source(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2) as cloud:
        uuid = active_server(cloud)
        source = cloud.instance(uuid).host
        dest = ({"fake-1", "fake-2"} - {source}).pop()
        act(cloud, uuid, "migrate", "resize_prep")
        row = cloud.wait(uuid, lambda r: r.vm_state == "resized")
        assert row.host == dest
        assert set(cloud.allocations(uuid)) == {provider_uuid(source), provider_uuid(dest)}
        act(cloud, uuid, "confirm_resize", "resize_confirming")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.host) == ("active", dest)
        assert set(cloud.allocations(uuid)) == {provider_uuid(dest)}
        cloud.wait(
            uuid,
            lambda r: uuid not in cloud.run(cloud.runtime.agents[source].driver.list_instances),
        )


def test_evacuate_rebuilds_on_another_host(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2) as cloud:
        uuid = active_server(cloud)
        source = cloud.instance(uuid).host
        act(cloud, uuid, "evacuate", "rebuilding")
        row = cloud.wait(uuid, lambda r: r.host != source and r.task_state is None)
        assert row.vm_state == "active"
        assert set(cloud.allocations(uuid)) == {provider_uuid(row.host)}


def test_migrate_with_no_other_host_keeps_server_and_records_fault(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        act(cloud, uuid, "migrate", "resize_prep")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.host) == ("active", "fake")
        from kumo.compute.service import servers

        with cloud.db.reader() as s:
            assert servers.latest_fault(s, uuid).message.startswith("No valid host was found.")


@pytest.mark.parametrize("unused", [None])
def test_rebuild_respawns_on_same_host(make_cloud: Any, unused: None) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        act(cloud, uuid, "rebuild", "rebuilding")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.host, row.power_state) == ("active", "fake", 1)


def test_a_stopped_server_stays_stopped_through_rebuild_resize_and_revert(
    make_cloud: Any,
) -> None:
    # Nova: rebuild of a SHUTOFF server leaves it SHUTOFF; resize keeps it off until
    # confirm (-> SHUTOFF) or revert (-> SHUTOFF), and the guest is really powered off.
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        driver = cloud.runtime.agents["fake"].driver
        act(cloud, uuid, "stop", "powering-off")
        assert cloud.wait_settled(uuid).vm_state == "stopped"
        act(cloud, uuid, "rebuild", "rebuilding")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.power_state) == ("stopped", 4)
        assert cloud.run(driver.get_info, uuid).power_state == 4
        new = {
            "id": "2",
            "flavorid": "2",
            "name": "m1.small",
            "vcpus": 1,
            "memory_mb": 2048,
            "root_gb": 20,
            "ephemeral_gb": 0,
            "swap": 0,
        }
        for finish, task in (
            ("confirm_resize", "resize_confirming"),
            ("revert_resize", "resize_reverting"),
        ):
            act(cloud, uuid, "resize", "resize_prep", flavor=new)
            row = cloud.wait_settled(uuid)
            assert (row.vm_state, row.power_state) == ("resized", 4), finish
            act(cloud, uuid, finish, task)
            row = cloud.wait_settled(uuid)
            assert (row.vm_state, row.power_state) == ("stopped", 4), finish
            assert cloud.run(driver.get_info, uuid).power_state == 4, finish
            assert "old_vm_state" not in (row.system_metadata or {}), finish


def test_snapshot_uploads_the_driver_data_to_a_new_image(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        act(cloud, uuid, "snapshot", "image_snapshot", name="snap-1")
        cloud.wait_settled(uuid)
        headers = {"X-Auth-Token": cloud.admin_token}
        images = cloud.client.get("/image/v2/images?name=snap-1", headers=headers).json()
        [image] = images["images"]
        assert image["status"] == "active"
        assert image["instance_uuid"] == uuid
        data = cloud.client.get(f"/image/v2/images/{image['id']}/file", headers=headers)
        assert data.content == f"kumo fake driver snapshot of {uuid}\n".encode()


def test_shelve_offloads_and_unshelve_schedules_again(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid = active_server(cloud)
        act(cloud, uuid, "shelve", "shelving")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.host, row.power_state) == ("shelved_offloaded", None, 4)
        assert cloud.allocations(uuid) == {}
        assert cloud.run(cloud.runtime.agents["fake"].driver.list_instances) == []
        image_id = row.system_metadata["shelved_image_id"]
        act(cloud, uuid, "unshelve", "unshelving")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.host, row.power_state) == ("active", "fake", 1)
        assert list(cloud.allocations(uuid)) == [provider_uuid("fake")]
        gone = cloud.client.get(
            f"/image/v2/images/{image_id}", headers={"X-Auth-Token": cloud.admin_token}
        )
        assert gone.status_code == 404
