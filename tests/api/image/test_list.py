"""GET /v2/images: filters, sorting, pagination links, what each project lists."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.api.image.conftest import Images
from tests.conftest import unique


def test_list_shape_and_first_link(demo: Images) -> None:
    demo.create()
    body = demo.list()
    assert body["first"] == "/v2/images"
    assert body["schema"] == "/v2/schemas/images"
    assert "next" not in body
    body = demo.list(name="nothing-like-this")
    assert body["images"] == []
    assert body["first"] == "/v2/images?name=nothing-like-this"


def test_filters(demo: Images) -> None:
    tag = unique("tag")
    a = demo.create(
        name=unique("a"),
        disk_format="qcow2",
        container_format="bare",
        tags=[tag, "x"],
        os_distro="cirros",
    )
    b = demo.create(name=unique("b"), disk_format="raw", container_format="bare", tags=[tag])
    c = demo.create(name=unique("c"), visibility="private", protected=True)
    demo.upload(b["id"], b"x" * 100)
    assert demo.ids(name=a["name"]) == {a["id"]}
    assert demo.ids(name=f"in:{a['name']},{b['name']}") == {a["id"], b["id"]}
    assert demo.ids(tag=tag) == {a["id"], b["id"]}
    assert demo.ids(tag=[tag, "x"]) == {a["id"]}
    assert demo.ids(disk_format="qcow2", tag=tag) == {a["id"]}
    assert demo.ids(container_format="bare", tag=tag) == {a["id"], b["id"]}
    assert demo.ids(status="active", tag=tag) == {b["id"]}
    assert demo.ids(size_min=100, size_max=100) == {b["id"]}
    assert b["id"] not in demo.ids(size_min=101)
    assert demo.ids(os_distro="cirros", tag=tag) == {a["id"]}
    assert demo.ids(visibility="private") >= {c["id"]}
    assert a["id"] not in demo.ids(visibility="private")
    assert c["id"] in demo.ids(protected="true")
    assert a["id"] not in demo.ids(protected="true")


def test_filter_errors(demo: Images) -> None:
    assert "unknown operator" in demo.list(expect=400, name="foo:bar")["message"]
    assert "non-numeric" in demo.list(expect=400, size_min="big")["message"]
    assert "Invalid visibility" in demo.list(expect=400, visibility="nope")["message"]
    assert "Invalid status" in demo.list(expect=400, member_status="maybe")["message"]
    assert "ISO 8601" in demo.list(expect=400, created_at="gte:yesterday")["message"]
    assert "limit param must be an integer" in demo.list(expect=400, limit="x")["message"]
    assert "positive" in demo.list(expect=400, limit=-1)["message"]
    assert "Invalid sort key" in demo.list(expect=400, sort_key="owner")["message"]
    assert "Invalid sort direction" in demo.list(expect=400, sort_dir="up")["message"]
    assert "cannot be combined" in demo.list(expect=400, sort="name", sort_key="name")["message"]
    assert "no longer available" in demo.list(expect=400, **{"changes-since": "x"})["message"]
    assert "No image found" in demo.list(expect=400, marker="nope")["message"]
    assert "os_hidden" in demo.list(expect=400, os_hidden="maybe")["message"]


def test_time_filters(demo: Images) -> None:
    before = demo.create()
    time.sleep(1.1)
    after = demo.create()
    cut = after["created_at"]
    ids = demo.ids(created_at=f"gte:{cut}")
    assert after["id"] in ids and before["id"] not in ids
    ids = demo.ids(created_at=f"lt:{cut}")
    assert before["id"] in ids and after["id"] not in ids
    assert after["id"] in demo.ids(updated_at=f"gte:{before['updated_at']}")


def test_sorting_and_pagination(demo: Images) -> None:
    tag = unique("page")
    names = ["b", "a", "d", "c", "e"]
    made = {n: demo.create(name=f"{tag}-{n}", tags=[tag]) for n in names}
    body = demo.list(tag=tag, sort_key="name", sort_dir="asc")
    assert [i["name"] for i in body["images"]] == [f"{tag}-{n}" for n in "abcde"]
    body = demo.list(tag=tag, sort="name:desc")
    assert [i["name"] for i in body["images"]] == [f"{tag}-{n}" for n in "edcba"]
    seen: list[str] = []
    page = demo.list(tag=tag, sort="name:asc", limit=2)
    while True:
        seen += [i["name"] for i in page["images"]]
        if "next" not in page:
            break
        assert page["next"].startswith("/v2/images?")
        resp = demo.cloud.get("/image" + page["next"], headers=demo.headers())
        assert resp.status_code == 200
        page = resp.json()
    assert seen == [f"{tag}-{n}" for n in "abcde"]
    marker = made["c"]["id"]
    body = demo.list(tag=tag, sort="name:asc", marker=marker)
    assert [i["name"] for i in body["images"]] == [f"{tag}-d", f"{tag}-e"]
    # Default order: newest first.
    body = demo.list(tag=tag)
    assert body["images"][0]["id"] == made["e"]["id"]


def test_hidden_images_are_listed_only_on_request(demo: Images) -> None:
    image = demo.create(os_hidden=True)
    assert image["id"] not in demo.ids()
    assert image["id"] in demo.ids(os_hidden="true")
    assert demo.get(image["id"])["os_hidden"] is True


def test_projects_list_only_what_they_may_see(
    cloud: TestClient, admin: Images, demo: Images, alt: Images
) -> None:
    mine = demo.create(visibility="private")
    shared = demo.create(visibility="shared")
    public = admin.create(visibility="public")
    theirs = alt.create(visibility="private")
    ids = demo.ids()
    assert {mine["id"], shared["id"], public["id"]} <= ids
    assert theirs["id"] not in ids
    alt_ids = alt.ids()
    assert mine["id"] not in alt_ids and shared["id"] not in alt_ids
    assert public["id"] in alt_ids and theirs["id"] in alt_ids
    # An admin lists every project's images.
    assert {mine["id"], theirs["id"]} <= admin.ids()
