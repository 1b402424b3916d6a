"""Every list's fields/filters/sorting/pagination, tags, quotas and IP availability."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.api.network.conftest import Caller, error_type


def _names(resp: object) -> list[str]:
    return [n["name"] for n in resp.json()["networks"]]  # type: ignore[attr-defined]


def test_fields_and_filters(demo: Caller) -> None:
    demo.create("networks", "network", name="alpha", admin_state_up=False)
    demo.create("networks", "network", name="beta")
    demo.create("networks", "network", name="gamma")
    resp = demo.get("/networks?fields=id&fields=name&name=alpha")
    assert resp.status_code == 200
    (only,) = resp.json()["networks"]
    assert set(only) == {"id", "name"}
    assert sorted(_names(demo.get("/networks?name=alpha&name=gamma"))) == ["alpha", "gamma"]
    assert _names(demo.get("/networks?admin_state_up=false")) == ["alpha"]
    assert demo.get("/networks?mtu=1450").json()["networks"]
    resp = demo.get("/networks?no_such_attribute=1")
    assert resp.status_code == 400 and error_type(resp) == "HTTPBadRequest"


def test_sorting(demo: Caller) -> None:
    for name in ("s-b", "s-c", "s-a"):
        demo.create("networks", "network", name=name)
    asc = _names(demo.get("/networks?sort_key=name&sort_dir=asc"))
    assert [n for n in asc if n.startswith("s-")] == ["s-a", "s-b", "s-c"]
    desc = _names(demo.get("/networks?sort_key=name&sort_dir=desc"))
    assert [n for n in desc if n.startswith("s-")] == ["s-c", "s-b", "s-a"]
    resp = demo.get("/networks?sort_key=name&sort_dir=sideways")
    assert resp.status_code == 400
    resp = demo.get("/networks?sort_key=bogus")
    assert resp.status_code == 400


def test_pagination(demo: Caller) -> None:
    for i in range(5):
        demo.create("networks", "network", name=f"page-{i}")
    first = demo.get(
        "/networks?limit=2&sort_key=name&name=page-0&name=page-1&name=page-2"
        "&name=page-3&name=page-4"
    ).json()
    assert [n["name"] for n in first["networks"]] == ["page-0", "page-1"]
    (link,) = [lk for lk in first["networks_links"] if lk["rel"] == "next"]
    query = urlsplit(link["href"]).query
    second = demo.get(f"/networks?{query}").json()
    assert [n["name"] for n in second["networks"]] == ["page-2", "page-3"]
    rels = {lk["rel"] for lk in second["networks_links"]}
    assert rels == {"next", "previous"}
    prev = next(lk for lk in second["networks_links"] if lk["rel"] == "previous")
    back = demo.get(f"/networks?{urlsplit(prev['href']).query}").json()
    assert [n["name"] for n in back["networks"]] == ["page-0", "page-1"]
    resp = demo.get("/networks?limit=-1")
    assert resp.status_code == 400
    resp = demo.get("/networks?marker=00000000-0000-0000-0000-000000000000")
    assert resp.status_code == 404 and error_type(resp) == "NetworkNotFound"


def test_tags(demo: Caller, alt: Caller) -> None:
    net = demo.create("networks", "network", name="tagged")
    other = demo.create("networks", "network", name="plain")
    base = f"/networks/{net['id']}/tags"
    resp = demo.put(base, {"tags": ["red", "blue"]})
    assert resp.status_code == 200 and resp.json()["tags"] == ["blue", "red"]
    assert demo.put(base + "/green").status_code == 201
    assert demo.get(base + "/green").status_code == 204
    resp = demo.get(base + "/purple")
    assert resp.status_code == 404 and error_type(resp) == "TagNotFound"
    assert sorted(demo.get(base).json()["tags"]) == ["blue", "green", "red"]
    assert demo.get(f"/networks/{net['id']}").json()["network"]["revision_number"] >= 2
    ids = {n["id"] for n in demo.get("/networks?tags=red,blue").json()["networks"]}
    assert net["id"] in ids and other["id"] not in ids
    ids = {n["id"] for n in demo.get("/networks?tags-any=red,yellow").json()["networks"]}
    assert net["id"] in ids
    ids = {n["id"] for n in demo.get("/networks?not-tags=red").json()["networks"]}
    assert net["id"] not in ids and other["id"] in ids
    ids = {n["id"] for n in demo.get("/networks?not-tags-any=yellow,green").json()["networks"]}
    assert net["id"] not in ids and other["id"] in ids
    assert demo.delete(base + "/green").status_code == 204
    assert demo.delete(base).status_code == 204
    assert demo.get(base).json()["tags"] == []
    assert alt.get(base).status_code == 404
    assert demo.put(base, {"tags": ["a,b"]}).status_code == 400


def test_quota_api(admin: Caller, demo: Caller) -> None:
    project = demo.create("networks", "network")["project_id"]
    quota = demo.get(f"/quotas/{project}")
    # Reading one's own quota needs the manager role in Neutron's defaults.
    assert quota.status_code == 403
    shown = admin.get(f"/quotas/{project}").json()["quota"]
    assert shown["network"] == 100 and shown["port"] == 500 and shown["router"] == 10
    assert shown["floatingip"] == 50 and shown["security_group_rule"] == 100
    details = admin.get(f"/quotas/{project}/details").json()["quota"]
    assert details["network"] == {"limit": 100, "used": 1, "reserved": 0}
    resp = demo.put(f"/quotas/{project}", {"quota": {"network": 5}})
    assert resp.status_code == 403
    resp = admin.put(f"/quotas/{project}", {"quota": {"network": -2}})
    assert resp.status_code == 400
    resp = admin.put(f"/quotas/{project}", {"quota": {"bogus": 2}})
    assert resp.status_code == 400
    admin.put(f"/quotas/{project}", {"quota": {"port": 7}})
    listed = admin.get("/quotas").json()["quotas"]
    assert any(q["project_id"] == project and q["port"] == 7 for q in listed)
    assert admin.delete(f"/quotas/{project}").status_code == 204
    assert admin.get(f"/quotas/{project}").json()["quota"]["port"] == 500
    assert admin.get(f"/quotas/{project}/default").json()["quota"]["port"] == 500


def test_port_quota(admin: Caller, demo: Caller) -> None:
    net = demo.create("networks", "network")
    admin.put(f"/quotas/{net['project_id']}", {"quota": {"port": 1}})
    demo.create("ports", "port", network_id=net["id"])
    resp = demo.post("/ports", {"port": {"network_id": net["id"]}})
    assert resp.status_code == 409 and error_type(resp) == "OverQuota"


def test_ip_availability(admin: Caller, demo: Caller) -> None:
    net = demo.create("networks", "network", name="avail")
    sub = demo.create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.77.0.0/28")
    demo.create("ports", "port", network_id=net["id"])
    resp = admin.get(f"/network-ip-availabilities/{net['id']}")
    assert resp.status_code == 200
    avail = resp.json()["network_ip_availability"]
    assert avail["total_ips"] == 13 and avail["used_ips"] == 1
    assert avail["subnet_ip_availability"][0]["subnet_id"] == sub["id"]
    listed = admin.get(f"/network-ip-availabilities?network_id={net['id']}").json()
    assert len(listed["network_ip_availabilities"]) == 1
    assert demo.get(f"/network-ip-availabilities/{net['id']}").status_code == 403
