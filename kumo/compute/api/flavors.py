"""/flavors, /flavors/{id}/os-extra_specs and flavor access (os-flavor-access)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from kumo.common.api import Authz, AuthzDep, route, service_base
from kumo.common.errors import BadRequest, NotFound, ValidationError
from kumo.common.microversion import Version
from kumo.compute.api.versions import api_path, compute_version
from kumo.compute.db.flavors import Flavor
from kumo.compute.schemas import params
from kumo.compute.schemas.params import JsonBody
from kumo.compute.service import flavors

router = APIRouter()

BASE = "/v2.1/flavors"
SPECS_INDEX = "os_compute_api:os-flavor-extra-specs:index"
INDEX_QUERY = {"limit", "marker", "is_public", "minRam", "minDisk", "sort_key", "sort_dir"}


def _is_admin(authz: Authz) -> bool:
    return authz.allows({}, rule="context_is_admin")


def _view(
    request: Request,
    authz: Authz,
    flavor: Flavor,
    *,
    detail: bool = True,
    specs: dict[str, str] | None = None,
) -> dict[str, Any]:
    version = compute_version(request)
    show_specs = detail and version >= Version(2, 61) and authz.allows(rule=SPECS_INDEX)
    return flavors.flavor_view_dict(
        flavor,
        version=version,
        base=service_base(request),
        detail=detail,
        extra_specs=(specs or {}) if show_specs else None,
        api_path=api_path(request),
    )


def _list(request: Request, authz: Authz, detail: bool) -> dict[str, Any]:
    authz.enforce()
    query = request.query_params
    if compute_version(request) >= Version(2, 75):
        unknown = sorted(set(query) - INDEX_QUERY)
        if unknown:
            raise ValidationError(
                "Invalid input for query parameters "
                f"{unknown[0]}. Additional properties are not allowed"
            )
    db = request.app.state.db
    with db.reader() as s:
        rows = flavors.list_flavors(
            s, project_id=authz.ctx.project_id, is_admin=_is_admin(authz), query=query
        )
        specs = flavors.extra_specs_for(s, [f.id for f in rows]) if detail else {}
    body: dict[str, Any] = {
        "flavors": [_view(request, authz, f, detail=detail, specs=specs.get(f.id)) for f in rows]
    }
    limit = params.query_int(query, "limit")
    if limit and rows and len(rows) == limit:
        args = {k: v for k, v in query.items() if k != "marker"}
        args["marker"] = rows[-1].id
        path = "/flavors/detail" if detail else "/flavors"
        href = f"{service_base(request)}{api_path(request)}{path}?{urlencode(args)}"
        body["flavors_links"] = [{"rel": "next", "href": href}]
    return body


@route(router, "GET", BASE, policy="os_compute_api:flavors:index")
def list_flavors(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Flavors visible to the caller (id, name, links)."""
    return _list(request, authz, detail=False)


@route(router, "GET", BASE + "/detail", policy="os_compute_api:flavors:index")
def list_flavors_detail(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Flavors visible to the caller, with every field."""
    return _list(request, authz, detail=True)


@route(router, "GET", BASE + "/{flavor_id}", policy="os_compute_api:flavors:show")
def show_flavor(flavor_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One flavor (404 for a private flavor the caller's project cannot use)."""
    authz.enforce()
    with request.app.state.db.reader() as s:
        flavor = flavors.get_visible(s, flavor_id, authz.ctx.project_id, _is_admin(authz))
        specs = flavors.extra_specs_of(s, flavor.id)
    return {"flavor": _view(request, authz, flavor, specs=specs)}


def _create_spec(data: dict[str, Any], version: Version) -> flavors.FlavorSpec:
    body = params.obj(data, "flavor")
    params.only(data, ["flavor"], "body")
    allowed = [
        "name",
        "id",
        "ram",
        "vcpus",
        "disk",
        "OS-FLV-EXT-DATA:ephemeral",
        "swap",
        "rxtx_factor",
        "os-flavor-access:is_public",
    ]
    if version >= Version(2, 55):
        allowed.append("description")
    params.only(body, allowed, "flavor")
    params.require(body, ["name", "ram", "vcpus", "disk"], "flavor")
    raw_id = body.get("id")
    if raw_id is not None:
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | float):
            raise params.invalid("id", raw_id, "Flavor id must be a string or number.")
        raw_id = str(raw_id)
        if not 1 <= len(raw_id) <= 255 or not flavors.FLAVOR_ID.match(raw_id):
            raise params.invalid("id", raw_id, "Flavor id contains invalid characters.")
    rxtx = body.get("rxtx_factor", 1.0)
    try:
        rxtx_value = float(rxtx) if not isinstance(rxtx, bool) else -1.0
    except (TypeError, ValueError):
        rxtx_value = -1.0
    if not 0 < rxtx_value <= 3.40282e38:
        raise params.invalid("rxtx_factor", rxtx, "rxtx_factor must be a positive number.")
    return flavors.FlavorSpec(
        name=params.name("name", body["name"]),
        flavor_id=raw_id,
        ram=params.integer("ram", body["ram"], 1),
        vcpus=params.integer("vcpus", body["vcpus"], 1),
        disk=params.integer("disk", body["disk"], 0),
        ephemeral=params.integer(
            "OS-FLV-EXT-DATA:ephemeral", body.get("OS-FLV-EXT-DATA:ephemeral", 0), 0
        ),
        swap=params.integer("swap", body.get("swap", 0), 0),
        rxtx_factor=rxtx_value,
        is_public=params.boolean(
            "os-flavor-access:is_public", body.get("os-flavor-access:is_public", True)
        ),
        description=params.description("description", body.get("description")),
    )


@route(router, "POST", BASE, policy="os_compute_api:os-flavor-manage:create")
def create_flavor(body: JsonBody, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Create a flavor (admin); the id is generated (a uuid) unless given."""
    authz.enforce()
    spec = _create_spec(body.data(), compute_version(request))
    with request.app.state.db.writer() as s:
        flavor = flavors.create_flavor(s, spec)
    return {"flavor": _view(request, authz, flavor, specs={})}


@route(router, "PUT", BASE + "/{flavor_id}", policy="os_compute_api:os-flavor-manage:update")
def update_flavor(
    flavor_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Update a flavor's description (≥2.55; the only mutable field)."""
    if compute_version(request) < Version(2, 55):
        # Nova answers 404 for a method that does not exist at the requested microversion.
        raise NotFound("The resource could not be found.")
    authz.enforce()
    data = body.data()
    flavor_body = params.obj(data, "flavor")
    params.only(data, ["flavor"], "body")
    params.only(flavor_body, ["description"], "flavor")
    params.require(flavor_body, ["description"], "flavor")
    text = params.description("description", flavor_body["description"])
    with request.app.state.db.writer() as s:
        flavor = flavors.update_description(s, flavor_id, text)
        specs = flavors.extra_specs_of(s, flavor.id)
    return {"flavor": _view(request, authz, flavor, specs=specs)}


@route(
    router,
    "DELETE",
    BASE + "/{flavor_id}",
    policy="os_compute_api:os-flavor-manage:delete",
    status_code=202,
    response_class=Response,  # 202 with no body (the document said JSON: `make fuzz`)
)
def delete_flavor(flavor_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a flavor (admin)."""
    authz.enforce()
    with request.app.state.db.writer() as s:
        flavors.delete_flavor(s, flavor_id)
    return Response(status_code=202)


# --- extra specs -------------------------------------------------------------------------


def _visible(request: Request, authz: Authz, flavor_id: str) -> None:
    with request.app.state.db.reader() as s:
        flavors.get_visible(s, flavor_id, authz.ctx.project_id, _is_admin(authz))


@route(router, "GET", BASE + "/{flavor_id}/os-extra_specs", policy=SPECS_INDEX)
def list_extra_specs(flavor_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A flavor's extra specs."""
    authz.enforce()
    with request.app.state.db.reader() as s:
        flavors.get_visible(s, flavor_id, authz.ctx.project_id, _is_admin(authz))
        return {"extra_specs": flavors.extra_specs_of(s, flavor_id)}


@route(
    router,
    "POST",
    BASE + "/{flavor_id}/os-extra_specs",
    policy="os_compute_api:os-flavor-extra-specs:create",
)
def create_extra_specs(
    flavor_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Add or replace extra specs (admin)."""
    authz.enforce()
    data = body.data()
    specs = params.obj(data, "extra_specs")
    params.only(data, ["extra_specs"], "body")
    with request.app.state.db.writer() as s:
        return {"extra_specs": flavors.set_extra_specs(s, flavor_id, specs)}


@route(
    router,
    "GET",
    BASE + "/{flavor_id}/os-extra_specs/{key}",
    policy="os_compute_api:os-flavor-extra-specs:show",
)
def show_extra_spec(
    flavor_id: str, key: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One extra spec, as ``{key: value}``."""
    authz.enforce()
    with request.app.state.db.reader() as s:
        flavors.get_visible(s, flavor_id, authz.ctx.project_id, _is_admin(authz))
        return {key: flavors.get_extra_spec(s, flavor_id, key)}


@route(
    router,
    "PUT",
    BASE + "/{flavor_id}/os-extra_specs/{key}",
    policy="os_compute_api:os-flavor-extra-specs:update",
)
def update_extra_spec(
    flavor_id: str, key: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Set one extra spec; the body is ``{key: value}`` with the key of the URL."""
    authz.enforce()
    data = body.data()
    if len(data) != 1:
        raise BadRequest("Request body contains too many items")
    if key not in data:
        raise BadRequest("Request body and URI mismatch")
    with request.app.state.db.writer() as s:
        return flavors.set_extra_specs(s, flavor_id, data)


@route(
    router,
    "DELETE",
    BASE + "/{flavor_id}/os-extra_specs/{key}",
    policy="os_compute_api:os-flavor-extra-specs:delete",
)
def delete_extra_spec(
    flavor_id: str, key: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Remove one extra spec (Nova answers 200 with no body)."""
    authz.enforce()
    with request.app.state.db.writer() as s:
        flavors.delete_extra_spec(s, flavor_id, key)
    return Response(status_code=200)


# --- access ------------------------------------------------------------------------------


def _access(flavor_id: str, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}


@route(
    router, "GET", BASE + "/{flavor_id}/os-flavor-access", policy="os_compute_api:os-flavor-access"
)
def list_access(flavor_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Projects a private flavor is shared with (admin)."""
    authz.enforce()
    with request.app.state.db.reader() as s:
        return _access(flavor_id, flavors.access_list(s, flavor_id))


@route(
    router,
    "POST",
    BASE + "/{flavor_id}/action",
    policy="os_compute_api:os-flavor-access:add_tenant_access",
)
def flavor_action(
    flavor_id: str, body: JsonBody, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """``addTenantAccess`` / ``removeTenantAccess`` (admin)."""
    data = body.data()
    if len(data) != 1 or next(iter(data)) not in ("addTenantAccess", "removeTenantAccess"):
        raise BadRequest("There is no such action: " + ",".join(sorted(data)))
    action = next(iter(data))
    rule = (
        "os_compute_api:os-flavor-access:add_tenant_access"
        if action == "addTenantAccess"
        else "os_compute_api:os-flavor-access:remove_tenant_access"
    )
    authz.enforce(rule=rule)
    args = params.obj(data, action)
    params.only(args, ["tenant"], action)
    params.require(args, ["tenant"], action)
    tenant = params.string("tenant", args["tenant"], 1, 255)
    with request.app.state.db.writer() as s:
        if action == "addTenantAccess":
            projects = flavors.add_access(s, flavor_id, tenant)
        else:
            projects = flavors.remove_access(s, flavor_id, tenant)
    return _access(flavor_id, projects)
