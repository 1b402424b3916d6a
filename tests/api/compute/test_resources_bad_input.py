"""Malformed requests to the compute-resources routes get 4xx in Nova's format, never 500."""

from __future__ import annotations

import pytest

from kumo.common.db import Database
from kumo.compute.api.errors import FAULT_NAMES
from tests.api.compute._resources import Caller, add_host

BODIES: list[object] = [
    [],
    "text",
    123,
    None,
    {},
    {"unexpected": {}},
    {"flavor": [], "keypair": "x", "quota_set": 1, "server_group": None, "aggregate": 7},
    {"flavor": {"name": 5, "ram": {}, "vcpus": [], "disk": None}},
    {"keypair": {"name": "\u00e9\u00e9", "public_key": 5, "type": None}},
    {"quota_set": {"cores": 1.5, "force": "perhaps"}},
    {"server_group": {"name": ["a"], "policies": "affinity", "policy": 1, "rules": []}},
    {"aggregate": {"name": "", "availability_zone": 3}},
    {"add_host": "h"},
    {"set_metadata": {"metadata": ["x"]}},
    {"extra_specs": {"k": None}},
    {"addTenantAccess": {"tenant": 5}},
    {"status": "sideways", "forced_down": "maybe", "host": 1, "binary": []},
]
WRITES = [
    ("POST", "/flavors"),
    ("PUT", "/flavors/1"),
    ("POST", "/flavors/1/action"),
    ("POST", "/flavors/1/os-extra_specs"),
    ("PUT", "/flavors/1/os-extra_specs/k"),
    ("POST", "/os-keypairs"),
    ("PUT", "/os-quota-sets/p1"),
    ("PUT", "/os-quota-class-sets/default"),
    ("POST", "/os-server-groups"),
    ("POST", "/os-aggregates"),
    ("PUT", "/os-aggregates/1"),
    ("POST", "/os-aggregates/1/action"),
    ("POST", "/os-aggregates/1/images"),
    ("PUT", "/os-services/enable"),
    ("PUT", "/os-services/force-down"),
    ("PUT", "/os-services/11111111-2222-3333-4444-555555555555"),
]


@pytest.mark.parametrize("mv", ["2.1", "2.55", "2.64", "2.100"])
def test_garbage_bodies_are_4xx(nova_admin: Caller, rdb: Database, mv: str) -> None:
    add_host(rdb, "bad-input-host")
    nova_admin.post("/os-aggregates", {"aggregate": {"name": "bad-input-agg"}})
    for method, path in WRITES:
        for body in BODIES:
            call = nova_admin.post if method == "POST" else nova_admin.put
            resp = call(path, body, mv)
            assert 400 <= resp.status_code < 500, (method, path, body, resp.text)
            [(fault, detail)] = resp.json().items()
            assert fault == FAULT_NAMES[resp.status_code]
            assert detail["code"] == resp.status_code, (method, path, body)


def test_garbage_queries_are_4xx(nova_admin: Caller, rdb: Database) -> None:
    queries = [
        ("/flavors", {"limit": "-1"}),
        ("/flavors/detail", {"limit": "x", "minDisk": "y"}),
        ("/flavors", {"sort_dir": "up"}),
        ("/flavors", {"is_public": "perhaps"}),
        ("/os-keypairs", {"limit": "x"}),
        ("/os-server-groups", {"limit": "x", "offset": "-3"}),
        ("/os-server-groups", {"all_projects": "perhaps"}),
        ("/os-hypervisors", {"limit": "x"}),
        ("/os-hypervisors/detail", {"with_servers": "perhaps", "marker": "zz"}),
        ("/os-aggregates/abc", {}),
        ("/os-hypervisors/abc/uptime", {}),
    ]
    for mv in ("2.1", "2.35", "2.53", "2.100"):
        for path, query in queries:
            resp = nova_admin.get(path, mv, params=query)
            assert resp.status_code < 500, (path, query, mv, resp.text)
