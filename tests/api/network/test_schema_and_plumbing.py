"""Models and migration 0007 agree; every route has a rule; bootstrap; notifications."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kumo.common.api import POLICY_KEY
from kumo.common.config import Settings
from kumo.common.db import Base, Database
from kumo.common.web import iter_api_routes
from kumo.identity.service.core import Identity
from kumo.network.api.app import create_app
from kumo.network.service import notify
from kumo.network.service.bootstrap import bootstrap_networks
from tests.api.network.conftest import Caller

NETWORK_TABLES = {t for t in Base.metadata.tables if t.startswith("net_")}
PUBLIC = {("GET", "/"), ("GET", "/v2.0"), ("GET", "/v2.0/")}


def _tables_in(diff: object) -> set[str]:
    found: set[str] = set()

    def walk(item: object) -> None:
        if isinstance(item, list | tuple):
            for part in item:
                walk(part)
            return
        table = getattr(item, "table", None)
        for name in (getattr(item, "name", None), getattr(table, "name", None), item):
            if isinstance(name, str) and name in NETWORK_TABLES:
                found.add(name)

    walk(diff)
    return found


def test_migration_matches_models(db: Database) -> None:
    assert len(NETWORK_TABLES) >= 12
    with db.write_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if _tables_in(d)] == []


def test_every_route_has_a_registered_rule(tmp_path: Any) -> None:
    settings = Settings(state_dir=tmp_path)

    async def nobody(request: Any, token: str | None) -> Any:
        raise AssertionError("not called")

    service = create_app(settings, Database(f"sqlite:///{tmp_path / 'x.db'}"), nobody)
    routes = list(iter_api_routes(service.app.routes))
    assert len(routes) > 60
    enforcer = service.app.state.enforcer
    missing = []
    for r in routes:
        for method in r.methods:
            rule = (r.openapi_extra or {}).get(POLICY_KEY)
            if (method, r.path) in PUBLIC:
                assert rule == "@public"
            elif rule is None or rule not in enforcer.defaults:
                missing.append(f"{method} {r.path} -> {rule}")
    assert not missing, missing


def test_bootstrap_creates_devstack_layout_once(
    ident: Identity, admin: Caller, demo: Caller
) -> None:
    first = bootstrap_networks(ident.settings, ident.db)
    assert bootstrap_networks(ident.settings, ident.db) == first  # idempotent
    public = admin.get(f"/networks/{first['public']}").json()["network"]
    assert public["router:external"] is True and public["shared"] is False
    assert public["provider:network_type"] == "flat"
    sub = admin.get(f"/subnets/{first['public-subnet']}").json()["subnet"]
    assert sub["cidr"] == "198.51.100.0/24" and sub["gateway_ip"] == "198.51.100.1"
    assert sub["allocation_pools"] == [{"start": "198.51.100.100", "end": "198.51.100.200"}]
    private = demo.get(f"/subnets/{first['private-subnet']}").json()["subnet"]
    assert private["cidr"] == "10.0.0.0/26" and private["enable_dhcp"] is True
    router = demo.get(f"/routers/{first['router1']}").json()["router"]
    assert router["external_gateway_info"]["network_id"] == first["public"]
    ports = demo.get(f"/ports?device_id={first['router1']}").json()["ports"]
    assert [p["fixed_ips"][0]["ip_address"] for p in ports] == ["10.0.0.1"]
    names = {n["name"] for n in demo.get("/networks").json()["networks"]}
    assert {"public", "private", "shared"} <= names
    # Demo can reach the outside through router1: a floating IP can be associated.
    port = demo.create("ports", "port", network_id=first["private"])
    fip = demo.create(
        "floatingips", "floatingip", floating_network_id=first["public"], port_id=port["id"]
    )
    assert fip["router_id"] == first["router1"]


class _FakeBus:
    def __init__(self) -> None:
        self.casts: list[tuple[str, str, dict[str, Any]]] = []

    async def cast(self, topic: str, method: str, payload: dict[str, Any]) -> None:
        self.casts.append((topic, method, payload))


class _State:
    def __init__(self, bus: Any) -> None:
        self.bus = bus


def test_notifications_reach_the_agent_topic() -> None:
    bus = _FakeBus()
    state = _State(bus)

    async def main() -> None:
        await notify.publish(state, "port", "update", "p1", {"id": "p1", "_target": {}})
        await anyio.to_thread.run_sync(
            notify.publish_from_thread, state, "network", "delete", "n1", None
        )

    anyio.run(main)
    assert bus.casts == [
        (
            "network-agent",
            "port_update",
            {"resource": "port", "action": "update", "id": "p1", "body": {"id": "p1"}},
        ),
        (
            "network-agent",
            "network_delete",
            {"resource": "network", "action": "delete", "id": "n1", "body": {}},
        ),
    ]
    # Without a bus nothing happens and nothing fails.
    notify.publish_from_thread(_State(None), "port", "create", "p2")
