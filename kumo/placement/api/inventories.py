"""``/resource_providers/{uuid}/inventories`` (all at once and per resource class)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.errors import MethodNotAllowed
from kumo.placement.api.util import at_least, db_of, no_content, prefix, respond
from kumo.placement.schemas.bodies import (
    InventoriesPut,
    InventoryFields,
    InventoryPost,
    InventoryPut,
    parse,
)
from kumo.placement.service import inventories
from kumo.placement.service.inventories import InventoryData

router = APIRouter()
BASE = "/resource_providers/{uuid}/inventories"


def inventory_data(rc: str, fields: InventoryFields, request: Request) -> InventoryData:
    """A validated inventory from its request fields (reserved == total allowed from 1.26)."""
    inv = InventoryData(
        total=fields.total,
        reserved=fields.reserved,
        min_unit=fields.min_unit,
        max_unit=fields.max_unit,
        step_size=fields.step_size,
        allocation_ratio=fields.allocation_ratio,
    )
    inventories.validate(rc, inv, reserved_equal_total=at_least(request, 26))
    return inv


@route(router, "GET", BASE, policy="placement:resource_providers:inventories:list")
def list_inventories(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Every inventory of the provider, by resource class."""
    authz.enforce()
    rp, found = inventories.list_inventories(db_of(request), uuid)
    return respond(
        request,
        {
            "inventories": {rc: inv.as_dict() for rc, inv in found.items()},
            "resource_provider_generation": rp.generation,
        },
        last_modified=rp.updated,
    )


@route(router, "PUT", BASE, policy="placement:resource_providers:inventories:update")
def replace_inventories(
    uuid: str, request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Replace every inventory of the provider (409 on a stale generation or in-use class)."""
    authz.enforce()
    body = parse(InventoriesPut, payload)
    wanted = {rc: inventory_data(rc, f, request) for rc, f in body.inventories.items()}
    rp, saved = inventories.replace_inventories(
        db_of(request), uuid, body.resource_provider_generation, wanted
    )
    return respond(
        request,
        {
            "inventories": {rc: inv.as_dict() for rc, inv in saved.items()},
            "resource_provider_generation": rp.generation,
        },
    )


@route(
    router,
    "DELETE",
    BASE,
    policy="placement:resource_providers:inventories:delete",
    status_code=204,
)
def delete_inventories(uuid: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete every inventory of the provider (1.5+)."""
    if not at_least(request, 5):
        raise MethodNotAllowed("The method specified is not allowed for this resource.")
    authz.enforce()
    inventories.delete_all(db_of(request), uuid)
    return no_content()


@route(
    router,
    "POST",
    BASE,
    policy="placement:resource_providers:inventories:create",
    status_code=201,
)
def create_inventory(
    uuid: str, request: Request, payload: Any = Body(None), authz: Authz = AuthzDep
) -> Response:
    """Add one class's inventory to the provider."""
    authz.enforce()
    body = parse(InventoryPost, payload)
    inv = inventory_data(body.resource_class, body, request)
    rp = inventories.set_inventory(
        db_of(request),
        uuid,
        body.resource_class,
        body.resource_provider_generation,
        inv,
        create_only=True,
    )
    return respond(
        request,
        {**inv.as_dict(), "resource_provider_generation": rp.generation},
        status=201,
        headers={
            "location": f"{prefix(request)}/resource_providers/{uuid}/inventories/"
            f"{body.resource_class}"
        },
    )


@route(
    router,
    "GET",
    BASE + "/{resource_class}",
    policy="placement:resource_providers:inventories:show",
)
def show_inventory(
    uuid: str, resource_class: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """One class's inventory of the provider."""
    authz.enforce()
    rp, inv = inventories.show_inventory(db_of(request), uuid, resource_class)
    return respond(
        request,
        {**inv.as_dict(), "resource_provider_generation": rp.generation},
        last_modified=rp.updated,
    )


@route(
    router,
    "PUT",
    BASE + "/{resource_class}",
    policy="placement:resource_providers:inventories:update",
)
def update_inventory(
    uuid: str,
    resource_class: str,
    request: Request,
    payload: Any = Body(None),
    authz: Authz = AuthzDep,
) -> Response:
    """Update one class's inventory of the provider."""
    authz.enforce()
    body = parse(InventoryPut, payload)
    inv = inventory_data(resource_class, body, request)
    rp = inventories.set_inventory(
        db_of(request),
        uuid,
        resource_class,
        body.resource_provider_generation,
        inv,
        create_only=False,
    )
    return respond(request, {**inv.as_dict(), "resource_provider_generation": rp.generation})


@route(
    router,
    "DELETE",
    BASE + "/{resource_class}",
    policy="placement:resource_providers:inventories:delete",
    status_code=204,
)
def delete_inventory(
    uuid: str, resource_class: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Delete one class's inventory (409 ``placement.inventory.inuse`` while allocated)."""
    authz.enforce()
    inventories.delete_inventory(db_of(request), uuid, resource_class)
    return no_content()
