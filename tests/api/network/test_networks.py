"""Networks, version discovery and extensions, as the Neutron API reference describes them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.network.conftest import Caller, error_type


def test_version_discovery_lists_v2(cloud: TestClient) -> None:
    resp = cloud.get("/networking/")
    assert resp.status_code == 200
    (version,) = resp.json()["versions"]
    assert version["id"] == "v2.0" and version["status"] == "CURRENT"
    assert version["links"][0]["href"].endswith("/networking/v2.0/")
    resources = cloud.get("/networking/v2.0/").json()["resources"]
    assert {"networks", "subnets", "ports", "routers", "floatingips"} <= {
        r["collection"] for r in resources
    }


def test_extensions_list_and_show(demo: Caller) -> None:
    aliases = {e["alias"] for e in demo.get("/extensions").json()["extensions"]}
    assert {"router", "external-net", "security-group", "quotas", "standard-attr-tag"} <= aliases
    # Not implemented, so not advertised.
    assert "dvr" not in aliases and "l3-ha" not in aliases and "trunk" not in aliases
    assert demo.get("/extensions/router").json()["extension"]["alias"] == "router"
    resp = demo.get("/extensions/trunk")
    assert resp.status_code == 404


def test_create_network_defaults(demo: Caller) -> None:
    net = demo.create("networks", "network", name="n1")
    assert net["status"] == "ACTIVE"
    assert net["admin_state_up"] is True and net["shared"] is False
    assert net["router:external"] is False
    assert net["mtu"] == 1450  # VXLAN
    assert net["port_security_enabled"] is True
    assert net["subnets"] == [] and net["tags"] == []
    assert net["revision_number"] == 0
    assert net["created_at"].endswith("Z")
    assert net["project_id"] == net["tenant_id"]
    # Provider attributes are for admins only.
    assert "provider:network_type" not in net


def test_admin_sees_provider_attributes_and_vnis_are_allocated(admin: Caller) -> None:
    one = admin.create("networks", "network", name="a")
    two = admin.create("networks", "network", name="b")
    assert one["provider:network_type"] == "vxlan"
    assert one["provider:segmentation_id"] != two["provider:segmentation_id"]
    flat = admin.create(
        "networks",
        "network",
        name="flat",
        **{"provider:network_type": "flat", "provider:physical_network": "physnet9"},
    )
    assert flat["mtu"] == 1500 and flat["provider:segmentation_id"] is None
    again = admin.post(
        "/networks",
        {
            "network": {
                "provider:network_type": "flat",
                "provider:physical_network": "physnet9",
            }
        },
    )
    assert again.status_code == 409 and error_type(again) == "FlatNetworkInUse"
    dup = admin.post(
        "/networks",
        {
            "network": {
                "provider:network_type": "vxlan",
                "provider:segmentation_id": one["provider:segmentation_id"],
            }
        },
    )
    assert dup.status_code == 409 and error_type(dup) == "TunnelIdInUse"


def test_member_cannot_create_shared_external_or_provider_networks(demo: Caller) -> None:
    for attrs in (
        {"shared": True},
        {"router:external": True},
        {"provider:network_type": "vxlan"},
    ):
        resp = demo.post("/networks", {"network": attrs})
        assert resp.status_code == 403, attrs
        assert error_type(resp) == "PolicyNotAuthorized"
    # Setting the default explicitly is not "setting" it (as in Neutron).
    assert demo.post("/networks", {"network": {"shared": False}}).status_code == 201


def test_bad_bodies_are_http_bad_request(demo: Caller) -> None:
    cases = [
        {"net": {}},
        {"network": {"bogus": 1}},
        {"network": {"id": "x"}},
        {"network": {"admin_state_up": "maybe"}},
        {"network": {"name": "x" * 256}},
        {"network": {"mtu": 10}},
    ]
    for body in cases:
        resp = demo.post("/networks", body)
        assert resp.status_code == 400, body
        assert error_type(resp) == "HTTPBadRequest"
    resp = demo.client.post(
        "/networking/v2.0/networks",
        content=b"{not json",
        headers={**demo.headers, "Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and error_type(resp) == "HTTPBadRequest"


def test_update_refuses_read_only_attributes(demo: Caller) -> None:
    net = demo.create("networks", "network", name="ro")
    for attr in ("id", "status", "subnets", "tenant_id"):
        resp = demo.put(f"/networks/{net['id']}", {"network": {attr: "x"}})
        assert resp.status_code == 400, attr
        assert error_type(resp) == "HTTPBadRequest"
    resp = demo.put(f"/networks/{net['id']}", {"network": {"name": "new", "mtu": 1400}})
    assert resp.status_code == 200
    body = resp.json()["network"]
    assert body["name"] == "new" and body["mtu"] == 1400
    assert body["revision_number"] == 1
    too_big = demo.put(f"/networks/{net['id']}", {"network": {"mtu": 9000}})
    assert too_big.status_code == 400 and error_type(too_big) == "InvalidInput"


def test_isolation_between_projects(demo: Caller, alt: Caller, admin: Caller) -> None:
    private = demo.create("networks", "network", name="mine")
    resp = alt.get(f"/networks/{private['id']}")
    assert resp.status_code == 404 and error_type(resp) == "NetworkNotFound"
    assert private["id"] not in [n["id"] for n in alt.get("/networks").json()["networks"]]
    resp = alt.put(f"/networks/{private['id']}", {"network": {"name": "stolen"}})
    assert resp.status_code == 404 and error_type(resp) == "NetworkNotFound"
    assert alt.delete(f"/networks/{private['id']}").status_code == 404
    shared = admin.create("networks", "network", name="shared", shared=True)
    assert alt.get(f"/networks/{shared['id']}").status_code == 200
    # Visible but not theirs: 403, as Neutron answers.
    resp = alt.put(f"/networks/{shared['id']}", {"network": {"name": "x"}})
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"
    assert private["id"] in [n["id"] for n in admin.get("/networks").json()["networks"]]


def test_external_networks_are_visible_to_everyone(admin: Caller, alt: Caller) -> None:
    ext = admin.create("networks", "network", name="ext", **{"router:external": True})
    assert alt.get(f"/networks/{ext['id']}").json()["network"]["router:external"] is True


def test_delete_network(demo: Caller) -> None:
    net = demo.create("networks", "network", name="gone")
    assert demo.delete(f"/networks/{net['id']}").status_code == 204
    resp = demo.get(f"/networks/{net['id']}")
    assert resp.status_code == 404 and error_type(resp) == "NetworkNotFound"


def test_network_in_use_cannot_be_deleted(demo: Caller) -> None:
    net = demo.create("networks", "network", name="busy")
    demo.create("ports", "port", network_id=net["id"])
    resp = demo.delete(f"/networks/{net['id']}")
    assert resp.status_code == 409 and error_type(resp) == "NetworkInUse"


def test_bulk_create(demo: Caller) -> None:
    resp = demo.post("/networks", {"networks": [{"name": "b1"}, {"name": "b2"}]})
    assert resp.status_code == 201
    assert [n["name"] for n in resp.json()["networks"]] == ["b1", "b2"]


def test_quota_is_enforced(admin: Caller, demo: Caller) -> None:
    project = demo.create("networks", "network", name="q")["project_id"]
    resp = admin.put(f"/quotas/{project}", {"quota": {"network": 1}})
    assert resp.status_code == 200 and resp.json()["quota"]["network"] == 1
    resp = demo.post("/networks", {"network": {"name": "over"}})
    assert resp.status_code == 409 and error_type(resp) == "OverQuota"
