"""Every placement route is guarded by a registered rule with Placement's default."""

from __future__ import annotations

from kumo.common.api import POLICY_KEY
from kumo.common.policy import Enforcer
from kumo.common.web import iter_api_routes
from kumo.placement import policies
from kumo.placement.api.app import ROUTERS

PUBLIC = {("GET", "/")}


def test_every_route_has_a_registered_rule() -> None:
    enforcer = Enforcer(policies.RULES)
    used = set()
    missing = []
    for router in ROUTERS:
        for route in iter_api_routes(router.routes):
            rule = (route.openapi_extra or {}).get(POLICY_KEY)
            for method in route.methods:
                if (method, route.path) in PUBLIC:
                    assert rule == "@public"
                    continue
                used.add(rule)
                if rule not in enforcer.defaults:
                    missing.append(f"{method} {route.path} -> {rule}")
    assert not missing
    # Every operation rule upstream defines is used by some route.
    operations = {r.name for r in policies.RULES if r.name.startswith("placement:")}
    assert operations == used


def test_defaults_are_placements() -> None:
    rules = {r.name: r.check_str for r in policies.RULES}
    assert rules["admin_or_service_api"] == "role:admin or role:service"
    assert rules["placement:resource_providers:list"] == "rule:admin_or_service_api"
    assert rules["placement:reshaper:reshape"] == "rule:service_api"
    assert rules["placement:usages"] == "rule:admin_or_project_reader_or_service_api"
