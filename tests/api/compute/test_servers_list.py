"""GET /servers and /servers/detail: filters, sorting, pagination, all_tenants."""

from __future__ import annotations

from tests.api.compute._servers import CIRROS, ServersCloud


def _ids(resp: object) -> list[str]:
    return [s["id"] for s in resp.json()["servers"]]  # type: ignore[attr-defined]


def test_list_shows_only_own_project_and_detail_has_fields(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    mine = c.demo.boot(name="alpha")["id"]
    theirs = c.alt.boot(name="beta")["id"]
    listed = c.demo.get("/servers").json()["servers"]
    assert [s["id"] for s in listed] == [mine]
    assert set(listed[0]) == {"id", "name", "links"}
    detail = c.demo.get("/servers/detail").json()["servers"]
    assert detail[0]["status"] == "ACTIVE" and detail[0]["id"] == mine
    assert "server_groups" not in c.demo.get("/servers/detail", "2.71").json()["servers"][0]
    # Admins see every project with all_tenants (policy :get_all_tenants).
    everyone = _ids(c.admin.get("/servers", params={"all_tenants": "1"}))
    assert {mine, theirs} <= set(everyone)
    assert _ids(c.admin.get("/servers")) == []
    assert c.demo.get("/servers", params={"all_tenants": "1"}).status_code == 403
    project = c.demo.get(f"/servers/{mine}").json()["server"]["tenant_id"]
    only = _ids(c.admin.get("/servers", params={"all_tenants": "1", "project_id": project}))
    assert only == [mine]


def test_filters(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    web = c.demo.boot("2.52", name="web-1", tags=["prod", "web"])["id"]
    db = c.demo.boot("2.52", name="db-1", flavorRef="2", tags=["prod"])["id"]
    c.demo.action(db, {"os-stop": None})
    c.demo.wait_status(db, "SHUTOFF")
    assert _ids(c.demo.get("/servers", params={"name": "^web"})) == [web]
    assert _ids(c.demo.get("/servers", params={"status": "SHUTOFF"})) == [db]
    assert _ids(c.demo.get("/servers", params={"status": "active"})) == [web]
    assert c.demo.get("/servers", "2.38", params={"status": "bogus"}).status_code == 400
    assert _ids(c.demo.get("/servers", params={"flavor": "2"})) == [db]
    assert set(_ids(c.demo.get("/servers", params={"image": CIRROS}))) == {web, db}
    assert _ids(c.demo.get("/servers", params={"ip": "10.0.0.1"})) != []
    assert _ids(c.demo.get("/servers", "2.26", params={"tags": "prod,web"})) == [web]
    assert set(_ids(c.demo.get("/servers", "2.26", params={"tags-any": "web,x"}))) == {web}
    assert _ids(c.demo.get("/servers", "2.26", params={"not-tags": "web"})) == [db]
    assert _ids(c.demo.get("/servers", "2.26", params={"not-tags-any": "prod"})) == []
    assert c.demo.get("/servers", params={"name": "("}).status_code == 400
    # Admin-only filters are ignored for others.
    assert set(_ids(c.demo.get("/servers", params={"host": "elsewhere"}))) == {web, db}
    assert _ids(c.admin.get("/servers", params={"host": "elsewhere", "all_tenants": "1"})) == []


def test_changes_since_includes_deleted_and_deleted_is_admin_only(
    servers_cloud: ServersCloud,
) -> None:
    c = servers_cloud
    gone = c.demo.boot()["id"]
    c.demo.delete(f"/servers/{gone}")
    assert gone not in _ids(c.demo.get("/servers"))
    since = c.demo.get("/servers/detail", params={"changes-since": "2000-01-01T00:00:00Z"})
    found = {s["id"]: s["status"] for s in since.json()["servers"]}
    assert found[gone] == "DELETED"
    assert c.demo.get("/servers", params={"changes-since": "yesterday"}).status_code == 400
    before = c.demo.get("/servers", "2.66", params={"changes-before": "2000-01-01T00:00:00Z"})
    assert _ids(before) == []
    bad = c.demo.get(
        "/servers",
        "2.66",
        params={"changes-since": "2020-01-02T00:00:00Z", "changes-before": "2020-01-01T00:00:00Z"},
    )
    assert bad.status_code == 400
    assert c.demo.get("/servers", params={"status": "DELETED"}).status_code == 403
    deleted = _ids(c.admin.get("/servers", params={"all_tenants": "1", "deleted": "true"}))
    assert deleted == [gone]


def test_sorting_and_pagination(servers_cloud: ServersCloud) -> None:
    c = servers_cloud
    ids = {c.demo.boot(name=name)["id"]: name for name in ("b", "a", "c")}
    names = [s["name"] for s in c.demo.get("/servers").json()["servers"]]
    assert names == ["c", "a", "b"]  # newest first by default
    asc = c.demo.get("/servers", params={"sort_key": "display_name", "sort_dir": "asc"})
    assert [s["name"] for s in asc.json()["servers"]] == ["a", "b", "c"]
    assert c.demo.get("/servers", params={"sort_key": "bogus"}).status_code == 400
    assert c.demo.get("/servers", params={"sort_dir": "up", "sort_key": "uuid"}).status_code == 400
    page = c.demo.get("/servers", params={"limit": 2}).json()
    assert len(page["servers"]) == 2
    next_href = page["servers_links"][0]["href"]
    assert "marker=" + page["servers"][-1]["id"] in next_href
    rest = c.demo.get("/servers", params={"marker": page["servers"][-1]["id"]}).json()["servers"]
    assert [ids[s["id"]] for s in rest] == ["b"]
    assert c.demo.get("/servers", params={"marker": "nope"}).status_code == 400
    assert c.demo.get("/servers", params={"limit": "x"}).status_code == 400
    # limit=0 is an empty page, not "no limit" (tempest test_list_servers_filter_by_zero_limit)
    zero = c.demo.get("/servers", params={"limit": 0}).json()
    assert zero["servers"] == [] and "servers_links" not in zero
