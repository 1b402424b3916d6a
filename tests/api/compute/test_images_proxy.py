"""/images: Nova's image proxy (to microversion 2.35), over a fake image API."""

from __future__ import annotations

from typing import Any

from kumo.common.context import RequestContext
from kumo.common.errors import NotFound
from tests.api.compute._servers import ServersCloud

SNAP = "7a1c0e5e-1111-4a4a-8a8a-000000000001"
SERVER = "0b7e1a0c-2222-4b4b-9b9b-000000000002"


class FakeProxy:
    """Glance, reduced to a dict of images."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {
            SNAP: {
                "id": SNAP,
                "name": "snap",
                "status": "queued",
                "min_ram": 64,
                "min_disk": 1,
                "size": None,
                "created_at": "2026-11-29T19:00:00Z",
                "updated_at": "2026-11-29T19:00:01Z",
                "visibility": "private",
                "instance_uuid": SERVER,
                "image_type": "snapshot",
                "os_distro": "cirros",
            }
        }

    async def get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise NotFound(f"No image found with ID {image_id}")
        return self.images[image_id]

    async def list_images(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = list(self.images.values())
        for key in ("name", "status", "instance_uuid", "image_type"):
            if key in params:
                found = [i for i in found if i.get(key) == params[key]]
        return found

    async def delete(self, ctx: RequestContext, image_id: str) -> None:
        if self.images.pop(image_id, None) is None:
            raise NotFound("gone")

    async def set_properties(
        self, ctx: RequestContext, image_id: str, props: dict[str, str], remove: list[str]
    ) -> dict[str, Any]:
        image = self.images[image_id]
        image.update(props)
        for key in remove:
            image.pop(key, None)
        return image


def _proxy(c: ServersCloud) -> FakeProxy:
    proxy = FakeProxy()
    c.app_state.image_proxy = proxy
    return proxy


def test_show_and_list_in_novas_shape(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    _proxy(c)
    image = c.demo.get(f"/images/{SNAP}").json()["image"]
    assert image["status"] == "SAVING" and image["progress"] == 25
    assert (image["minRam"], image["minDisk"]) == (64, 1)
    assert image["metadata"] == {
        "instance_uuid": SERVER,
        "image_type": "snapshot",
        "os_distro": "cirros",
    }
    assert image["server"]["id"] == SERVER
    assert image["created"] == "2026-11-29T19:00:00Z"
    assert {link["rel"] for link in image["links"]} == {"self", "bookmark", "alternate"}
    listed = c.demo.get("/images").json()["images"]
    assert [set(i) for i in listed] == [{"id", "name", "links"}]
    assert c.demo.get("/images/detail", params={"server": SERVER}).json()["images"][0]["id"] == SNAP
    assert c.demo.get("/images/detail", params={"minRam": 128}).json()["images"] == []
    missing = c.demo.get("/images/00000000-0000-0000-0000-000000000000")
    assert (
        missing.status_code == 404
        and missing.json()["itemNotFound"]["message"] == "Image not found."
    )
    # removed at 2.36 (tempest pins its image tests to 2.35 and lower)
    assert c.demo.get(f"/images/{SNAP}", "2.36").status_code == 404
    assert c.demo.get(f"/images/{SNAP}", "2.35").status_code == 200


def test_metadata_and_delete(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    proxy = _proxy(c)
    path = f"/images/{SNAP}/metadata"
    resp = c.demo.post(path, {"metadata": {"a": "1"}})
    assert resp.status_code == 200 and resp.json()["metadata"]["a"] == "1"
    assert c.demo.get(f"{path}/a").json() == {"meta": {"a": "1"}}
    assert c.demo.put(f"{path}/b", {"meta": {"b": "2"}}).json() == {"meta": {"b": "2"}}
    assert c.demo.put(f"{path}/b", {"meta": {"c": "2"}}).status_code == 400
    assert c.demo.delete(f"{path}/a").status_code == 204
    assert c.demo.get(f"{path}/a").status_code == 404
    replaced = c.demo.put(path, {"metadata": {"only": "this"}}).json()["metadata"]
    assert replaced == {"only": "this"}
    assert c.demo.post(path, {"metadata": {"k": "v" * 256}}).status_code == 400
    assert c.demo.delete(f"/images/{SNAP}").status_code == 204
    assert SNAP not in proxy.images
    assert c.demo.delete(f"/images/{SNAP}").status_code == 404
    assert c.demo.delete("/images/").status_code == 404  # tempest test_delete_image_blank_id
