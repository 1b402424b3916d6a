"""/v2/metadefs: namespaces and their objects, properties, tags and resource types."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.image.conftest import Images
from tests.conftest import unique

NSS = "/image/v2/metadefs/namespaces"


def _call(images: Images, method: str, path: str, expect: int, **kw: Any) -> Any:
    resp = images.cloud.request(method, path, headers=images.headers(), **kw)
    assert resp.status_code == expect, resp.text
    return resp.json() if resp.content else None


def _namespace(images: Images, **body: Any) -> dict[str, Any]:
    body.setdefault("namespace", unique("ns"))
    result: dict[str, Any] = _call(images, "POST", NSS, 201, json=body)
    return result


def test_namespace_lifecycle_and_protection(admin: Images) -> None:
    rt = _call(admin, "GET", "/image/v2/metadefs/resource_types", 200)["resource_types"][0]
    name = unique("ns")
    made = _namespace(
        admin,
        namespace=name,
        visibility="public",
        description="Tempest",
        display_name=name,
        resource_type_associations=[{"name": rt["name"]}],
        protected=True,
    )
    assert made["namespace"] == name
    assert made["self"] == f"/v2/metadefs/namespaces/{name}"
    assert made["schema"] == "/v2/schemas/metadefs/namespace"
    assert made["resource_type_associations"][0]["name"] == rt["name"]
    listed = _call(admin, "GET", NSS, 200)["namespaces"]
    assert name in [n["namespace"] for n in listed]
    shown = _call(admin, "GET", f"{NSS}/{name}", 200)
    assert (shown["visibility"], shown["protected"]) == ("public", True)
    # Protected: cannot be deleted until unprotected.
    _call(admin, "DELETE", f"{NSS}/{name}", 403)
    body = {"namespace": name, "visibility": "private", "protected": False, "description": "T"}
    updated = _call(admin, "PUT", f"{NSS}/{name}", 200, json=body)
    assert (updated["visibility"], updated["protected"]) == ("private", False)
    _call(admin, "DELETE", f"{NSS}/{name}", 204)
    _call(admin, "GET", f"{NSS}/{name}", 404)


def test_duplicate_namespace_and_bad_bodies(admin: Images) -> None:
    made = _namespace(admin)
    _call(admin, "POST", NSS, 409, json={"namespace": made["namespace"]})
    _call(admin, "POST", NSS, 400, json={"namespace": unique("ns"), "visibility": "shared"})
    _call(admin, "POST", NSS, 400, json={"namespace": unique("ns"), "bogus": 1})
    _call(admin, "POST", NSS, 400, json={"display_name": "no name"})


def test_changes_are_admin_only_and_private_namespaces_hidden(admin: Images, demo: Images) -> None:
    _call(demo, "POST", NSS, 403, json={"namespace": unique("ns")})
    public = _namespace(admin, visibility="public")
    private = _namespace(admin, visibility="private")
    _call(demo, "GET", f"{NSS}/{public['namespace']}", 200)
    _call(demo, "GET", f"{NSS}/{private['namespace']}", 404)
    names = [n["namespace"] for n in _call(demo, "GET", NSS, 200)["namespaces"]]
    assert public["namespace"] in names and private["namespace"] not in names
    _call(demo, "DELETE", f"{NSS}/{public['namespace']}", 403)
    _call(demo, "POST", f"{NSS}/{public['namespace']}/objects", 403, json={"name": "o"})


def test_objects_crud(admin: Images) -> None:
    ns = _namespace(admin)["namespace"]
    base = f"{NSS}/{ns}/objects"
    obj = _call(admin, "POST", base, 201, json={"name": "obj1", "description": "d"})
    assert obj["name"] == "obj1" and obj["self"].endswith(f"/{ns}/objects/obj1")
    _call(admin, "POST", base, 409, json={"name": "obj1"})
    assert _call(admin, "GET", f"{base}/obj1", 200)["description"] == "d"
    renamed = _call(admin, "PUT", f"{base}/obj1", 200, json={"name": "obj2"})
    assert renamed["name"] == "obj2"
    _call(admin, "GET", f"{base}/obj1", 404)
    assert [o["name"] for o in _call(admin, "GET", base, 200)["objects"]] == ["obj2"]
    _call(admin, "DELETE", f"{base}/obj2", 204)
    assert _call(admin, "GET", base, 200)["objects"] == []


def test_properties_crud(admin: Images) -> None:
    ns = _namespace(admin)["namespace"]
    base = f"{NSS}/{ns}/properties"
    enum = ["kvm", "qemu"]
    prop = {"name": "OS::Glance::Image", "title": "t1", "type": "string", "enum": enum}
    made = _call(admin, "POST", base, 201, json=prop)
    assert (made["name"], made["title"], made["enum"]) == ("OS::Glance::Image", "t1", enum)
    _call(admin, "POST", base, 400, json={"name": "p", "title": "t", "type": "blob"})
    _call(admin, "POST", base, 400, json={"name": "p", "type": "string"})
    assert _call(admin, "GET", f"{base}/OS::Glance::Image", 200)["name"] == "OS::Glance::Image"
    updated = _call(admin, "PUT", f"{base}/OS::Glance::Image", 200, json={**prop, "title": "t2"})
    assert updated["title"] == "t2"
    listed = _call(admin, "GET", base, 200)["properties"]
    assert listed["OS::Glance::Image"]["title"] == "t2"
    _call(admin, "DELETE", f"{base}/OS::Glance::Image", 204)
    assert _call(admin, "GET", base, 200)["properties"] == {}


def test_tags_crud(admin: Images) -> None:
    ns = _namespace(admin)["namespace"]
    base = f"{NSS}/{ns}/tags"
    tags = [{"name": "t1"}, {"name": "t2"}, {"name": "t3"}]
    assert _call(admin, "POST", base, 201, json={"tags": tags}) == {"tags": tags}
    assert len(_call(admin, "GET", base, 200)["tags"]) == 3
    _call(admin, "POST", base, 409, json={"tags": [{"name": "x"}, {"name": "x"}]})
    one = _call(admin, "POST", f"{base}/extra", 201)
    assert one["name"] == "extra" and "created_at" in one
    _call(admin, "POST", f"{base}/extra", 409)
    assert _call(admin, "PUT", f"{base}/extra", 200, json={"name": "renamed"})["name"] == "renamed"
    _call(admin, "GET", f"{base}/extra", 404)
    _call(admin, "DELETE", f"{base}/renamed", 204)
    _call(admin, "DELETE", base, 204)
    assert _call(admin, "GET", base, 200)["tags"] == []


def test_resource_type_associations(admin: Images) -> None:
    ns = _namespace(admin)["namespace"]
    base = f"{NSS}/{ns}/resource_types"
    made = _call(admin, "POST", base, 201, json={"name": "OS::Nova::Flavor", "prefix": "hw:"})
    assert (made["name"], made["prefix"]) == ("OS::Nova::Flavor", "hw:")
    _call(admin, "POST", base, 409, json={"name": "OS::Nova::Flavor"})
    listed = _call(admin, "GET", base, 200)["resource_type_associations"]
    assert [a["name"] for a in listed] == ["OS::Nova::Flavor"]
    filtered = _call(admin, "GET", NSS, 200, params={"resource_types": "OS::Nova::Flavor"})
    assert ns in [n["namespace"] for n in filtered["namespaces"]]
    _call(admin, "DELETE", f"{base}/OS::Nova::Flavor", 204)
    assert _call(admin, "GET", base, 200)["resource_type_associations"] == []
    # A resource type Glance does not know yet is created by associating it.
    _call(admin, "POST", base, 201, json={"name": "Kumo::Test::Thing"})
    names = [
        r["name"]
        for r in _call(admin, "GET", "/image/v2/metadefs/resource_types", 200)["resource_types"]
    ]
    assert "Kumo::Test::Thing" in names and "OS::Glance::Image" in names


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("namespace", "namespace"),
        ("namespaces", "namespaces"),
        ("resource_type", "resource_type_association"),
        ("resource_types", "resource_type_associations"),
        ("object", "object"),
        ("objects", "objects"),
        ("property", "property"),
        ("properties", "properties"),
        ("tag", "tag"),
        ("tags", "tags"),
    ],
)
def test_metadef_schemas(cloud: TestClient, demo: Images, path: str, name: str) -> None:
    body = _call(demo, "GET", f"/image/v2/schemas/metadefs/{path}", 200)
    assert body["name"] == name
    assert "properties" in body


def test_namespace_list_pages_newest_first(admin: Images) -> None:
    tag = unique("rt")
    made = [
        _namespace(admin, resource_type_associations=[{"name": tag}])["namespace"] for _ in range(3)
    ]
    params = {"resource_types": tag, "limit": 2}
    first = _call(admin, "GET", NSS, 200, params=params)
    assert [n["namespace"] for n in first["namespaces"]] == made[::-1][:2]
    assert "marker=" in first["next"]
    marker = first["namespaces"][-1]["namespace"]
    rest = _call(admin, "GET", NSS, 200, params={**params, "marker": marker})
    assert [n["namespace"] for n in rest["namespaces"]] == [made[0]]
    assert "next" not in rest
    asc = _call(admin, "GET", NSS, 200, params={"resource_types": tag, "sort_dir": "asc"})
    assert [n["namespace"] for n in asc["namespaces"]] == made
    _call(admin, "GET", NSS, 400, params={"sort_dir": "up"})
    _call(admin, "GET", NSS, 400, params={"limit": "x"})
    _call(admin, "GET", NSS, 404, params={"marker": unique("missing")})


def test_create_namespace_gives_its_location(admin: Images) -> None:
    name = unique("ns")
    resp = admin.cloud.post(NSS, json={"namespace": name}, headers=admin.headers())
    assert resp.status_code == 201
    assert resp.headers["Location"] == f"/v2/metadefs/namespaces/{name}"
