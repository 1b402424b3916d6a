"""``POST /reshaper`` (1.30+): atomic inventory and allocation changes across providers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.placement.api.allocations import consumer_write
from kumo.placement.api.inventories import inventory_data
from kumo.placement.api.util import db_of, no_content, require
from kumo.placement.schemas.bodies import DictAllocations, Reshape, parse
from kumo.placement.service import reshaper
from kumo.placement.service.query import parse_uuid

router = APIRouter()


@route(router, "POST", "/reshaper", policy="placement:reshaper:reshape", status_code=204)
def reshape(request: Request, payload: Any = Body(None), authz: Authz = AuthzDep) -> Response:
    """Replace inventories of several providers and move allocations, in one transaction."""
    require(request, 30)
    authz.enforce()
    body = parse(Reshape, payload)
    wanted = {
        parse_uuid(rp, "resource provider uuid"): (
            item.resource_provider_generation,
            {rc: inventory_data(rc, fields, request) for rc, fields in item.inventories.items()},
        )
        for rp, item in body.inventories.items()
    }
    writes = [
        consumer_write(request, parse_uuid(consumer, "consumer_uuid"), parse(DictAllocations, item))
        for consumer, item in body.allocations.items()
    ]
    reshaper.reshape(db_of(request), wanted, writes)
    return no_content()
