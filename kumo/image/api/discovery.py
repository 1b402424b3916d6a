"""/v2/info/*: import methods, stores and usage; /v2/tasks (always empty here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.config import Settings
from kumo.common.db import Database
from kumo.common.errors import BadRequest
from kumo.image.api.deps import enforce
from kumo.image.db.models import Image
from kumo.image.service import images, store

router = APIRouter()


@route(router, "GET", "/v2/info/import", policy="get_image_info")
def import_info(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The enabled interoperable import methods (only ``glance-direct``)."""
    return {
        "import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": ["glance-direct"],
        }
    }


@route(router, "GET", "/v2/info/stores", policy="get_image_info")
def stores_info(authz: Authz = AuthzDep) -> dict[str, Any]:
    """The one store, a local file store, which is the default."""
    return {"stores": [{"id": store.STORE_ID, "description": "Local file store", "default": True}]}


@route(router, "GET", "/v2/info/stores/detail", policy="stores_info_detail")
def stores_detail(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The store with its type and properties (admin only)."""
    enforce(authz, "stores_info_detail", {"project_id": authz.ctx.project_id})
    settings: Settings = request.app.state.settings
    return {
        "stores": [
            {
                "id": store.STORE_ID,
                "description": "Local file store",
                "default": True,
                "type": "file",
                "properties": {"datadir": str(store.store_dir(settings.state_dir))},
            }
        ]
    }


@route(router, "GET", "/v2/info/usage", policy="get_image_info")
def usage(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's project's usage against its image quotas."""
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    project = authz.ctx.project_id or ""
    with db.reader() as session:
        count = (
            session.scalar(select(func.count()).select_from(Image).where(Image.owner == project))
            or 0
        )
        used = images.bytes_used(session, project)
        staged = (
            session.scalar(
                select(func.count())
                .select_from(Image)
                .where(Image.owner == project, Image.status.in_(("uploading", "importing")))
            )
            or 0
        )
    return {
        "usage": {
            "image_size_total": {"limit": settings.image_size_total, "usage": used // (1 << 20)},
            "image_stage_total": {"limit": -1, "usage": 0},
            "image_count_total": {"limit": settings.image_count_total, "usage": count},
            "image_count_uploading": {"limit": -1, "usage": staged},
        }
    }


@route(router, "GET", "/v2/tasks", policy="get_tasks")
def list_tasks(authz: Authz = AuthzDep) -> dict[str, Any]:
    """Tasks (admins only, as ``tasks_api_access``); Kumo imports without tasks, so none."""
    enforce(authz, "tasks_api_access", {"project_id": authz.ctx.project_id})
    enforce(authz, "get_tasks", {"project_id": authz.ctx.project_id})
    return {"tasks": [], "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}


@route(router, "POST", "/v2/tasks", policy="add_task", status_code=201)
def create_task(authz: Authz = AuthzDep) -> dict[str, Any]:
    """Old-style import tasks download from a URL, which this cloud never does: 400."""
    enforce(authz, "tasks_api_access", {"project_id": authz.ctx.project_id})
    enforce(authz, "add_task", {"project_id": authz.ctx.project_id})
    raise BadRequest(
        "Import tasks (import_from a URL) are disabled on this cloud; upload the data with "
        "PUT /v2/images/{image_id}/file or use the glance-direct import method."
    )
