"""/v2/images/{id}/members: sharing, accepting, and who sees shared images."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.image.conftest import Images, project_id


def _members(images: Images, image_id: str, expect: int = 200) -> Any:
    resp = images.cloud.get(f"/image/v2/images/{image_id}/members", headers=images.headers())
    assert resp.status_code == expect, resp.text
    return resp.json()


def _add(images: Images, image_id: str, member: str, expect: int = 200) -> Any:
    resp = images.cloud.post(
        f"/image/v2/images/{image_id}/members", json={"member": member}, headers=images.headers()
    )
    assert resp.status_code == expect, resp.text
    return resp.json()


def _set(images: Images, image_id: str, member: str, status: str, expect: int = 200) -> Any:
    resp = images.cloud.put(
        f"/image/v2/images/{image_id}/members/{member}",
        json={"status": status},
        headers=images.headers(),
    )
    assert resp.status_code == expect, resp.text
    return resp.json()


def test_share_accept_reject_lifecycle(cloud: TestClient, demo: Images, alt: Images) -> None:
    alt_id = project_id(cloud, alt)
    image = demo.create(visibility="shared")
    iid = image["id"]
    # Before sharing, alt cannot see it at all.
    alt.get(iid, expect=404)
    member = _add(demo, iid, alt_id)
    assert member["member_id"] == alt_id and member["image_id"] == iid
    assert member["status"] == "pending"
    assert member["schema"] == "/v2/schemas/member"
    assert member["created_at"].endswith("Z")
    # Pending: alt may show it, but lists it only when asking for pending ones.
    assert alt.get(iid)["id"] == iid
    assert iid not in alt.ids()
    assert iid in alt.ids(member_status="pending")
    assert iid in alt.ids(member_status="all")
    assert _set(alt, iid, alt_id, "accepted")["status"] == "accepted"
    assert iid in alt.ids()
    assert iid not in alt.ids(member_status="pending")
    assert _set(alt, iid, alt_id, "rejected")["status"] == "rejected"
    assert iid not in alt.ids()
    assert iid in alt.ids(member_status="rejected")
    listed = _members(demo, iid)
    assert listed["schema"] == "/v2/schemas/members"
    assert [m["member_id"] for m in listed["members"]] == [alt_id]
    resp = cloud.get(f"/image/v2/images/{iid}/members/{alt_id}", headers=alt.headers())
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    resp = cloud.delete(f"/image/v2/images/{iid}/members/{alt_id}", headers=demo.headers())
    assert resp.status_code == 204
    alt.get(iid, expect=404)


def test_only_the_member_changes_its_status(cloud: TestClient, demo: Images, alt: Images) -> None:
    alt_id = project_id(cloud, alt)
    iid = demo.create(visibility="shared")["id"]
    _add(demo, iid, alt_id)
    body = _set(demo, iid, alt_id, "accepted", expect=403)
    assert body["code"] == "403 Forbidden"
    _set(alt, iid, alt_id, "maybe", expect=400)
    # The member can neither add members nor remove itself.
    _add(alt, iid, "someone-else", expect=403)
    resp = cloud.delete(f"/image/v2/images/{iid}/members/{alt_id}", headers=alt.headers())
    assert resp.status_code == 403


def test_member_errors(cloud: TestClient, demo: Images, alt: Images) -> None:
    alt_id = project_id(cloud, alt)
    private = demo.create(visibility="private")["id"]
    body = _add(demo, private, alt_id, expect=403)
    assert "Only shared images have members" in body["message"]
    _members(demo, private, expect=403)
    shared = demo.create(visibility="shared")["id"]
    _add(demo, shared, alt_id)
    assert "duplicated" in _add(demo, shared, alt_id, expect=409)["message"]
    resp = cloud.get(f"/image/v2/images/{shared}/members/nobody", headers=demo.headers())
    assert resp.status_code == 404
    resp = cloud.post(f"/image/v2/images/{shared}/members", json={}, headers=demo.headers())
    assert resp.status_code == 400
    resp = cloud.delete(f"/image/v2/images/{shared}/members/nobody", headers=demo.headers())
    assert resp.status_code == 404


def test_member_sees_only_its_own_membership(
    cloud: TestClient, admin: Images, demo: Images, alt: Images
) -> None:
    alt_id = project_id(cloud, alt)
    admin_id = project_id(cloud, admin)
    iid = demo.create(visibility="shared")["id"]
    _add(demo, iid, alt_id)
    _add(demo, iid, admin_id)
    assert {m["member_id"] for m in _members(demo, iid)["members"]} == {alt_id, admin_id}
    assert [m["member_id"] for m in _members(alt, iid)["members"]] == [alt_id]
    resp = cloud.get(f"/image/v2/images/{iid}/members/{admin_id}", headers=alt.headers())
    assert resp.status_code == 404


def test_shared_image_of_another_project_is_404_without_membership(
    cloud: TestClient, demo: Images, alt: Images
) -> None:
    iid = demo.create(visibility="shared")["id"]
    _members(alt, iid, expect=404)
    alt.get(iid, expect=404)
    assert iid not in alt.ids(member_status="all")
