"""POST /servers/{id}/action: every action checks the state table, records itself, hands over."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from kumo.common.db import utcnow
from kumo.compute.db.hosts import Service
from tests.api.compute._servers import CIRROS, FAKE_HOST, ServersCloud


def _last_action(c: ServersCloud) -> dict[str, object]:
    return c.rpc.actions[-1]


@pytest.mark.parametrize(
    ("body", "rpc_action", "status_after"),
    [
        ({"os-stop": None}, "stop", "SHUTOFF"),
        ({"reboot": {"type": "SOFT"}}, "reboot", "ACTIVE"),
        ({"reboot": {"type": "HARD"}}, "reboot", "ACTIVE"),
        ({"pause": None}, "pause", "PAUSED"),
        ({"suspend": None}, "suspend", "SUSPENDED"),
        ({"rescue": None}, "rescue", "RESCUE"),
        ({"shelve": None}, "shelve", "SHELVED"),
        ({"resize": {"flavorRef": "2"}}, "resize", "VERIFY_RESIZE"),
        ({"migrate": None}, "migrate", "VERIFY_RESIZE"),
        ({"rebuild": {"imageRef": CIRROS}}, "rebuild", "ACTIVE"),
    ],
)
def test_actions_from_active_hand_over_and_complete(
    servers_cloud: ServersCloud, body: dict[str, object], rpc_action: str, status_after: str
) -> None:
    c = servers_cloud
    caller = c.admin if "migrate" in body else c.demo
    sid = caller.boot()["id"]
    resp = caller.action(sid, body)
    assert resp.status_code in (200, 202), resp.text
    call = _last_action(c)
    assert (call["action"], call["uuid"]) == (rpc_action, sid)
    if rpc_action != "migrate":
        assert call["host"] == FAKE_HOST
    caller.wait_status(sid, status_after)
    # The request was recorded as an instance action under its request id.
    actions = caller.get(f"/servers/{sid}/os-instance-actions").json()["instanceActions"]
    assert actions[0]["request_id"] == resp.headers["x-openstack-request-id"]
    assert actions[0]["action"] == next(iter(body)).replace("os-", "")


def test_the_api_sets_the_task_state_before_handing_over(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    c.rpc.hold = True
    assert c.demo.action(sid, {"os-stop": None}).status_code == 202
    server = c.admin.get(f"/servers/{sid}").json()["server"]
    assert server["OS-EXT-STS:task_state"] == "powering-off"
    assert server["status"] == "ACTIVE"
    # A second action while the first runs is refused.
    resp = c.demo.action(sid, {"os-stop": None})
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == (
        f"Cannot 'os-stop' instance {sid} while it is in task_state powering-off"
    ).replace("'os-stop'", "'stop'")
    # A hard reboot may interrupt a soft one, not a power-off.
    assert c.demo.action(sid, {"reboot": {"type": "HARD"}}).status_code == 409


def test_an_action_not_allowed_in_the_vm_state_is_409(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.action(sid, {"os-start": None})
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == (
        f"Cannot 'start' instance {sid} while it is in vm_state active"
    )
    c.demo.action(sid, {"os-stop": None})
    c.demo.wait_status(sid, "SHUTOFF")
    resp = c.demo.action(sid, {"os-stop": None})
    assert resp.json()["conflictingRequest"]["message"] == (
        f"Cannot 'stop' instance {sid} while it is in vm_state stopped"
    )
    for body in ({"pause": None}, {"reboot": {"type": "SOFT"}}, {"confirmResize": None}):
        assert c.demo.action(sid, body).status_code == 409
    assert c.demo.action(sid, {"reboot": {"type": "HARD"}}).status_code == 202
    c.demo.wait_status(sid, "ACTIVE")


def test_round_trips(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    for do, status in (
        ({"os-stop": None}, "SHUTOFF"),
        ({"os-start": None}, "ACTIVE"),
        ({"pause": None}, "PAUSED"),
        ({"unpause": None}, "ACTIVE"),
        ({"suspend": None}, "SUSPENDED"),
        ({"resume": None}, "ACTIVE"),
        ({"rescue": {"adminPass": "pw"}}, "RESCUE"),
        ({"unrescue": None}, "ACTIVE"),
        ({"resize": {"flavorRef": "2"}}, "VERIFY_RESIZE"),
        ({"revertResize": None}, "ACTIVE"),
        ({"resize": {"flavorRef": "2"}}, "VERIFY_RESIZE"),
        ({"confirmResize": None}, "ACTIVE"),
        ({"shelve": None}, "SHELVED"),
        ({"unshelve": None}, "ACTIVE"),
    ):
        resp = c.demo.action(sid, do)
        assert resp.status_code in (200, 202, 204), (do, resp.text)
        c.demo.wait_status(sid, status)
    assert c.demo.action(sid, {"confirmResize": None}).status_code == 409


def test_shelve_offload_is_admin_only_and_unshelve_goes_through_conductor(
    servers_cloud: ServersCloud,
) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    c.demo.action(sid, {"shelve": None})
    c.demo.wait_status(sid, "SHELVED")
    assert c.demo.action(sid, {"shelveOffload": None}).status_code == 403
    assert c.admin.action(sid, {"shelveOffload": None}).status_code == 202
    c.demo.wait_status(sid, "SHELVED_OFFLOADED")
    assert c.demo.action(sid, {"unshelve": None}).status_code == 202
    assert _last_action(c)["host"] is None
    c.demo.wait_status(sid, "ACTIVE")


def test_rescue_returns_a_password_and_rebuild_the_server(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.action(sid, {"rescue": None})
    assert resp.status_code == 200
    assert len(resp.json()["adminPass"]) >= 8
    c.demo.action(sid, {"unrescue": None})
    resp = c.demo.action(sid, {"rebuild": {"imageRef": CIRROS, "name": "again"}})
    assert resp.status_code == 202
    server = resp.json()["server"]
    assert server["name"] == "again"
    assert "adminPass" in server
    assert "OS-EXT-STS:vm_state" not in server  # the reduced view below 2.75
    full = c.demo.action(sid, {"rebuild": {"imageRef": CIRROS}}, "2.75").json()["server"]
    assert "OS-EXT-STS:vm_state" in full
    missing = c.demo.action(sid, {"rebuild": {"imageRef": "00000000-0000-0000-0000-0000000000ff"}})
    assert missing.status_code == 400
    assert c.demo.action(sid, {"rebuild": {}}).status_code == 400


def test_resize_validation(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    same = c.demo.action(sid, {"resize": {"flavorRef": "1"}})
    assert same.status_code == 400
    assert same.json()["badRequest"]["message"] == "When resizing, instances must change flavor!"
    assert c.demo.action(sid, {"resize": {"flavorRef": "nope"}}).status_code == 400
    assert c.demo.action(sid, {"resize": {}}).status_code == 400
    bad_disk = {"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "SOMETIMES"}}
    assert c.demo.action(sid, bad_disk).status_code == 400


def test_resize_keeps_the_requested_disk_config(servers_cloud: ServersCloud) -> None:
    # tempest ServerDiskConfigTestJSON.test_resize_server_from_manual_to_auto
    c = servers_cloud
    sid = c.demo.boot(**{"OS-DCF:diskConfig": "MANUAL"})["id"]
    body = {"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "AUTO"}}
    assert c.demo.action(sid, body).status_code == 202
    server = c.demo.wait_status(sid, "VERIFY_RESIZE")
    assert server["OS-DCF:diskConfig"] == "AUTO"


def test_lock_refuses_actions_of_non_admins(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.action(sid, {"lock": {"locked_reason": "maintenance"}}, "2.73").status_code == 202
    server = c.demo.get(f"/servers/{sid}", "2.73").json()["server"]
    assert (server["locked"], server["locked_reason"]) == (True, "maintenance")
    resp = c.demo.action(sid, {"os-stop": None})
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == f"Instance {sid} is locked"
    assert c.demo.delete(f"/servers/{sid}").status_code == 409
    assert (
        c.demo.get("/servers", "2.73", params={"locked": "true"}).json()["servers"][0]["id"] == sid
    )
    # Admins are not bound by the lock.
    assert c.admin.action(sid, {"os-stop": None}).status_code == 202
    assert c.demo.action(sid, {"unlock": None}).status_code == 202
    assert c.demo.get(f"/servers/{sid}", "2.9").json()["server"]["locked"] is False
    assert c.demo.action(sid, {"lock": {"locked_reason": "x"}}, "2.72").status_code == 400


def test_an_admin_lock_needs_the_override_to_unlock(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.admin.action(sid, {"lock": None}).status_code == 202
    assert c.demo.action(sid, {"unlock": None}).status_code == 403
    assert c.admin.action(sid, {"unlock": None}).status_code == 202


def test_create_image_and_backup(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    old = c.demo.action(sid, {"createImage": {"name": "snap"}}, "2.44")
    assert old.status_code == 202
    assert "/images/" in old.headers["Location"]
    new = c.demo.action(sid, {"createImage": {"name": "snap2", "metadata": {"a": "b"}}}, "2.45")
    assert new.status_code == 202
    image_id = new.json()["image_id"]
    call = _last_action(c)
    assert call["action"] == "snapshot"
    assert call["params"] == {"image_id": image_id, "name": "snap2", "metadata": {"a": "b"}}
    backup = c.demo.action(
        sid, {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}, "2.45"
    )
    assert backup.status_code == 202 and "image_id" in backup.json()
    assert c.demo.action(sid, {"createBackup": {"name": "b"}}).status_code == 400
    assert c.demo.action(sid, {"createImage": {}}).status_code == 400
    # tempest test_create_image_specify_invalid_metadata
    bad_meta = {"createImage": {"name": "x", "metadata": {"": ""}}}
    assert c.demo.action(sid, bad_meta).status_code == 400


def test_create_image_records_the_image_before_answering(servers_cloud: ServersCloud) -> None:
    # Nova's API creates the queued image itself (the host only uploads), so the id it
    # answers with is already an image (tempest test_create_backup / images tests).
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.action(sid, {"createImage": {"name": "snap", "metadata": {"k": "v"}}}, "2.45")
    image = c.image_store.images[resp.json()["image_id"]]
    assert image["name"] == "snap" and image["k"] == "v"
    assert image["instance_uuid"] == sid and image["image_type"] == "snapshot"
    assert image["base_image_ref"] == CIRROS
    # the fake host uploads raw data: the image API refuses data that does not match
    assert (image["disk_format"], image["container_format"]) == ("raw", "bare")


def test_backup_rotation_keeps_the_newest(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    made = []
    for n in range(3):
        body = {"createBackup": {"name": f"b{n}", "backup_type": "daily", "rotation": 2}}
        resp = c.demo.action(sid, body, "2.45")
        assert resp.status_code == 202, resp.text
        made.append(resp.json()["image_id"])
        image = c.image_store.images[made[-1]]
        assert image["image_type"] == "backup" and image["backup_type"] == "daily"
    assert set(c.image_store.images) == set(made[1:])  # the first was rotated out


def test_console_output(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.action(sid, {"os-getConsoleOutput": {"length": 2}})
    assert resp.status_code == 200
    # Nova's _tail_log keeps the last `length` pieces of a split on "\n": the trailing
    # newline's empty piece is one of them (tempest counts `output.split("\n")`).
    assert resp.json()["output"].split("\n") == ["login: cirros", ""]
    three = c.demo.action(sid, {"os-getConsoleOutput": {"length": 3}}).json()["output"]
    assert three == "login: cirros\nlogin: cirros\n"
    everything = c.demo.action(sid, {"os-getConsoleOutput": {}}).json()["output"]
    assert everything.count("\n") == 3
    c.rpc.hold = True
    building = c.demo.boot()["id"]
    assert c.demo.action(building, {"os-getConsoleOutput": {}}).status_code == 409


def test_evacuate_only_from_a_down_host(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.action(sid, {"evacuate": {}}).status_code == 403
    resp = c.admin.action(sid, {"evacuate": {}}, "2.14")
    assert resp.status_code == 400
    assert (
        resp.json()["badRequest"]["message"] == f"Compute service of {FAKE_HOST} is still in use."
    )
    # The host stops heartbeating: its last report is older than service_down_time.
    with c.db.writer() as s:
        svc = s.scalars(select(Service).where(Service.host == FAKE_HOST)).one()
        svc.last_seen_up = svc.updated_at = utcnow() - dt.timedelta(minutes=10)
    resp = c.admin.action(sid, {"evacuate": {}}, "2.14")
    assert resp.status_code == 200, resp.text
    assert _last_action(c)["action"] == "evacuate"


def test_reset_state_is_admin_only(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.action(sid, {"os-resetState": {"state": "error"}}).status_code == 403
    assert c.admin.action(sid, {"os-resetState": {"state": "bogus"}}).status_code == 400
    assert c.admin.action(sid, {"os-resetState": {"state": "error"}}).status_code == 202
    assert c.demo.get(f"/servers/{sid}").json()["server"]["status"] == "ERROR"
    assert c.admin.action(sid, {"os-resetState": {"state": "active"}}).status_code == 202
    assert c.demo.get(f"/servers/{sid}").json()["server"]["status"] == "ACTIVE"


def test_force_delete_and_restore(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.action(sid, {"restore": None})
    assert resp.status_code == 409
    assert resp.json()["conflictingRequest"]["message"] == (
        f"Cannot 'restore' instance {sid} while it is in vm_state active"
    )
    assert c.demo.action(sid, {"forceDelete": None}).status_code == 202
    assert c.demo.get(f"/servers/{sid}").status_code == 404


def test_policy_and_unknown_actions(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.action(sid, {"migrate": None}).status_code == 403
    unknown = c.demo.action(sid, {"fly": None})
    assert unknown.status_code == 400
    assert "There is no such action: fly" in unknown.json()["badRequest"]["message"]
    assert c.demo.action(sid, {"reboot": {"type": "GENTLE"}}).status_code == 400
    assert c.demo.action(sid, {"reboot": None}).status_code == 400


def test_add_and_remove_security_groups(servers_cloud: ServersCloud) -> None:
    # tempest ServerActionsTestOtherA.test_remove_server_all_security_groups
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.get(f"/servers/{sid}").json()["server"]["security_groups"] == [
        {"name": "default"}
    ]
    assert c.demo.action(sid, {"addSecurityGroup": {"name": "web"}}).status_code == 202
    again = c.demo.action(sid, {"addSecurityGroup": {"name": "web"}})
    assert again.status_code == 400 and "already associated" in again.text
    names = [g["name"] for g in c.demo.get(f"/servers/{sid}").json()["server"]["security_groups"]]
    assert names == ["default", "web"]
    for name in ("default", "web"):
        resp = c.demo.action(sid, {"removeSecurityGroup": {"name": name}})
        assert resp.status_code == 202, resp.text
    assert "security_groups" not in c.demo.get(f"/servers/{sid}").json()["server"]
    missing = c.demo.action(sid, {"removeSecurityGroup": {"name": "web"}})
    assert missing.status_code == 400 and "not associated" in missing.text
    assert c.alt.action(sid, {"addSecurityGroup": {"name": "web"}}).status_code == 404
    unknown = c.demo.action(sid, {"addSecurityGroup": {"name": "nope"}})
    assert unknown.status_code == 404 and "Security group nope not found." in unknown.text
    assert c.demo.action(sid, {"addSecurityGroup": {}}).status_code == 400


def test_admin_rebuild_at_2_75_answers_user_data_only(servers_cloud: ServersCloud) -> None:
    # tempest ServersAdmin275Test.test_rebuild_update_server_275 (schema refuses the
    # extended OS-EXT-SRV-ATTR:user_data in a rebuild answer)
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.admin.action(sid, {"rebuild": {"imageRef": CIRROS}}, "2.75")
    assert resp.status_code == 202, resp.text
    server = resp.json()["server"]
    assert "user_data" in server and "OS-EXT-SRV-ATTR:user_data" not in server
    assert "OS-EXT-SRV-ATTR:host" in server  # the other extended attributes stay


def test_inject_network_info_is_for_admins(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.action(sid, {"injectNetworkInfo": None}).status_code == 403
    assert c.admin.action(sid, {"injectNetworkInfo": None}).status_code == 202
    missing = "00000000-0000-0000-0000-000000000000"
    assert c.admin.action(missing, {"injectNetworkInfo": None}).status_code == 404
