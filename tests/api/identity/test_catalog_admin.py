"""Regions, services and endpoints (/v3/regions, /v3/services, /v3/endpoints)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kumo.identity.service.core import new_id
from tests.conftest import ADMIN_PASSWORD, issue, unique

V3 = "/identity/v3"
BASE = "http://127.0.0.1:8780/identity/v3"


def create(admin: TestClient, kind: str, **fields: Any) -> dict[str, Any]:
    """POST /v3/{kind}s (asserting 201) and return the new resource."""
    resp = admin.post(f"{V3}/{kind}s", json={kind: fields})
    assert resp.status_code == 201, resp.text
    resource: dict[str, Any] = resp.json()[kind]
    return resource


def service(admin: TestClient, **fields: Any) -> dict[str, Any]:
    fields.setdefault("type", unique("type"))
    return create(admin, "service", **fields)


def endpoint(admin: TestClient, service_id: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("interface", "public")
    fields.setdefault("url", f"http://{unique('host')}.example:8080/v1")
    return create(admin, "endpoint", service_id=service_id, **fields)


def catalog_of(admin: TestClient, token: str) -> list[dict[str, Any]]:
    resp = admin.get(f"{V3}/auth/tokens", headers={"X-Subject-Token": token})
    assert resp.status_code == 200, resp.text
    entries: list[dict[str, Any]] = resp.json()["token"]["catalog"]
    return entries


# -- regions -------------------------------------------------------------------


def test_region_lifecycle(admin: TestClient) -> None:
    parent = create(admin, "region", description="top")
    assert len(parent["id"]) == 32
    assert parent == {
        "id": parent["id"],
        "description": "top",
        "parent_region_id": None,
        "links": {"self": f"{BASE}/regions/{parent['id']}"},
    }
    child = create(admin, "region", description="below", parent_region_id=parent["id"])
    assert child["parent_region_id"] == parent["id"]
    assert admin.get(f"{V3}/regions/{child['id']}").json()["region"] == child

    listed = admin.get(f"{V3}/regions").json()["regions"]
    assert parent in listed and child in listed
    assert "RegionOne" in [r["id"] for r in listed]
    children = admin.get(f"{V3}/regions", params={"parent_region_id": parent["id"]}).json()
    assert children["regions"] == [child]

    other = create(admin, "region")
    assert other["description"] == ""
    resp = admin.patch(
        f"{V3}/regions/{child['id']}",
        json={"region": {"description": "moved", "parent_region_id": other["id"]}},
    )
    assert resp.status_code == 200
    assert resp.json()["region"]["parent_region_id"] == other["id"]
    assert resp.json()["region"]["description"] == "moved"
    assert admin.get(f"{V3}/regions/{child['id']}").json()["region"] == resp.json()["region"]

    assert admin.delete(f"{V3}/regions/{child['id']}").status_code == 204
    assert admin.get(f"{V3}/regions/{child['id']}").status_code == 404
    assert admin.delete(f"{V3}/regions/{child['id']}").status_code == 404


def test_region_with_chosen_id(admin: TestClient) -> None:
    region_id = unique("Region")
    resp = admin.put(f"{V3}/regions/{region_id}", json={"region": {"description": "mine"}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["region"]["id"] == region_id
    # The same id again is a conflict, whichever way it is asked for.
    assert admin.put(f"{V3}/regions/{region_id}", json={"region": {}}).status_code == 409
    assert admin.post(f"{V3}/regions", json={"region": {"id": region_id}}).status_code == 409
    # An id in the body must agree with the URL.
    mismatch = admin.put(f"{V3}/regions/{unique('r')}", json={"region": {"id": "other"}})
    assert mismatch.status_code == 400
    by_post = create(admin, "region", id=unique("posted"))
    assert admin.get(f"{V3}/regions/{by_post['id']}").status_code == 200


def test_region_parent_must_exist_and_not_make_a_cycle(admin: TestClient) -> None:
    missing = admin.post(f"{V3}/regions", json={"region": {"parent_region_id": new_id()}})
    assert missing.status_code == 404
    a = create(admin, "region")
    b = create(admin, "region", parent_region_id=a["id"])
    c = create(admin, "region", parent_region_id=b["id"])
    for parent in (c["id"], a["id"]):
        resp = admin.patch(f"{V3}/regions/{a['id']}", json={"region": {"parent_region_id": parent}})
        assert resp.status_code == 400, resp.text
    resp = admin.patch(f"{V3}/regions/{a['id']}", json={"region": {"parent_region_id": new_id()}})
    assert resp.status_code == 404
    # Moving to the top is allowed.
    resp = admin.patch(f"{V3}/regions/{c['id']}", json={"region": {"parent_region_id": None}})
    assert resp.json()["region"]["parent_region_id"] is None


def test_deleting_a_region_deletes_its_children_unless_endpoints_use_them(
    admin: TestClient,
) -> None:
    top = create(admin, "region")
    middle = create(admin, "region", parent_region_id=top["id"])
    leaf = create(admin, "region", parent_region_id=middle["id"])
    ep = endpoint(admin, service(admin)["id"], region_id=leaf["id"])
    resp = admin.delete(f"{V3}/regions/{top['id']}")
    assert resp.status_code == 403
    assert "endpoints" in resp.json()["error"]["message"]
    assert admin.delete(f"{V3}/endpoints/{ep['id']}").status_code == 204
    assert admin.delete(f"{V3}/regions/{top['id']}").status_code == 204
    for region in (top, middle, leaf):
        assert admin.get(f"{V3}/regions/{region['id']}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"region": {"description": "d" * 256}},
        {"region": {"description": 5}},
        {"region": {"parent_region_id": ""}},
        {"region": {"id": "x" * 256}},
        {"region": []},
    ],
)
def test_region_bad_input(admin: TestClient, body: dict[str, Any]) -> None:
    assert admin.post(f"{V3}/regions", json=body).status_code == 400


def test_region_update_needs_a_change(admin: TestClient) -> None:
    region = create(admin, "region")
    url = f"{V3}/regions/{region['id']}"
    assert admin.patch(url, json={"region": {}}).status_code == 400
    assert admin.patch(url, json={"region": {"id": "other"}}).status_code == 400
    assert (
        admin.patch(f"{V3}/regions/{new_id()}", json={"region": {"description": "x"}}).status_code
        == 404
    )


# -- services ------------------------------------------------------------------


def test_service_lifecycle(admin: TestClient) -> None:
    stype, name = unique("type"), unique("svc")
    svc = service(admin, type=stype, name=name, description="Does things", colour="red")
    assert svc == {
        "id": svc["id"],
        "type": stype,
        "name": name,
        "description": "Does things",
        "enabled": True,
        "colour": "red",
        "links": {"self": f"{BASE}/services/{svc['id']}"},
    }
    assert admin.get(f"{V3}/services/{svc['id']}").json()["service"] == svc
    assert svc in admin.get(f"{V3}/services").json()["services"]
    assert admin.get(f"{V3}/services", params={"type": stype}).json()["services"] == [svc]
    assert admin.get(f"{V3}/services", params={"name": name}).json()["services"] == [svc]
    assert admin.get(f"{V3}/services", params={"name": unique("none")}).json()["services"] == []

    resp = admin.patch(
        f"{V3}/services/{svc['id']}",
        json={"service": {"description": "Does more", "enabled": False}},
    )
    assert resp.status_code == 200
    updated = resp.json()["service"]
    assert updated["description"] == "Does more" and updated["enabled"] is False
    assert updated["name"] == name and updated["colour"] == "red"
    assert admin.get(f"{V3}/services/{svc['id']}").json()["service"] == updated

    assert admin.delete(f"{V3}/services/{svc['id']}").status_code == 204
    assert admin.get(f"{V3}/services/{svc['id']}").status_code == 404
    assert admin.delete(f"{V3}/services/{svc['id']}").status_code == 404


def test_service_without_name_or_description(admin: TestClient) -> None:
    svc = service(admin)
    assert svc["name"] == "" and svc["description"] == "" and svc["enabled"] is True


def test_identity_service_is_listed(admin: TestClient) -> None:
    found = admin.get(f"{V3}/services", params={"type": "identity"}).json()["services"]
    assert [s["name"] for s in found] == ["keystone"]


@pytest.mark.parametrize(
    "body",
    [
        {"service": {}},
        {"service": {"name": "no type"}},
        {"service": {"type": ""}},
        {"service": {"type": "t" * 256}},
        {"service": {"type": 3}},
        {"service": {"type": "ok", "name": "n" * 256}},
        {"service": {"type": "ok", "enabled": "true"}},
        {"other": {}},
    ],
)
def test_service_bad_input(admin: TestClient, body: dict[str, Any]) -> None:
    assert admin.post(f"{V3}/services", json=body).status_code == 400


def test_service_update_bad_input(admin: TestClient) -> None:
    svc = service(admin)
    url = f"{V3}/services/{svc['id']}"
    for body in ({}, {"type": None}, {"type": ""}, {"enabled": "no"}, {"id": "other"}):
        assert admin.patch(url, json={"service": body}).status_code == 400, body
    assert admin.get(url).json()["service"] == svc
    assert (
        admin.patch(f"{V3}/services/{new_id()}", json={"service": {"type": "x"}}).status_code == 404
    )


def test_deleting_a_service_deletes_its_endpoints(admin: TestClient) -> None:
    svc = service(admin)
    ep = endpoint(admin, svc["id"])
    assert admin.delete(f"{V3}/services/{svc['id']}").status_code == 204
    assert admin.get(f"{V3}/endpoints/{ep['id']}").status_code == 404


# -- endpoints -----------------------------------------------------------------


def test_endpoint_lifecycle(admin: TestClient) -> None:
    svc = service(admin)
    url = "http://compute.example:8774/v2.1/$(project_id)s"
    ep = endpoint(admin, svc["id"], interface="internal", url=url, region_id="RegionOne")
    assert ep == {
        "id": ep["id"],
        "interface": "internal",
        "region": "RegionOne",
        "region_id": "RegionOne",
        "service_id": svc["id"],
        "url": url,
        "enabled": True,
        "links": {"self": f"{BASE}/endpoints/{ep['id']}"},
    }
    assert admin.get(f"{V3}/endpoints/{ep['id']}").json()["endpoint"] == ep
    assert ep in admin.get(f"{V3}/endpoints").json()["endpoints"]

    other = create(admin, "region")
    resp = admin.patch(
        f"{V3}/endpoints/{ep['id']}",
        json={
            "endpoint": {
                "interface": "admin",
                "url": "https://new.example/",
                "region_id": other["id"],
                "enabled": False,
            }
        },
    )
    assert resp.status_code == 200, resp.text
    updated = resp.json()["endpoint"]
    assert updated["interface"] == "admin" and updated["url"] == "https://new.example/"
    assert updated["region_id"] == updated["region"] == other["id"]
    assert updated["enabled"] is False
    assert admin.get(f"{V3}/endpoints/{ep['id']}").json()["endpoint"] == updated

    assert admin.delete(f"{V3}/endpoints/{ep['id']}").status_code == 204
    assert admin.get(f"{V3}/endpoints/{ep['id']}").status_code == 404
    assert admin.delete(f"{V3}/endpoints/{ep['id']}").status_code == 404


def test_endpoint_filters(admin: TestClient) -> None:
    first, second = service(admin), service(admin)
    region = create(admin, "region")
    pub = endpoint(admin, first["id"], interface="public", region_id=region["id"])
    internal = endpoint(admin, first["id"], interface="internal")
    other = endpoint(admin, second["id"], interface="public")

    def ids(**params: str) -> set[str]:
        found = admin.get(f"{V3}/endpoints", params=params).json()["endpoints"]
        return {e["id"] for e in found}

    assert ids(service_id=first["id"]) == {pub["id"], internal["id"]}
    assert ids(service_id=first["id"], interface="internal") == {internal["id"]}
    assert ids(region_id=region["id"]) == {pub["id"]}
    assert {pub["id"], other["id"]} <= ids(interface="public")
    assert internal["id"] not in ids(interface="public")
    assert admin.get(f"{V3}/endpoints", params={"interface": "private"}).status_code == 400


def test_legacy_region_creates_the_region(admin: TestClient) -> None:
    name = unique("legacy-region")
    ep = endpoint(admin, service(admin)["id"], region=name)
    assert ep["region"] == ep["region_id"] == name
    assert admin.get(f"{V3}/regions/{name}").status_code == 200
    # An existing region named the legacy way is reused.
    again = endpoint(admin, service(admin)["id"], region=name)
    assert again["region_id"] == name
    renamed = unique("legacy-region")
    resp = admin.patch(f"{V3}/endpoints/{ep['id']}", json={"endpoint": {"region": renamed}})
    assert resp.json()["endpoint"]["region_id"] == renamed
    assert admin.get(f"{V3}/regions/{renamed}").status_code == 200


def test_endpoint_without_region(admin: TestClient) -> None:
    ep = endpoint(admin, service(admin)["id"])
    assert ep["region_id"] is None and ep["region"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"interface": "private"},
        {"interface": None},
        {"url": None},
        {"url": "not a url"},
        {"url": "http://x/" + "a" * 220},
        {"url": "http://x/$(unknown)s"},
        {"url": "http://x/%(project_id)"},
        {"url": 5},
        {"service_id": new_id()},
        {"service_id": None},
        {"region_id": "no-such-region"},
        {"enabled": "True"},
        {"enabled": "False"},
    ],
)
def test_endpoint_bad_input(admin: TestClient, fields: dict[str, Any]) -> None:
    body = {"interface": "public", "url": "http://ok.example/", "service_id": "set below", **fields}
    if body["service_id"] == "set below":
        body["service_id"] = service(admin)["id"]
    body = {k: v for k, v in body.items() if v is not None}
    resp = admin.post(f"{V3}/endpoints", json={"endpoint": body})
    assert resp.status_code == 400, resp.text


def test_endpoint_update_bad_input(admin: TestClient) -> None:
    ep = endpoint(admin, service(admin)["id"])
    url = f"{V3}/endpoints/{ep['id']}"
    for body in (
        {},
        {"interface": "private"},
        {"url": "nope"},
        {"service_id": new_id()},
        {"region_id": "no-such-region"},
        {"enabled": "True"},
        {"url": None},
        {"id": "other"},
    ):
        assert admin.patch(url, json={"endpoint": body}).status_code == 400, body
    assert admin.get(url).json()["endpoint"] == ep
    assert (
        admin.patch(f"{V3}/endpoints/{new_id()}", json={"endpoint": {"enabled": True}}).status_code
        == 404
    )


# -- policy --------------------------------------------------------------------


def test_non_admin_cannot_change_the_catalog(client: TestClient) -> None:
    admin_headers = {"X-Auth-Token": issue(client)}
    demo = {"X-Auth-Token": issue(client, "demo", ADMIN_PASSWORD, project="demo")}
    svc = client.post(
        f"{V3}/services", json={"service": {"type": unique("t")}}, headers=admin_headers
    ).json()["service"]
    ep = client.post(
        f"{V3}/endpoints",
        json={
            "endpoint": {"service_id": svc["id"], "interface": "public", "url": "http://x.example/"}
        },
        headers=admin_headers,
    ).json()["endpoint"]
    writes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{V3}/services", {"service": {"type": "t"}}),
        ("PATCH", f"{V3}/services/{svc['id']}", {"service": {"name": "n"}}),
        ("DELETE", f"{V3}/services/{svc['id']}", None),
        (
            "POST",
            f"{V3}/endpoints",
            {
                "endpoint": {
                    "service_id": svc["id"],
                    "interface": "public",
                    "url": "http://y.example/",
                }
            },
        ),
        ("PATCH", f"{V3}/endpoints/{ep['id']}", {"endpoint": {"enabled": False}}),
        ("DELETE", f"{V3}/endpoints/{ep['id']}", None),
        ("POST", f"{V3}/regions", {"region": {}}),
        ("PUT", f"{V3}/regions/{unique('r')}", {"region": {}}),
        ("PATCH", f"{V3}/regions/RegionOne", {"region": {"description": "x"}}),
        ("DELETE", f"{V3}/regions/RegionOne", None),
    ]
    for method, url, body in writes:
        resp = client.request(method, url, json=body, headers=demo)
        assert resp.status_code == 403, (method, url, resp.text)
    # Services and endpoints are for admins and system readers only …
    for url in (
        f"{V3}/services",
        f"{V3}/services/{svc['id']}",
        f"{V3}/endpoints",
        f"{V3}/endpoints/{ep['id']}",
    ):
        assert client.get(url, headers=demo).status_code == 403, url
    # … while any authenticated user may read regions.
    assert client.get(f"{V3}/regions", headers=demo).status_code == 200
    assert client.get(f"{V3}/regions/RegionOne", headers=demo).status_code == 200
    assert client.get(f"{V3}/regions").status_code == 401


# -- token catalogs ------------------------------------------------------------


def test_disabled_services_and_endpoints_leave_token_catalogs(
    admin: TestClient, client: TestClient
) -> None:
    svc = service(admin, name=unique("svc"))
    shown = endpoint(admin, svc["id"], interface="public", region_id="RegionOne")
    hidden = endpoint(admin, svc["id"], interface="internal", region_id="RegionOne")
    admin.patch(f"{V3}/endpoints/{hidden['id']}", json={"endpoint": {"enabled": False}})

    entry = [e for e in catalog_of(admin, issue(client)) if e["id"] == svc["id"]]
    assert len(entry) == 1
    assert entry[0]["type"] == svc["type"] and entry[0]["name"] == svc["name"]
    assert [e["id"] for e in entry[0]["endpoints"]] == [shown["id"]]
    assert entry[0]["endpoints"][0]["url"] == shown["url"]

    admin.patch(f"{V3}/services/{svc['id']}", json={"service": {"enabled": False}})
    assert svc["id"] not in [e["id"] for e in catalog_of(admin, issue(client))]
    admin.patch(f"{V3}/services/{svc['id']}", json={"service": {"enabled": True}})
    assert svc["id"] in [e["id"] for e in catalog_of(admin, issue(client))]
