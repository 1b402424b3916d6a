"""The boot journey (booklet chapter 5) end to end on the fake driver."""

from __future__ import annotations

from typing import Any

from kumo.common.clients.placement import provider_uuid
from kumo.compute import journey
from kumo.compute.service import instance_actions
from tests.functional.compute.conftest import Cloud


def events_of(cloud: Cloud, instance_uuid: str, request_id: str) -> list[Any]:
    with cloud.db.reader() as s:
        action = instance_actions.find_action(s, instance_uuid, request_id)
        events = instance_actions.list_events(s, action.id)
        for e in events:
            s.expunge(e)
        return events


def test_boot_goes_active_with_every_journey_step_recorded(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid, request_id = cloud.boot("1")
        row = cloud.wait_settled(uuid)
        assert (row.vm_state, row.task_state, row.power_state) == ("active", None, 1)
        assert row.host == "fake"
        assert row.launched_at is not None
        names = [e.event for e in events_of(cloud, uuid, request_id)]
        wanted = [
            journey.event_name(step)
            for step in ("9-11", "12", "13", "14-17", "18-21", "22-24", "25-27", "28")
        ]
        assert names == wanted
        events = events_of(cloud, uuid, request_id)
        assert all(e.result == "Success" and e.finish_time for e in events)
        assert {e.host for e in events[2:]} == {"fake"}
        # The claim is in Placement, against the host's resource provider.
        allocs = cloud.allocations(uuid)
        assert allocs[provider_uuid("fake")]["resources"] == {
            "VCPU": 1,
            "MEMORY_MB": 512,
            "DISK_GB": 1,
        }
        assert uuid in cloud.run(cloud.runtime.agents["fake"].driver.list_instances)
