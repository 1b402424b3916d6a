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


#: Every other service's open routes: version discovery only, as behind keystonemiddleware.
SERVICE_PUBLIC = {
    "compute": {("GET", "/"), ("GET", "/v2.1"), ("GET", "/v2.1/")},
    "image": {("GET", "/"), ("GET", "/versions")},
    "network": {("GET", "/"), ("GET", "/v2.0"), ("GET", "/v2.0/")},
    "placement": {("GET", "/")},
}


def test_every_service_route_has_a_registered_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kumo.app import SERVICES
    from kumo.common.api import POLICY_KEY as COMMON_POLICY_KEY

    settings = Settings(state_dir=tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    seen = set()
    for factory in SERVICES:
        service = factory(settings, db, None)  # type: ignore[arg-type]
        name = service.app.title
        seen.add(name)
        enforcer = service.app.state.enforcer
        routes = list(iter_api_routes(service.app.routes))
        assert len(routes) > 5, name
        missing, public = [], set()
        for route in routes:
            rule = (route.openapi_extra or {}).get(COMMON_POLICY_KEY)
            for method in route.methods:
                if rule == "@public":
                    public.add((method, route.path))
                elif rule is None or rule not in enforcer.defaults:
                    missing.append(f"{method} {route.path} -> {rule}")
        assert not missing, f"{name} routes without a registered rule:\n" + "\n".join(missing)
        assert public <= SERVICE_PUBLIC[name], f"{name}: unexpected public routes {public}"
    assert seen == set(SERVICE_PUBLIC)
