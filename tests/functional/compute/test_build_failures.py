"""Failure paths of the boot: no valid host, reschedules, exhausted retries, forced-down hosts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from kumo.common.clients.placement import provider_uuid
from kumo.compute import journey
from kumo.compute.db.hosts import Service
from kumo.compute.service import servers
from tests.functional.compute.test_boot_journey import events_of


def fault_of(cloud: Any, instance_uuid: str) -> Any:
    with cloud.db.reader() as s:
        return servers.latest_fault(s, instance_uuid)


def test_no_valid_host_puts_the_server_in_error_with_nova_fault(make_cloud: Any) -> None:
    # m1.xlarge wants 16 GiB; the fake hosts have 4 GiB.
    with make_cloud(fake_hosts=2, fake_host_memory_mb=4096) as cloud:
        uuid, request_id = cloud.boot("5")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.task_state, row.host) == ("error", None, None)
        fault = fault_of(cloud, uuid)
        assert fault.code == 500
        assert fault.message.startswith("No valid host was found.")
        assert cloud.allocations(uuid) == {}
        events = events_of(cloud, uuid, request_id)
        assert [(e.event, e.result) for e in events] == [(journey.event_name("9-11"), "Error")]


def test_failed_spawn_is_rescheduled_to_another_host(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=3) as cloud:
        broken = ["fake-1", "fake-2"]
        for host in broken:
            cloud.runtime.agents[host].driver.fail["spawn"] = f"disk on {host} is on fire"
        uuid, request_id = cloud.boot("1")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.host, row.power_state) == ("active", "fake-3", 1)
        assert list(cloud.allocations(uuid)) == [provider_uuid("fake-3")]
        for host in broken:
            assert cloud.run(cloud.runtime.agents[host].driver.list_instances) == []
        spawns = [
            (e.host, e.result)
            for e in events_of(cloud, uuid, request_id)
            if e.event == journey.event_name("28")
        ]
        assert sorted(spawns) == [("fake-1", "Error"), ("fake-2", "Error"), ("fake-3", "Success")]


def test_every_host_failing_ends_in_error_with_allocations_freed(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2, scheduler_max_attempts=3) as cloud:
        for agent in cloud.runtime.agents.values():
            agent.driver.fail["spawn"] = "hypervisor refused"
        uuid, _ = cloud.boot("1")
        row = cloud.wait_settled(uuid)
        assert row.vm_state == "error"
        fault = fault_of(cloud, uuid)
        # Both hosts tried, then no host is left for the third attempt.
        assert fault.message.startswith("No valid host was found.")
        assert cloud.allocations(uuid) == {}


def test_retries_stop_at_scheduler_max_attempts(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=3, scheduler_max_attempts=2) as cloud:
        for agent in cloud.runtime.agents.values():
            agent.driver.fail["spawn"] = "hypervisor refused"
        uuid, _ = cloud.boot("1")
        row = cloud.wait_settled(uuid)
        assert row.vm_state == "error"
        fault = fault_of(cloud, uuid)
        assert fault.message == (
            "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
            f"build failures for instance {uuid}."
        )
        assert "hypervisor refused" in fault.details
        assert cloud.allocations(uuid) == {}


def test_forced_down_host_gets_no_new_servers(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2) as cloud:
        with cloud.db.writer() as s:
            s.execute(update(Service).where(Service.host == "fake-1").values(forced_down=True))
        hosts = set()
        for _ in range(3):
            uuid, _ = cloud.boot("1")
            hosts.add(cloud.wait_settled(uuid).host)
        assert hosts == {"fake-2"}


def test_missing_image_fails_without_reschedule(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2) as cloud:
        uuid, request_id = cloud.boot("1", image_ref="8c1f3e8e-0000-4000-8000-000000000000")
        row = cloud.wait_settled(uuid)
        assert row.vm_state == "error"
        fault = fault_of(cloud, uuid)
        assert "Image 8c1f3e8e-0000-4000-8000-000000000000 could not be found." in fault.message
        assert cloud.allocations(uuid) == {}
        fetches = [
            e for e in events_of(cloud, uuid, request_id) if e.event == journey.event_name("18-21")
        ]
        assert [(e.result) for e in fetches] == ["Error"]


def test_requested_volume_fails_clearly(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid, request_id = cloud.create_instance("1")
        from kumo.compute.db.block_devices import BlockDeviceMapping

        with cloud.db.writer() as s:
            s.add(
                BlockDeviceMapping(
                    instance_uuid=uuid,
                    source_type="volume",
                    destination_type="volume",
                    boot_index=0,
                    volume_id="vol-1",
                )
            )
        cloud.run(cloud.runtime.compute_rpc.schedule_and_build, cloud.ctx(), [uuid], request_id)
        row = cloud.wait_settled(uuid)
        assert row.vm_state == "error"
        assert "no volume service" in fault_of(cloud, uuid).message
