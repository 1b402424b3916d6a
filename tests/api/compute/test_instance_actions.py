"""/servers/{id}/os-instance-actions: the server's timeline, with the boot journey's events."""

from __future__ import annotations

from kumo.compute import journey
from tests.api.compute._servers import FAKE_HOST, ServersCloud


def test_create_is_recorded_with_the_journey_events(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    actions = c.demo.get(f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions] == ["create"]
    create = actions[0]
    assert create["instance_uuid"] == sid
    assert create["request_id"].startswith("req-")
    assert create["message"] is None
    assert "updated_at" not in create  # from 2.58
    shown = c.admin.get(f"/servers/{sid}/os-instance-actions/{create['request_id']}", "2.62")
    assert shown.status_code == 200
    events = shown.json()["instanceAction"]["events"]
    assert [e["event"] for e in events] == [
        journey.event_name(step) for step in ("3", "6-7", "8", "9-11", "12", "13", "28")
    ]
    assert all(e["result"] == "Success" and e["finish_time"] for e in events)
    by_name = {e["event"]: e for e in events}
    scheduler = by_name[journey.event_name("9-11")]
    assert scheduler["host"] == FAKE_HOST
    assert "traceback" in scheduler and scheduler["hostId"]
    # The API's own steps carry the API host; step 8 spans the scheduler's work.
    ask = by_name[journey.event_name("8")]
    assert ask["host"] != FAKE_HOST
    assert ask["start_time"] <= scheduler["start_time"] <= ask["finish_time"]


def test_what_non_admins_see_of_events_depends_on_the_microversion(
    servers_cloud: ServersCloud,
) -> None:
    c = servers_cloud
    c.rpc.no_valid_host = True
    sid = c.demo.boot()["id"]
    rid = c.demo.get(f"/servers/{sid}/os-instance-actions").json()["instanceActions"][0][
        "request_id"
    ]
    path = f"/servers/{sid}/os-instance-actions/{rid}"
    assert "events" not in c.demo.get(path, "2.50").json()["instanceAction"]
    select = journey.event_name("9-11")
    events = c.demo.get(path, "2.51").json()["instanceAction"]["events"]
    failed = next(e for e in events if e["event"] == select)
    assert failed["result"] == "Error"
    assert "traceback" not in failed and "host" not in failed
    admin_events = c.admin.get(path, "2.84").json()["instanceAction"]
    assert admin_events["message"] == "Error"
    admin_failed = next(e for e in admin_events["events"] if e["event"] == select)
    assert admin_failed["traceback"] == "NoValidHost: fake"
    assert "details" in admin_failed
    assert "updated_at" in admin_events


def test_actions_are_listed_newest_first_and_paged(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    c.demo.action(sid, {"os-stop": None})
    c.demo.wait_status(sid, "SHUTOFF")
    c.demo.action(sid, {"os-start": None})
    c.demo.wait_status(sid, "ACTIVE")
    path = f"/servers/{sid}/os-instance-actions"
    names = [a["action"] for a in c.demo.get(path).json()["instanceActions"]]
    assert names == ["start", "stop", "create"]
    page = c.demo.get(path, "2.58", params={"limit": 2}).json()
    assert [a["action"] for a in page["instanceActions"]] == ["start", "stop"]
    assert page["links"][0]["rel"] == "next"
    marker = page["instanceActions"][-1]["request_id"]
    rest = c.demo.get(path, "2.58", params={"marker": marker}).json()["instanceActions"]
    assert [a["action"] for a in rest] == ["create"]
    assert c.demo.get(path, "2.58", params={"marker": "req-nope"}).status_code == 400
    future = c.demo.get(path, "2.58", params={"changes-since": "2999-01-01T00:00:00Z"})
    assert future.json()["instanceActions"] == []


def test_unknown_action_and_deleted_server(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    missing = c.demo.get(f"/servers/{sid}/os-instance-actions/req-missing")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Action req-missing not found"
    c.demo.delete(f"/servers/{sid}")
    assert c.demo.get(f"/servers/{sid}/os-instance-actions", "2.20").status_code == 404
    after = c.demo.get(f"/servers/{sid}/os-instance-actions", "2.21").json()["instanceActions"]
    assert [a["action"] for a in after] == ["delete", "create"]
