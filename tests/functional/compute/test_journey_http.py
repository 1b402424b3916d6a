"""The boot journey through HTTP, as a client sees it: POST /servers → ACTIVE, then the timeline."""

from __future__ import annotations

import time
from typing import Any

from kumo.compute import journey
from tests.functional.compute.conftest import Cloud

MV = {"OpenStack-API-Version": "compute 2.62"}


def make_image(cloud: Cloud) -> str:
    headers = {"X-Auth-Token": cloud.admin_token}
    resp = cloud.client.post(
        "/image/v2/images",
        json={"name": "cirros", "disk_format": "raw", "container_format": "bare"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    image_id: str = resp.json()["id"]
    put = cloud.client.put(
        f"/image/v2/images/{image_id}/file",
        content=b"\0" * 1024,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 204, put.text
    return image_id


def wait_status(cloud: Cloud, server_id: str, wanted: str, timeout: float = 20.0) -> dict[str, Any]:
    headers = {"X-Auth-Token": cloud.admin_token, **MV}
    deadline = time.monotonic() + timeout
    while True:
        server: dict[str, Any] = cloud.client.get(
            f"/compute/v2.1/servers/{server_id}", headers=headers
        ).json()["server"]
        if server["status"] == wanted or time.monotonic() > deadline:
            return server
        time.sleep(0.05)


def test_server_create_goes_active_and_shows_the_journey(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        image_id = make_image(cloud)
        headers = {"X-Auth-Token": cloud.admin_token, **MV}
        resp = cloud.client.post(
            "/compute/v2.1/servers",
            json={
                "server": {
                    "name": "journey",
                    "imageRef": image_id,
                    "flavorRef": "1",
                    "networks": "none",
                }
            },
            headers=headers,
        )
        assert resp.status_code == 202, resp.text
        server_id = resp.json()["server"]["id"]
        server = wait_status(cloud, server_id, "ACTIVE")
        assert server["status"] == "ACTIVE", server
        assert server["OS-EXT-STS:power_state"] == 1
        assert server["OS-EXT-STS:task_state"] is None
        assert server["OS-EXT-SRV-ATTR:host"] == "fake"
        actions = cloud.client.get(
            f"/compute/v2.1/servers/{server_id}/os-instance-actions", headers=headers
        ).json()["instanceActions"]
        [create] = [a for a in actions if a["action"] == "create"]
        detail = cloud.client.get(
            f"/compute/v2.1/servers/{server_id}/os-instance-actions/{create['request_id']}",
            headers=headers,
        ).json()["instanceAction"]
        events = sorted(detail["events"], key=lambda e: e["start_time"])
        journey_events = [e for e in events if journey.describe(e["event"]) is not None]
        names = [e["event"] for e in journey_events]
        for step in ("9-11", "12", "13", "14-17", "18-21", "22-24", "25-27", "28"):
            assert journey.event_name(step) in names, step
        assert all(e["result"] == "Success" for e in journey_events)
        spawn = next(e for e in events if e["event"] == journey.event_name("28"))
        assert spawn["host"] == "fake"


def test_server_delete_through_http_frees_the_allocation(make_cloud: Any) -> None:
    with make_cloud() as cloud:
        image_id = make_image(cloud)
        headers = {"X-Auth-Token": cloud.admin_token, **MV}
        resp = cloud.client.post(
            "/compute/v2.1/servers",
            json={
                "server": {
                    "name": "gone",
                    "imageRef": image_id,
                    "flavorRef": "1",
                    "networks": "none",
                }
            },
            headers=headers,
        )
        server_id = resp.json()["server"]["id"]
        assert wait_status(cloud, server_id, "ACTIVE")["status"] == "ACTIVE"
        assert cloud.allocations(server_id) != {}
        assert (
            cloud.client.delete(f"/compute/v2.1/servers/{server_id}", headers=headers).status_code
            == 204
        )
        cloud.wait(server_id, lambda r: r.deleted)
        assert cloud.allocations(server_id) == {}
