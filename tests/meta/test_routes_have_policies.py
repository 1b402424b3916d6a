"""Every route is guarded by a registered policy rule, or is deliberately public."""

from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.web import iter_api_routes
from kumo.identity.api.app import create_app, make_identity
from kumo.identity.api.deps import POLICY_KEY

#: Routes anyone may call, as in Keystone (discovery, login, self-service password).
PUBLIC = {
    ("GET", "/"),
    ("GET", "/v3"),
    ("GET", "/v3/"),
    ("POST", "/v3/auth/tokens"),
    ("POST", "/v3/users/{user_id}/password"),
}


def test_every_identity_route_has_a_registered_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(state_dir=tmp_path)
    ident = make_identity(settings, Database(f"sqlite:///{tmp_path / 'x.db'}"))
    app = create_app(ident).app
    routes = list(iter_api_routes(app.routes))
    assert len(routes) > 20
    missing = []
    for route in routes:
        for method in route.methods:
            rule = (route.openapi_extra or {}).get(POLICY_KEY)
            if (method, route.path) in PUBLIC:
                assert rule == "@public", f"{method} {route.path} should be declared public"
                continue
            if rule is None or rule not in ident.enforcer.defaults:
                missing.append(f"{method} {route.path} -> {rule}")
    assert not missing, "routes without a registered policy rule:\n" + "\n".join(missing)


def test_public_routes_are_only_the_known_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(state_dir=tmp_path)
    ident = make_identity(settings, Database(f"sqlite:///{tmp_path / 'x.db'}"))
    app = create_app(ident).app
    public = {
        (m, r.path)
        for r in iter_api_routes(app.routes)
        for m in r.methods
        if (r.openapi_extra or {}).get(POLICY_KEY) == "@public"
    }
    assert public <= PUBLIC
