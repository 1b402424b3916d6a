"""Malformed input anywhere gets a 4xx in Neutron's error format, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.network.conftest import Caller

CREATES = [
    ("networks", "network"),
    ("subnets", "subnet"),
    ("subnetpools", "subnetpool"),
    ("ports", "port"),
    ("routers", "router"),
    ("floatingips", "floatingip"),
    ("security-groups", "security_group"),
    ("security-group-rules", "security_group_rule"),
]
NASTY: list[Any] = [
    None,
    [],
    "text",
    {},
    {"x": 1},
    {"RESOURCE": None},
    {"RESOURCE": []},
    {"RESOURCE": {"name": None}},
    {"RESOURCE": {"name": 5}},
    {"RESOURCE": {"name": "nul\u0000"}},
    {"RESOURCE": {"network_id": "not-a-uuid", "ip_version": "x", "cidr": 7}},
    {"RESOURCE": {"network_id": {"a": 1}, "fixed_ips": "x", "security_groups": "x"}},
    {"RESOURCE": {"fixed_ips": [{"ip_address": "1.2.3"}], "network_id": None}},
    {"RESOURCE": {"allowed_address_pairs": [{}], "extra_dhcp_opts": [None]}},
    {"RESOURCE": {"external_gateway_info": "x", "routes": [{"destination": 1}]}},
    {"RESOURCE": {"floating_network_id": 1, "port_id": []}},
    {"RESOURCE": {"security_group_id": 1, "direction": None, "port_range_min": "a"}},
    {"RESOURCE": {"prefixes": "10.0.0.0/8", "default_prefixlen": "big"}},
    {"RESOURCE": {"tags": "x"}},
]


def _fill(body: Any, resource: str) -> Any:
    if isinstance(body, dict) and "RESOURCE" in body:
        return {resource: body["RESOURCE"]}
    return body


@pytest.mark.parametrize(("collection", "resource"), CREATES)
def test_malformed_creates_are_4xx(demo: Caller, collection: str, resource: str) -> None:
    for body in NASTY:
        resp = demo.post(f"/{collection}", _fill(body, resource))
        assert 400 <= resp.status_code < 500, (body, resp.status_code, resp.text)
        assert "NeutronError" in resp.json()


def test_malformed_updates_and_actions_are_4xx(demo: Caller) -> None:
    net = demo.create("networks", "network")
    router = demo.create("routers", "router")
    for body in NASTY:
        for path, resource in (
            (f"/networks/{net['id']}", "network"),
            (f"/routers/{router['id']}", "router"),
        ):
            resp = demo.put(path, _fill(body, resource))
            assert 400 <= resp.status_code < 500, (path, body, resp.text)
        for action in ("add_router_interface", "remove_router_interface"):
            resp = demo.put(f"/routers/{router['id']}/{action}", _fill(body, "router"))
            assert 400 <= resp.status_code < 500, (action, body, resp.text)
    for query in ("limit=x", "sort_dir=up", "page_reverse=maybe&limit=1", "fields=", "id=1"):
        resp = demo.get(f"/networks?{query}")
        assert resp.status_code in (200, 400), (query, resp.text)


@pytest.mark.parametrize("odd_id", ["%00", "x" * 300, "%C3%A9t%C3%A9", "%F0%9F%92%A9"])
def test_odd_ids_are_404(demo: Caller, odd_id: str) -> None:
    for collection in ("networks", "subnets", "ports", "routers", "floatingips", "security-groups"):
        resp = demo.get(f"/{collection}/{odd_id}")
        assert resp.status_code in (400, 404), (collection, odd_id, resp.text)
        assert "NeutronError" in resp.json()
