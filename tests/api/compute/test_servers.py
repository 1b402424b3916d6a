"""Servers: create, show, list, update, delete — as the Compute API reference describes."""

from __future__ import annotations

import base64
import hashlib

from tests.api.compute._servers import (
    BIG_DISK,
    BIG_RAM,
    CIRROS,
    FAKE_HOST,
    QUEUED,
    ServersCloud,
)


def test_create_answers_202_with_id_links_password_and_location(
    servers_cloud: ServersCloud,
) -> None:
    c = servers_cloud
    resp = c.demo.post(
        "/servers", {"server": {"name": "web", "imageRef": CIRROS, "flavorRef": "1"}}
    )
    assert resp.status_code == 202, resp.text
    server = resp.json()["server"]
    assert set(server) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert server["OS-DCF:diskConfig"] == "MANUAL"
    assert server["security_groups"] == [{"name": "default"}]
    assert len(server["adminPass"]) >= 8
    assert resp.headers["Location"].endswith(f"/compute/v2.1/servers/{server['id']}")
    assert [link["rel"] for link in server["links"]] == ["self", "bookmark"]
    assert c.rpc.builds == [[server["id"]]]


def test_show_has_nova_fields_and_becomes_active(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = c.demo.boot(metadata={"role": "web"})
    assert server["status"] == "ACTIVE"
    assert server["OS-EXT-STS:vm_state"] == "active"
    assert server["OS-EXT-STS:task_state"] is None
    assert server["OS-EXT-STS:power_state"] == 1
    assert server["metadata"] == {"role": "web"}
    assert server["image"]["id"] == CIRROS
    assert server["flavor"]["id"] == "1"
    assert server["flavor"]["links"][0]["href"].endswith("/compute/flavors/1")
    assert server["addresses"]["private"][0]["addr"] == "10.0.0.10"
    assert server["progress"] == 0
    assert server["OS-SRV-USG:launched_at"] is not None
    assert server["OS-EXT-AZ:availability_zone"] == "nova"
    assert server["key_name"] is None
    assert server["created"].endswith("Z")
    # hostId is sha224(project_id + host); non-admins never see the host itself.
    project = server["tenant_id"]
    assert server["hostId"] == hashlib.sha224((project + FAKE_HOST).encode()).hexdigest()
    assert "OS-EXT-SRV-ATTR:host" not in server
    assert "locked" not in server  # only from 2.9


def test_admin_sees_extended_attributes(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = c.demo.boot()
    body = c.admin.get(f"/servers/{server['id']}", "2.3").json()["server"]
    assert body["OS-EXT-SRV-ATTR:host"] == FAKE_HOST
    assert body["OS-EXT-SRV-ATTR:hypervisor_hostname"] == "fake-node-1"
    assert body["OS-EXT-SRV-ATTR:instance_name"].startswith("instance-")
    assert body["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    assert body["OS-EXT-SRV-ATTR:launch_index"] == 0


def test_microversion_dependent_fields(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    server = c.demo.boot("2.52", description="hello", tags=["a", "b"])
    sid = server["id"]
    old = c.demo.get(f"/servers/{sid}", "2.1").json()["server"]
    for key in ("locked", "description", "tags", "trusted_image_certificates", "locked_reason"):
        assert key not in old
    new = c.demo.get(f"/servers/{sid}", "2.100").json()["server"]
    assert new["locked"] is False
    assert new["locked_reason"] is None
    assert new["description"] == "hello"
    assert new["tags"] == ["a", "b"]
    assert new["trusted_image_certificates"] is None
    assert new["server_groups"] == []
    assert new["pinned_availability_zone"] is None
    assert new["scheduler_hints"] == {}
    assert new["OS-EXT-SRV-ATTR:hostname"] == server["name"].lower()
    assert new["flavor"] == {
        "vcpus": 1,
        "ram": 512,
        "disk": 1,
        "ephemeral": 0,
        "swap": 0,
        "original_name": "m1.tiny",
        "extra_specs": {},
    }
    admin_view = c.admin.get(f"/servers/{sid}", "2.16").json()["server"]
    assert admin_view["host_status"] == "UP"


def test_fields_of_later_microversions_are_refused_earlier(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    body = {"server": {"name": "x", "imageRef": CIRROS, "flavorRef": "1", "description": "d"}}
    resp = c.demo.post("/servers", body, "2.18")
    assert resp.status_code == 400
    assert "description" in resp.json()["badRequest"]["message"]
    body["server"]["tags"] = ["t"]
    resp = c.demo.post("/servers", body, "2.51")
    assert resp.status_code == 400


def test_networks_is_required_from_2_37_and_auto_none_only_then(
    servers_cloud: ServersCloud,
) -> None:
    c = servers_cloud
    body = {"server": {"name": "x", "imageRef": CIRROS, "flavorRef": "1"}}
    assert c.demo.post("/servers", body, "2.37").status_code == 400
    body["server"]["networks"] = "auto"
    assert c.demo.post("/servers", body, "2.36").status_code == 400
    assert c.demo.post("/servers", body, "2.37").status_code == 202
    body["server"]["networks"] = [{"uuid": "not-a-uuid"}]
    bad = c.demo.post("/servers", body, "2.37")
    assert bad.status_code == 400
    assert "Bad networks format" in bad.json()["badRequest"]["message"]
    body["server"]["networks"] = [{"uuid": "3f0c4a52-9a4e-4e0e-9b7a-2a0d6c1e0f11"}]
    assert c.demo.post("/servers", body, "2.37").status_code == 202
    # the same network twice is allowed at every microversion (one port per entry;
    # tempest ServersTestMultiNic.test_verify_duplicate_network_nics).
    body["server"]["networks"] = [{"uuid": "3f0c4a52-9a4e-4e0e-9b7a-2a0d6c1e0f11"}] * 2
    assert c.demo.post("/servers", body, "2.1").status_code == 202


def test_bad_create_requests_are_400(servers_cloud: ServersCloud) -> None:
    c = servers_cloud

    def create(**server: object) -> tuple[int, str]:
        base: dict[str, object] = {"name": "x", "imageRef": CIRROS, "flavorRef": "1"}
        base.update(server)
        resp = c.demo.post("/servers", {"server": base})
        return resp.status_code, resp.text

    status, text = create(imageRef="00000000-0000-0000-0000-000000000000")
    assert status == 400 and "Can not find requested image" in text
    assert "Can not find requested image" in create(imageRef="00000000-0000-0000-0000-0")[1]
    assert "is not active" in create(imageRef=QUEUED)[1]
    status, text = create(flavorRef="nope")
    assert status == 400 and "Flavor nope could not be found." in text
    status, text = create(key_name="missing")
    assert status == 400 and "Invalid key_name provided." in text
    status, text = create(user_data="not base64!!")
    assert status == 400 and "base 64" in text
    status, text = create(imageRef=None)
    assert status == 400 and "Missing imageRef attribute" in text
    assert create(name="")[0] == 400
    assert create(name=" padded ")[0] == 400
    assert create(metadata={"k" * 256: "v"})[0] == 400
    assert create(metadata={"k": "v" * 256})[0] == 400
    assert create(min_count=3, max_count=2)[0] == 400
    assert create(min_count=0)[0] == 400
    assert create(min_count=2.5)[0] == 400  # not truncated to 2
    # a security group the networking API does not know (tempest
    # ServersNegativeTestJSON.test_create_with_nonexistent_security_group)
    status, text = create(security_groups=[{"name": "nope"}])
    assert status == 400 and "Security group nope not found." in text
    assert create(security_groups=[{"name": "web"}])[0] == 202
    assert create(max_count=2.5)[0] == 400
    assert create(max_count="2.5")[0] == 400
    assert create(bogus=1)[0] == 400
    assert create(accessIPv4="300.1.1.1")[0] == 400
    assert create(config_drive="maybe")[0] == 400
    assert create(block_device_mapping_v2=[{"source_type": "tape", "uuid": "x"}])[0] == 400
    resp = c.demo.post("/servers", {"nope": {}})
    assert resp.status_code == 400


def test_flavor_smaller_than_the_image_needs_is_400(servers_cloud: ServersCloud) -> None:
    # Nova's _check_requested_image: the image's min_ram / min_disk against the flavor
    # (tempest FlavorsV2NegativeTest.test_boot_with_low_ram).
    c = servers_cloud
    body = {"name": "small", "imageRef": BIG_RAM, "flavorRef": "1"}
    resp = c.demo.post("/servers", {"server": body})
    assert resp.status_code == 400, resp.text
    assert "Flavor's memory is too small for requested image." in resp.text
    resp = c.demo.post("/servers", {"server": {**body, "imageRef": BIG_DISK}})
    assert resp.status_code == 400, resp.text
    assert "minimum size is 2147483648 bytes" in resp.text
    # flavor 2 (m1.small: 2048 MB, 20 GB) is big enough for both.
    assert c.demo.post("/servers", {"server": {**body, "flavorRef": "2"}}).status_code == 202


def test_access_ips_are_kept_in_canonical_form(servers_cloud: ServersCloud) -> None:
    # tempest ServersTestJSON.test_verify_server_details compares with RFC 5952's form.
    c = servers_cloud
    server = c.demo.boot(
        accessIPv4="1.1.1.1", accessIPv6="0000:0000:0000:0000:0000:babe:220.12.22.2"
    )
    assert server["accessIPv4"] == "1.1.1.1"
    assert server["accessIPv6"] == "::babe:dc0c:1602"
    resp = c.demo.put(f"/servers/{server['id']}", {"server": {"accessIPv6": "2001:DB8:0:0::1"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["server"]["accessIPv6"] == "2001:db8::1"


def test_user_data_and_config_drive_are_kept(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    server = c.demo.boot(user_data=data, config_drive=True)
    assert server["config_drive"] == "True"
    admin_view = c.admin.get(f"/servers/{server['id']}", "2.3").json()["server"]
    assert admin_view["OS-EXT-SRV-ATTR:user_data"] == data


def test_boot_from_volume_has_empty_image(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    bdm = [
        {
            "source_type": "volume",
            "destination_type": "volume",
            "uuid": "7e5b7c2a-0000-4000-8000-0000000000aa",
            "boot_index": 0,
            "delete_on_termination": True,
        }
    ]
    server = c.demo.boot("2.3", imageRef="", block_device_mapping_v2=bdm)
    assert server["image"] == ""
    assert server["os-extended-volumes:volumes_attached"] == [
        {"id": "7e5b7c2a-0000-4000-8000-0000000000aa", "delete_on_termination": True}
    ]


def test_multiple_create_names_and_reservation_id(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    body = {
        "server": {
            "name": "fleet",
            "imageRef": CIRROS,
            "flavorRef": "1",
            "min_count": 2,
            "max_count": "3",
            "return_reservation_id": True,
        }
    }
    resp = c.demo.post("/servers", body)
    assert resp.status_code == 202
    resv = resp.json()["reservation_id"]
    assert resv.startswith("r-")
    listed = c.demo.get("/servers", params={"reservation_id": resv}).json()["servers"]
    assert sorted(s["name"] for s in listed) == ["fleet-1", "fleet-2", "fleet-3"]


def test_quota_exceeded_is_403(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    body = {"server": {"name": "big", "imageRef": CIRROS, "flavorRef": "5", "min_count": 3}}
    resp = c.demo.post("/servers", body)  # 3 × 8 vCPUs > 20 cores
    assert resp.status_code == 403
    message = resp.json()["forbidden"]["message"]
    assert message.startswith("Quota exceeded for cores: Requested 24, but already used 0 of 20")
    # max_count shrinks to what fits.
    body["server"].update({"min_count": 1, "max_count": 5, "return_reservation_id": True})
    resv = c.demo.post("/servers", body).json()["reservation_id"]
    got = c.demo.get("/servers", params={"reservation_id": resv}).json()["servers"]
    assert len(got) == 2


def test_no_valid_host_shows_error_and_fault(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    c.rpc.no_valid_host = True
    server = c.demo.boot()
    assert server["status"] == "ERROR"
    assert server["fault"]["code"] == 500
    assert server["fault"]["message"].startswith("No valid host was found.")
    assert "details" not in server["fault"]  # a 500's details are for admins only
    admin_view = c.admin.get(f"/servers/{server['id']}").json()["server"]
    assert admin_view["fault"]["details"] == "NoValidHost traceback"


def test_update_server(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    resp = c.demo.put(
        f"/servers/{sid}",
        {"server": {"name": "renamed", "description": "new", "accessIPv4": "192.0.2.1"}},
        "2.19",
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()["server"]
    assert (body["name"], body["description"], body["accessIPv4"]) == (
        "renamed",
        "new",
        "192.0.2.1",
    )
    assert (
        c.demo.put(f"/servers/{sid}", {"server": {"description": "x"}}, "2.18").status_code == 400
    )
    assert c.demo.put(f"/servers/{sid}", {"server": {"bogus": 1}}).status_code == 400


def test_delete_goes_through_the_host_and_hides_the_server(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.demo.delete(f"/servers/{sid}").status_code == 204
    assert c.rpc.actions[-1]["action"] == "delete"
    assert c.rpc.actions[-1]["host"] == FAKE_HOST
    resp = c.demo.get(f"/servers/{sid}")
    assert resp.status_code == 404
    assert resp.json()["itemNotFound"]["message"] == f"Instance {sid} could not be found."
    # Nobody shows a deleted server (tempest waits for this 404), not even admins.
    assert c.admin.get(f"/servers/{sid}").status_code == 404
    assert c.demo.delete(f"/servers/{sid}").status_code == 404


def test_a_server_never_scheduled_is_deleted_at_once(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    c.rpc.hold = True
    server = c.demo.boot()
    assert server["status"] == "BUILD"
    assert server["OS-EXT-STS:task_state"] == "scheduling"
    assert server["addresses"] == {}
    assert c.demo.delete(f"/servers/{server['id']}").status_code == 204
    assert c.rpc.actions == []
    assert c.demo.get(f"/servers/{server['id']}").status_code == 404
    # the API frees its ports and allocations itself (no host will): tempest's
    # tearDownClass could not delete the project's security group otherwise.
    assert c.locally_cleaned == [server["id"]]


def test_another_project_cannot_see_or_touch_a_server(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    sid = c.demo.boot()["id"]
    assert c.alt.get(f"/servers/{sid}").status_code == 404
    assert c.alt.put(f"/servers/{sid}", {"server": {"name": "x"}}).status_code == 404
    assert c.alt.delete(f"/servers/{sid}").status_code == 404
    assert c.alt.action(sid, {"os-stop": None}).status_code == 404
    assert c.alt.get(f"/servers/{sid}/metadata").status_code == 404
    assert c.alt.get(f"/servers/{sid}/os-instance-actions").status_code == 404
    assert sid not in [s["id"] for s in c.alt.get("/servers").json()["servers"]]
    # The admin may reach it.
    assert c.admin.get(f"/servers/{sid}").status_code == 200


def test_unauthenticated_is_401(servers_cloud: ServersCloud) -> None:
    resp = servers_cloud.client.get("/compute/v2.1/servers")
    assert resp.status_code == 401


class _BrokenScheduler:
    async def schedule_and_build(self, *args: object) -> None:
        raise TimeoutError("scheduler did not answer")


def test_an_unreachable_scheduler_puts_the_server_in_error(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    c.app_state.compute_rpc = _BrokenScheduler()
    resp = c.demo.post("/servers", {"server": {"name": "x", "imageRef": CIRROS, "flavorRef": "1"}})
    assert resp.status_code == 202
    server = c.demo.get(f"/servers/{resp.json()['server']['id']}").json()["server"]
    assert server["status"] == "ERROR"
    assert "scheduler did not answer" in server["fault"]["message"]
    rid = resp.headers["x-openstack-request-id"]
    action = c.admin.get(f"/servers/{server['id']}/os-instance-actions/{rid}").json()
    step_8 = [e for e in action["instanceAction"]["events"] if e["event"].startswith("step_08")]
    assert step_8[0]["result"] == "Error"
    assert "TimeoutError" in step_8[0]["traceback"]


def test_key_name_and_server_group_hint(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    key = c.demo.post("/os-keypairs", {"keypair": {"name": "mykey"}})
    assert key.status_code in (200, 201), key.text
    group = c.demo.post(
        "/os-server-groups", {"server_group": {"name": "g", "policies": ["anti-affinity"]}}
    )
    assert group.status_code == 200, group.text
    gid = group.json()["server_group"]["id"]
    body = {
        "server": {"name": "k", "imageRef": CIRROS, "flavorRef": "1", "key_name": "mykey"},
        "os:scheduler_hints": {"group": gid},
    }
    resp = c.demo.post("/servers", body)
    assert resp.status_code == 202, resp.text
    sid = resp.json()["server"]["id"]
    server = c.demo.get(f"/servers/{sid}", "2.71").json()["server"]
    assert server["key_name"] == "mykey"
    assert server["server_groups"] == [gid]
    members = c.demo.get(f"/os-server-groups/{gid}").json()["server_group"]["members"]
    assert members == [sid]
    # Another user's key is not there for alt (key pairs belong to users).
    body["server"]["name"] = "other"
    assert c.alt.post("/servers", {"server": body["server"]}).status_code == 400
    body["os:scheduler_hints"] = {"group": "8b7b1a5e-0000-4000-8000-000000000000"}
    missing = c.demo.post("/servers", body)
    assert missing.status_code == 400
    c.demo.delete(f"/servers/{sid}")
    members = c.demo.get(f"/os-server-groups/{gid}").json()["server_group"]["members"]
    assert members == []


def test_forced_and_requested_hosts_are_for_admins(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    base = {"name": "h", "imageRef": CIRROS, "flavorRef": "1", "networks": "none"}
    forced = {"server": dict(base, availability_zone=f"nova:{FAKE_HOST}")}
    assert c.demo.post("/servers", forced, "2.37").status_code == 403
    assert c.admin.post("/servers", forced, "2.37").status_code == 202
    assert c.admin.post("/servers", forced, "2.37").headers["Location"]
    requested = {"server": dict(base, host=FAKE_HOST)}
    assert c.admin.post("/servers", requested, "2.73").status_code == 400
    assert c.demo.post("/servers", requested, "2.74").status_code == 403
    assert c.admin.post("/servers", requested, "2.74").status_code == 202
    unknown = {"server": dict(base, host="nowhere")}
    resp = c.admin.post("/servers", unknown, "2.74")
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == "Compute host nowhere could not be found."
    node = {"server": dict(base, hypervisor_hostname="fake-node-1")}
    assert c.admin.post("/servers", node, "2.74").status_code == 202


def test_servers_count_in_quota_usage(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    c.demo.boot(flavorRef="2")
    absolute = c.demo.get("/limits").json()["limits"]["absolute"]
    assert absolute["totalInstancesUsed"] == 1
    assert absolute["totalCoresUsed"] == 1
    assert absolute["totalRAMUsed"] == 2048
