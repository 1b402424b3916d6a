"""`kumo trace` prints the journey; compute hosts register in Placement and os-services."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from sqlalchemy import select

from kumo.cli.trace import trace
from kumo.common.clients.placement import provider_uuid
from kumo.compute import journey
from kumo.compute.db.hosts import ComputeNode, Service


def test_trace_prints_the_boot_timeline(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        uuid, request_id = cloud.boot("1")
        cloud.wait_settled(uuid)
        out = io.StringIO()
        settings = cloud.runtime.settings
        assert trace(settings, uuid, Console(file=out, width=200)) == 0
        text = out.getvalue()
        assert f"create  {request_id}" in text
        for step in ("9-11", "14-17", "28"):
            assert journey.event_name(step) in text
        assert "Success" in text and "vm_state=active" in text


def test_hosts_register_service_node_and_resource_provider(make_cloud: Any) -> None:
    with make_cloud(fake_hosts=2, fake_host_vcpus=8, cpu_allocation_ratio=2.0) as cloud:
        with cloud.db.reader() as s:
            services = {
                r.host for r in s.scalars(select(Service).where(Service.binary == "nova-compute"))
            }
            nodes = {r.host: r.hypervisor_type for r in s.scalars(select(ComputeNode))}
        assert services == {"fake-1", "fake-2"}
        assert nodes == {"fake-1": "fake", "fake-2": "fake"}
        headers = {"X-Auth-Token": cloud.admin_token, "OpenStack-API-Version": "placement 1.28"}
        rp = cloud.client.get(
            f"/placement/resource_providers/{provider_uuid('fake-1')}", headers=headers
        ).json()
        assert rp["name"] == "fake-1"
        inv = cloud.client.get(
            f"/placement/resource_providers/{provider_uuid('fake-1')}/inventories",
            headers=headers,
        ).json()["inventories"]
        assert inv["VCPU"]["total"] == 8 and inv["VCPU"]["allocation_ratio"] == 2.0
        assert inv["MEMORY_MB"]["reserved"] == 512
        # os-services shows the compute services up.
        resp = cloud.client.get(
            "/compute/v2.1/os-services?binary=nova-compute",
            headers={"X-Auth-Token": cloud.admin_token},
        )
        assert resp.status_code == 200, resp.text
        states = {s["host"]: s["state"] for s in resp.json()["services"]}
        assert states == {"fake-1": "up", "fake-2": "up"}


def test_heartbeat_updates_the_service_record(make_cloud: Any) -> None:
    with make_cloud() as cloud:

        def count() -> int:
            with cloud.db.reader() as s:
                return s.scalars(
                    select(Service.report_count).where(
                        Service.host == "fake", Service.binary == "nova-compute"
                    )
                ).one()

        before = count()
        cloud.run(cloud.runtime.agents["fake"].heartbeat)
        assert count() == before + 1


def test_scheduler_and_conductor_are_services_in_the_internal_zone(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        headers = {"X-Auth-Token": cloud.admin_token}
        services = cloud.client.get("/compute/v2.1/os-services", headers=headers).json()
        control = {
            s["binary"]: (s["zone"], s["state"])
            for s in services["services"]
            if s["binary"] != "nova-compute"
        }
        assert control == {
            "nova-scheduler": ("internal", "up"),
            "nova-conductor": ("internal", "up"),
        }
        # os-hosts lists a host per service, as tempest's test_list_hosts expects.
        listed = cloud.client.get("/compute/v2.1/os-hosts", headers=headers).json()["hosts"]
        assert {h["service"] for h in listed} >= {"compute", "scheduler", "conductor"}
        zones = cloud.client.get("/compute/v2.1/os-availability-zone", headers=headers).json()
        assert "internal" not in {z["zoneName"] for z in zones["availabilityZoneInfo"]}
