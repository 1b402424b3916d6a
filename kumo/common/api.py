"""Per-request plumbing shared by every service's routes: who calls, and which rule guards.

Each service app keeps two things on ``app.state``:

- ``authenticate``: an async callable turning the request's ``X-Auth-Token``
  into a :class:`RequestContext` (401 when missing or invalid). Inside one
  process it validates Fernet tokens locally (no HTTP hop); between hosts it
  may ask the identity API.
- ``enforcer``: the service's policy :class:`Enforcer`.

Routes are registered with :func:`route`, which records the policy rule on the
route so a meta-test can check that every route has one, and handlers take
``authz: Authz = AuthzDep`` and call ``authz.enforce(target)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request

from kumo.common.context import RequestContext
from kumo.common.microversion import MicroversionMiddleware, VersionRange
from kumo.common.policy import Enforcer, RuleDefault
from kumo.common.web import ErrorRenderer, ServiceApp, make_service_app

F = TypeVar("F", bound=Callable[..., Any])

#: Where :func:`route` records a route's policy rule (``"@public"`` for open routes).
POLICY_KEY = "x-policy"

#: Turns a request and its token into the caller's context (raises Unauthorized).
Authenticate = Callable[[Request, str | None], Awaitable[RequestContext]]


def route(
    router: APIRouter,
    method: str,
    path: str,
    *,
    policy: str,
    status_code: int = 200,
    **kwargs: Any,
) -> Callable[[F], F]:
    """Register a route guarded by policy rule ``policy``."""

    def decorate(fn: F) -> F:
        router.add_api_route(
            path,
            fn,
            methods=[method],
            status_code=status_code,
            openapi_extra={POLICY_KEY: policy},
            **kwargs,
        )
        return fn

    return decorate


class Authz:
    """The caller of one route and the policy rule that guards the route."""

    def __init__(self, ctx: RequestContext, enforcer: Enforcer, rule: str) -> None:
        self.ctx = ctx
        self.enforcer = enforcer
        self.rule = rule

    def creds(self) -> dict[str, Any]:
        """Credentials as policy rules see them."""
        return self.ctx.credentials()

    def enforce(self, target: dict[str, Any] | None = None, rule: str | None = None) -> None:
        """Raise Forbidden unless the route's rule (or ``rule``) passes for ``target``."""
        self.enforcer.enforce(rule or self.rule, self.creds(), self._target(target))

    def allows(self, target: dict[str, Any] | None = None, rule: str | None = None) -> bool:
        """True when the route's rule (or ``rule``) passes for ``target``."""
        return self.enforcer.check_rule(rule or self.rule, self.creds(), self._target(target))

    def _target(self, target: dict[str, Any] | None) -> dict[str, Any]:
        # Like oslo.policy users in Nova/Neutron: an empty target means "the
        # caller's own project", so project-scoped rules pass for list/create.
        if target is None:
            return {"project_id": self.ctx.project_id, "user_id": self.ctx.user_id}
        return target


async def authorize(request: Request) -> Authz:
    """The dependency every protected route takes: caller context plus its rule."""
    state = request.app.state
    rule = (request.scope["route"].openapi_extra or {})[POLICY_KEY]
    authenticate: Authenticate = state.authenticate
    ctx = await authenticate(request, request.headers.get("x-auth-token"))
    return Authz(ctx, state.enforcer, rule)


AuthzDep = Depends(authorize)


def service_base(request: Request) -> str:
    """This service's absolute base URL (e.g. ``http://host:port/compute``)."""
    return str(request.base_url).rstrip("/") + str(request.scope.get("root_path", ""))


def create_service(
    *,
    name: str,
    prefix: str,
    render: ErrorRenderer,
    rules: list[RuleDefault],
    routers: list[APIRouter],
    authenticate: Authenticate,
    max_body: int,
    policy_file: Any = None,
    versions: VersionRange | None = None,
    microversion_paths: tuple[str, ...] = (),
    state: dict[str, Any] | None = None,
    unlimited_body: Callable[[str], bool] | None = None,
) -> ServiceApp:
    """One service's app: its routes, policy, error format and microversions.

    ``state`` entries land on ``app.state`` (the service's own objects, e.g. its
    database-backed service layer), next to ``authenticate`` and ``enforcer``.
    ``unlimited_body`` names request paths exempt from the ``max_body`` limit.
    """
    app, asgi = make_service_app(name, render, max_body, unlimited_body)
    app.state.authenticate = authenticate
    app.state.enforcer = Enforcer(rules, policy_file)
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    for router in routers:
        app.include_router(router)
    if versions is not None:
        asgi = MicroversionMiddleware(asgi, versions, render, microversion_paths)
    return ServiceApp(prefix=prefix, app=app, asgi=asgi, render=render)
