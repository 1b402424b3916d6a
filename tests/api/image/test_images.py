"""/v2/images: create, show, update by JSON patch, delete, actions and tags."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.image.conftest import PATCH, Images, hdr, project_id
from tests.conftest import issue


def test_create_shows_glance_fields(cloud: TestClient, demo: Images) -> None:
    resp = cloud.post(
        "/image/v2/images",
        json={
            "name": "cirros",
            "disk_format": "qcow2",
            "container_format": "bare",
            "tags": ["a", "b", "a"],
            "hw_disk_bus": "virtio",
            "min_ram": 64,
        },
        headers=demo.headers(),
    )
    assert resp.status_code == 201, resp.text
    image = resp.json()
    assert resp.headers["Location"] == f"/v2/images/{image['id']}"
    assert resp.headers["OpenStack-image-import-methods"] == "glance-direct"
    assert image["status"] == "queued"
    assert image["visibility"] == "shared"  # Glance's default since Ocata
    assert image["owner"] == project_id(cloud, demo)
    assert image["protected"] is False and image["os_hidden"] is False
    assert image["size"] is None and image["checksum"] is None
    assert image["min_ram"] == 64 and image["min_disk"] == 0
    assert sorted(image["tags"]) == ["a", "b"]
    assert image["hw_disk_bus"] == "virtio"
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["schema"] == "/v2/schemas/image"
    assert image["created_at"].endswith("Z")
    assert demo.get(image["id"]) == image


def test_create_with_id_and_duplicate_is_409(demo: Images) -> None:
    image_id = "1d2c3b4a-0000-4000-8000-00000000abcd"
    assert demo.create(id=image_id)["id"] == image_id
    body = demo.create(expect=409, id=image_id)
    assert body["code"] == "409 Conflict" and image_id in body["message"]


def test_create_refuses_bad_input(demo: Images) -> None:
    assert "read-only" in demo.create(expect=403, status="active")["message"]
    assert "read-only" in demo.create(expect=403, **{"file": "/x"})["message"]
    assert "reserved" in demo.create(expect=403, location="http://x")["message"]
    assert "reserved" in demo.create(expect=403, os_glance_foo="1")["message"]
    demo.create(expect=400, disk_format="floppy")
    demo.create(expect=400, visibility="everyone")
    demo.create(expect=400, min_ram="lots")
    demo.create(expect=400, min_disk=-1)
    demo.create(expect=400, protected="yes")
    demo.create(expect=400, id="not-a-uuid")
    demo.create(expect=400, custom=5)
    demo.create(expect=400, name="x" * 256)
    demo.create(expect=400, name="nul\u0000")


def test_create_public_is_admin_only_community_is_not(admin: Images, demo: Images) -> None:
    body = demo.create(expect=403, visibility="public")
    assert body["code"] == "403 Forbidden" and "publicize_image" in body["message"]
    assert demo.create(visibility="community")["visibility"] == "community"
    assert admin.create(visibility="public")["visibility"] == "public"


def test_create_for_another_owner_is_forbidden(
    cloud: TestClient, demo: Images, alt: Images
) -> None:
    body = demo.create(expect=403, owner=project_id(cloud, alt))
    assert "not permitted to create images owned by" in body["message"]


def test_another_projects_private_image_is_404(demo: Images, alt: Images) -> None:
    image = demo.create(visibility="private")
    body = alt.get(image["id"], expect=404)
    assert body["code"] == "404 Not Found"
    assert image["id"] not in alt.ids()
    alt.patch(image["id"], [{"op": "replace", "path": "/name", "value": "x"}], expect=404)
    resp = alt.cloud.delete(f"/image/v2/images/{image['id']}", headers=alt.headers())
    assert resp.status_code == 404


def test_public_image_is_seen_but_not_modified_by_others(admin: Images, demo: Images) -> None:
    image = admin.create(visibility="public")
    assert demo.get(image["id"])["id"] == image["id"]
    assert image["id"] in demo.ids()
    body = demo.patch(image["id"], [{"op": "replace", "path": "/name", "value": "x"}], expect=403)
    assert "modify_image" in body["message"]
    resp = demo.cloud.delete(f"/image/v2/images/{image['id']}", headers=demo.headers())
    assert resp.status_code == 403


def test_community_images_are_visible_but_listed_only_on_request(demo: Images, alt: Images) -> None:
    image = demo.create(visibility="community")
    assert alt.get(image["id"])["visibility"] == "community"
    assert image["id"] not in alt.ids()
    assert image["id"] in alt.ids(visibility="community")
    assert image["id"] in demo.ids()  # the owner lists its own


def test_patch_replace_add_remove(demo: Images) -> None:
    image = demo.create(os_distro="cirros")
    updated = demo.patch(
        image["id"],
        [
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "add", "path": "/hw_scsi_model", "value": "virtio-scsi"},
            {"op": "replace", "path": "/os_distro", "value": "ubuntu"},
            {"op": "add", "path": "/min_disk", "value": 2},
            {"op": "replace", "path": "/tags", "value": ["x", "y"]},
            {"op": "add", "path": "/protected", "value": True},
        ],
    )
    assert updated["name"] == "renamed"
    assert updated["hw_scsi_model"] == "virtio-scsi"
    assert updated["os_distro"] == "ubuntu"
    assert updated["min_disk"] == 2 and updated["protected"] is True
    assert sorted(updated["tags"]) == ["x", "y"]
    removed = demo.patch(image["id"], [{"op": "remove", "path": "/os_distro"}])
    assert "os_distro" not in removed
    assert demo.get(image["id"]) == removed


def test_patch_errors(demo: Images) -> None:
    image = demo.create()
    iid = image["id"]
    assert (
        "read-only"
        in demo.patch(iid, [{"op": "replace", "path": "/status", "value": "active"}], expect=403)[
            "message"
        ]
    )
    assert (
        "may not be removed"
        in demo.patch(iid, [{"op": "remove", "path": "/name"}], expect=403)["message"]
    )
    assert (
        "does not exist"
        in demo.patch(iid, [{"op": "remove", "path": "/nope"}], expect=409)["message"]
    )
    assert (
        "does not exist"
        in demo.patch(iid, [{"op": "replace", "path": "/nope", "value": "1"}], expect=409)[
            "message"
        ]
    )
    demo.patch(iid, [{"op": "move", "path": "/name", "value": "x"}], expect=400)
    demo.patch(iid, [{"op": "add", "path": "/a/b", "value": "x"}], expect=400)
    demo.patch(iid, [{"op": "add", "path": "name", "value": "x"}], expect=400)
    demo.patch(iid, [{"op": "add", "path": "/name"}], expect=400)
    demo.patch(iid, [{"op": "add", "path": "/visibility", "value": "bogus"}], expect=400)
    demo.patch(iid, {"op": "add"}, expect=400)  # type: ignore[arg-type]
    owner = demo.patch(iid, [{"op": "replace", "path": "/owner", "value": "x"}], expect=403)
    assert "Owner can't be updated by non admin" in owner["message"]
    public = demo.patch(
        iid, [{"op": "replace", "path": "/visibility", "value": "public"}], expect=403
    )
    assert "publicize_image" in public["message"]
    # Nothing of a failed patch is applied.
    assert demo.get(iid)["name"] == image["name"]


def test_patch_needs_the_json_patch_media_type(cloud: TestClient, demo: Images) -> None:
    image = demo.create()
    resp = cloud.patch(
        f"/image/v2/images/{image['id']}",
        json=[{"op": "replace", "path": "/name", "value": "x"}],
        headers=demo.headers(),
    )
    assert resp.status_code == 415
    assert "application/openstack-images-v2.1-json-patch" in resp.json()["message"]
    resp = cloud.patch(
        f"/image/v2/images/{image['id']}",
        content=b"{not json",
        headers=demo.headers(**{"Content-Type": PATCH}),
    )
    assert resp.status_code == 400


def test_delete_and_protected(cloud: TestClient, demo: Images) -> None:
    image = demo.create(protected=True)
    resp = cloud.delete(f"/image/v2/images/{image['id']}", headers=demo.headers())
    assert resp.status_code == 403
    assert "protected" in resp.json()["message"]
    demo.patch(image["id"], [{"op": "replace", "path": "/protected", "value": False}])
    resp = cloud.delete(f"/image/v2/images/{image['id']}", headers=demo.headers())
    assert resp.status_code == 204
    demo.get(image["id"], expect=404)
    resp = cloud.delete(f"/image/v2/images/{image['id']}", headers=demo.headers())
    assert resp.status_code == 404


def test_deactivate_and_reactivate(cloud: TestClient, demo: Images, admin: Images) -> None:
    image = demo.create(disk_format="raw", container_format="bare")
    url = f"/image/v2/images/{image['id']}/actions"
    resp = cloud.post(f"{url}/deactivate", headers=demo.headers())
    assert resp.status_code == 400  # only an active image can be deactivated
    demo.upload(image["id"], b"some raw bytes")
    assert cloud.post(f"{url}/deactivate", headers=demo.headers()).status_code == 204
    assert demo.get(image["id"])["status"] == "deactivated"
    resp = cloud.get(f"/image/v2/images/{image['id']}/file", headers=demo.headers())
    assert resp.status_code == 403
    assert "deactivated" in resp.json()["message"]
    # An admin may still download a deactivated image.
    resp = cloud.get(f"/image/v2/images/{image['id']}/file", headers=admin.headers())
    assert resp.status_code == 200 and resp.content == b"some raw bytes"
    assert cloud.post(f"{url}/reactivate", headers=demo.headers()).status_code == 204
    assert demo.get(image["id"])["status"] == "active"
    resp = cloud.get(f"/image/v2/images/{image['id']}/file", headers=demo.headers())
    assert resp.status_code == 200


def test_tags(cloud: TestClient, demo: Images, alt: Images) -> None:
    image = demo.create()
    url = f"/image/v2/images/{image['id']}/tags"
    assert cloud.put(f"{url}/blue", headers=demo.headers()).status_code == 204
    assert cloud.put(f"{url}/blue", headers=demo.headers()).status_code == 204
    assert cloud.put(f"{url}/green", headers=demo.headers()).status_code == 204
    assert sorted(demo.get(image["id"])["tags"]) == ["blue", "green"]
    assert cloud.delete(f"{url}/blue", headers=demo.headers()).status_code == 204
    assert demo.get(image["id"])["tags"] == ["green"]
    resp = cloud.delete(f"{url}/blue", headers=demo.headers())
    assert resp.status_code == 404 and resp.json()["title"] == "Not Found"
    assert cloud.put(f"{url}/{'x' * 256}", headers=demo.headers()).status_code == 400
    assert cloud.put(f"{url}/red", headers=alt.headers()).status_code == 404


def test_reader_cannot_create_or_modify(cloud: TestClient, demo: Images) -> None:
    # demo gets only the reader role on alt_demo (Glance's secure RBAC).
    admin = hdr(issue(cloud))
    users = cloud.get("/identity/v3/users?name=demo", headers=admin).json()["users"]
    projects = cloud.get("/identity/v3/projects?name=alt_demo", headers=admin).json()["projects"]
    roles = cloud.get("/identity/v3/roles?name=reader", headers=admin).json()["roles"]
    grant = (
        f"/identity/v3/projects/{projects[0]['id']}/users/{users[0]['id']}/roles/{roles[0]['id']}"
    )
    assert cloud.put(grant, headers=admin).status_code == 204
    reader = Images(cloud, issue(cloud, "demo", project="alt_demo"))
    body = reader.create(expect=403)
    assert "add_image" in body["message"]
    assert reader.list()["images"] is not None


def test_empty_image_id_is_404_not_a_redirect(cloud: TestClient, demo: Images) -> None:
    for method in ("GET", "DELETE"):
        resp = cloud.request(
            method, "/image/v2/images/", headers=demo.headers(), follow_redirects=False
        )
        assert resp.status_code == 404, method
        assert resp.json()["title"] == "Not Found"


def test_v2_0_json_patch_syntax(cloud: TestClient, demo: Images) -> None:
    """tempest and old clients send application/openstack-images-v2.0-json-patch."""
    image = demo.create()
    v20 = demo.headers(**{"Content-Type": "application/openstack-images-v2.0-json-patch"})
    url = f"/image/v2/images/{image['id']}"
    resp = cloud.patch(url, json=[{"replace": "/name", "value": "v20"}], headers=v20)
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == "v20"
    resp = cloud.patch(url, json=[{"add": "/os_distro", "value": "cirros"}], headers=v20)
    assert resp.json()["os_distro"] == "cirros"
    # Draft 4: adding what is already there is a conflict.
    resp = cloud.patch(url, json=[{"add": "/os_distro", "value": "x"}], headers=v20)
    assert resp.status_code == 409 and "already present" in resp.json()["message"]
    resp = cloud.patch(url, json=[{"add": "/os_glance_foo", "value": "bar"}], headers=v20)
    assert resp.status_code == 403
    resp = cloud.patch(url, json=[{"remove": "/os_distro"}], headers=v20)
    assert resp.status_code == 200 and "os_distro" not in resp.json()
    resp = cloud.patch(url, json=[{"add": "/a", "remove": "/b"}], headers=v20)
    assert resp.status_code == 400
