"""Every image route is guarded by a registered rule; Glance's defaults are kept."""

from __future__ import annotations

from pathlib import Path

from kumo.common.api import POLICY_KEY
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.policy import Enforcer
from kumo.common.web import iter_api_routes
from kumo.image import policies
from kumo.image.api.app import create_app
from kumo.image.policies.base import literal_creds

PUBLIC = {("GET", "/"), ("GET", "/versions")}


async def _never(*args: object) -> object:  # pragma: no cover - never called
    raise AssertionError


def test_every_route_has_a_registered_rule(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    app = create_app(settings, Database(f"sqlite:///{tmp_path / 'x.db'}"), _never).app  # type: ignore[arg-type]
    rules = {r.name for r in policies.RULES}
    routes = list(iter_api_routes(app.routes))
    assert len(routes) > 25
    for route in routes:
        for method in route.methods:
            rule = (route.openapi_extra or {}).get(POLICY_KEY)
            if (method, route.path) in PUBLIC:
                assert rule == "@public"
            else:
                assert rule in rules, f"{method} {route.path} -> {rule}"


def _creds(project: str, *roles: str) -> dict[str, object]:
    return literal_creds({"project_id": project, "roles": list(roles)})


def test_glance_secure_rbac_defaults() -> None:
    enforcer = Enforcer(policies.RULES)
    mine = {"project_id": "p1", "owner": "p1", "visibility": "private", "member_id": None}
    public = {**mine, "visibility": "public"}
    shared_member = {**mine, "visibility": "shared", "member_id": "p2"}
    member, reader = _creds("p1", "member", "reader"), _creds("p1", "reader")
    other = _creds("p2", "member", "reader")
    admin = _creds("x", "admin", "member", "reader")
    assert enforcer.check_rule("get_image", reader, mine)
    assert not enforcer.check_rule("get_image", other, mine)
    assert enforcer.check_rule("get_image", other, public)
    assert enforcer.check_rule("download_image", other, public)
    assert not enforcer.check_rule("download_image", _creds("p2", "reader"), public)
    assert enforcer.check_rule("modify_image", member, mine)
    assert not enforcer.check_rule("modify_image", reader, mine)
    assert not enforcer.check_rule("modify_image", other, public)
    assert not enforcer.check_rule("publicize_image", member, mine)
    assert enforcer.check_rule("publicize_image", admin, mine)
    assert enforcer.check_rule("communitize_image", member, mine)
    assert enforcer.check_rule("add_image", member, mine)
    assert not enforcer.check_rule("add_image", member, {**mine, "owner": "p2"})
    assert enforcer.check_rule("modify_member", other, shared_member)
    assert not enforcer.check_rule("modify_member", member, shared_member)
    assert enforcer.check_rule("get_members", other, shared_member)
    assert not enforcer.check_rule("delete_member", other, shared_member)
    assert enforcer.check_rule("delete_image", admin, mine)
