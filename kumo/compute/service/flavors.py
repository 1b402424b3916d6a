"""Flavors: lookup, views, CRUD, extra specs and access lists (Nova's semantics)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from kumo.common.db import Database, utcnow
from kumo.common.errors import BadRequest, Conflict, NotFound
from kumo.common.microversion import Version
from kumo.compute.db.flavors import Flavor, FlavorExtraSpec, FlavorProject

#: devstack's flavors: (id, name, ram MB, disk GB, vcpus).
DEVSTACK_FLAVORS: tuple[tuple[str, str, int, int, int], ...] = (
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 20, 1),
    ("3", "m1.medium", 4096, 40, 2),
    ("4", "m1.large", 8192, 80, 4),
    ("5", "m1.xlarge", 16384, 160, 8),
    ("c1", "cirros256", 256, 1, 1),
    ("d1", "ds512M", 512, 5, 1),
    ("d2", "ds1G", 1024, 10, 1),
    ("d3", "ds2G", 2048, 10, 2),
    ("d4", "ds4G", 4096, 20, 4),
    ("42", "m1.nano", 128, 1, 1),
    ("84", "m1.micro", 192, 1, 1),
)

#: Flavor ids Nova accepts: no leading/trailing space, a restricted alphabet.
FLAVOR_ID = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")
#: Extra spec keys Nova accepts (``flavor_extra_specs`` in its schemas).
EXTRA_SPEC_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")

SORT_KEYS = {
    "created_at",
    "description",
    "disabled",
    "ephemeral_gb",
    "flavorid",
    "id",
    "is_public",
    "memory_mb",
    "name",
    "root_gb",
    "rxtx_factor",
    "swap",
    "vcpu_weight",
    "vcpus",
}


def not_found(flavor_id: str) -> NotFound:
    """Nova's FlavorNotFound."""
    return NotFound(f"Flavor {flavor_id} could not be found.")


def get_flavor(s: Session, flavor_id_or_uuid: str) -> Flavor:
    """The flavor with public id ``flavor_id_or_uuid`` (404 with Nova's message)."""
    flavor = s.get(Flavor, flavor_id_or_uuid)
    if flavor is None:
        raise not_found(flavor_id_or_uuid)
    return flavor


def extra_specs_of(s: Session, flavor_id: str) -> dict[str, str]:
    """A flavor's extra specs."""
    rows = s.scalars(select(FlavorExtraSpec).where(FlavorExtraSpec.flavor_id == flavor_id))
    return {r.key: r.value for r in rows}


def can_see(s: Session, flavor: Flavor, project_id: str | None, is_admin: bool) -> bool:
    """Whether a caller may see ``flavor`` (private flavors: admins and listed projects)."""
    if flavor.is_public or is_admin:
        return True
    found = s.get(FlavorProject, (flavor.id, project_id or ""))
    return found is not None


def get_visible(s: Session, flavor_id: str, project_id: str | None, is_admin: bool) -> Flavor:
    """The flavor, or 404 when it does not exist or is private to other projects."""
    flavor = get_flavor(s, flavor_id)
    if not can_see(s, flavor, project_id, is_admin):
        raise not_found(flavor_id)
    return flavor


def flavor_links(base: str, flavor_id: str, api_path: str = "/v2.1") -> list[dict[str, str]]:
    """A flavor's self and bookmark links."""
    return [
        {"rel": "self", "href": f"{base}{api_path}/flavors/{flavor_id}"},
        {"rel": "bookmark", "href": f"{base}/flavors/{flavor_id}"},
    ]


def flavor_view_dict(
    flavor: Flavor,
    *,
    version: Version,
    base: str,
    detail: bool = True,
    extra_specs: dict[str, str] | None = None,
    api_path: str = "/v2.1",
) -> dict[str, Any]:
    """A flavor as Nova shows it at microversion ``version``.

    ``detail=False`` is the summary of ``GET /flavors``. ``extra_specs`` is shown
    (≥2.61) only when given, i.e. when the caller may read extra specs.
    """
    view: dict[str, Any] = {"id": flavor.id, "name": flavor.name}
    if detail:
        swap: int | str = flavor.swap
        if not flavor.swap and version < Version(2, 75):
            swap = ""  # Nova showed "" for "no swap" until 2.75
        view.update(
            {
                "ram": flavor.memory_mb,
                "disk": flavor.root_gb,
                "swap": swap,
                "vcpus": flavor.vcpus,
                "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
                "OS-FLV-DISABLED:disabled": flavor.disabled,
                "os-flavor-access:is_public": flavor.is_public,
                "rxtx_factor": flavor.rxtx_factor,
            }
        )
    view["links"] = flavor_links(base, flavor.id, api_path)
    if version >= Version(2, 55):
        view["description"] = flavor.description
    if detail and extra_specs is not None and version >= Version(2, 61):
        view["extra_specs"] = extra_specs
    return view


def bootstrap_flavors(db: Database) -> int:
    """Create devstack's flavors that do not exist yet; returns how many were made."""
    made = 0
    with db.writer() as s:
        existing = set(s.scalars(select(Flavor.id)))
        names = set(s.scalars(select(Flavor.name)))
        for fid, name, ram, disk, vcpus in DEVSTACK_FLAVORS:
            if fid in existing or name in names:
                continue
            s.add(
                Flavor(
                    id=fid,
                    name=name,
                    memory_mb=ram,
                    root_gb=disk,
                    vcpus=vcpus,
                    ephemeral_gb=0,
                    swap=0,
                    rxtx_factor=1.0,
                    disabled=False,
                    is_public=True,
                    created_at=utcnow(),
                )
            )
            made += 1
    return made


@dataclass
class FlavorSpec:
    """What a create request asks for."""

    name: str
    ram: int
    vcpus: int
    disk: int
    flavor_id: str | None = None
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    description: str | None = None


def create_flavor(s: Session, spec: FlavorSpec) -> Flavor:
    """Create a flavor (409 when its name or id is taken)."""
    name = spec.name.strip()
    if not name or name != spec.name:
        raise BadRequest("Invalid input for field/attribute name.")
    fid = spec.flavor_id if spec.flavor_id is not None else str(uuid.uuid4())
    if not FLAVOR_ID.match(fid):
        raise BadRequest(
            f"Invalid input for field/attribute id. Value: {fid}. "
            "Flavor id contains invalid characters."
        )
    if s.scalar(select(Flavor.id).where(Flavor.name == name)) is not None:
        raise Conflict(f"Flavor with name {name} already exists.")
    if s.get(Flavor, fid) is not None:
        raise Conflict(f"Flavor with ID {fid} already exists.")
    flavor = Flavor(
        id=fid,
        name=name,
        memory_mb=spec.ram,
        vcpus=spec.vcpus,
        root_gb=spec.disk,
        ephemeral_gb=spec.ephemeral,
        swap=spec.swap,
        rxtx_factor=spec.rxtx_factor,
        is_public=spec.is_public,
        disabled=False,
        description=spec.description,
        created_at=utcnow(),
    )
    s.add(flavor)
    s.flush()
    return flavor


def update_description(s: Session, flavor_id: str, description: str | None) -> Flavor:
    """Change a flavor's description (the only mutable field, ≥2.55)."""
    flavor = get_flavor(s, flavor_id)
    flavor.description = description
    flavor.updated_at = utcnow()
    return flavor


def delete_flavor(s: Session, flavor_id: str) -> None:
    """Delete a flavor (servers keep their own copy of it)."""
    flavor = get_flavor(s, flavor_id)
    s.delete(flavor)


def _truthy(value: str) -> bool | None:
    low = value.strip().lower()
    if low in ("1", "t", "true", "on", "y", "yes"):
        return True
    if low in ("0", "f", "false", "off", "n", "no"):
        return False
    return None


def list_flavors(
    s: Session,
    *,
    project_id: str | None,
    is_admin: bool,
    query: Any,
) -> list[Flavor]:
    """Flavors visible to the caller, filtered, sorted and paginated like Nova.

    ``query`` is the request's query parameters (``minRam``, ``minDisk``,
    ``is_public``, ``sort_key``, ``sort_dir``, ``marker``, ``limit``).
    """
    stmt = select(Flavor).where(Flavor.disabled.is_(False))
    for param, column in (("minRam", Flavor.memory_mb), ("minDisk", Flavor.root_gb)):
        if param in query:
            try:
                stmt = stmt.where(column >= int(query[param]))
            except ValueError:
                raise BadRequest(f"Invalid {param} filter [{query[param]}]") from None
    # is_public: non-admins always see public flavors plus their own private ones;
    # admins see public by default, "none" for both, false for private only.
    raw = query.get("is_public")
    access = (
        select(FlavorProject.flavor_id).where(FlavorProject.project_id == (project_id or ""))
    ).scalar_subquery()
    if is_admin:
        if raw is None:
            stmt = stmt.where(Flavor.is_public.is_(True))
        elif raw.strip().lower() != "none":
            wanted = _truthy(raw)
            if wanted is None:
                raise BadRequest(f"Invalid is_public filter [{raw}]")
            stmt = stmt.where(Flavor.is_public.is_(wanted))
    else:
        stmt = stmt.where(or_(Flavor.is_public.is_(True), Flavor.id.in_(access)))
    sort_key = query.get("sort_key", "flavorid")
    sort_dir = query.get("sort_dir", "asc")
    if sort_key not in SORT_KEYS:
        raise BadRequest(f"Invalid sort_key: {sort_key}")
    if sort_dir not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort_dir: {sort_dir}")
    column_name = {"flavorid": "id"}.get(sort_key, sort_key)
    column = getattr(Flavor, column_name)
    order = [column.asc() if sort_dir == "asc" else column.desc()]
    if column_name != "id":
        order.append(Flavor.id.asc())
    rows = list(s.scalars(stmt.order_by(*order)))
    marker = query.get("marker")
    if marker is not None:
        ids = [f.id for f in rows]
        if marker not in ids:
            raise BadRequest(f"Marker {marker} could not be found.")
        rows = rows[ids.index(marker) + 1 :]
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            raise BadRequest("limit param must be an integer") from None
        if limit < 0:
            raise BadRequest("limit param must be positive")
        rows = rows[:limit]
    return rows


def _check_spec(key: str, value: Any) -> str:
    if not EXTRA_SPEC_KEY.match(key):
        raise BadRequest(
            f"Invalid input for field/attribute extra_specs. Value: {key}. "
            "Extra spec key contains invalid characters."
        )
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRequest(
            f"Invalid input for field/attribute {key}. Value: {value}. "
            "Value must be a string or number."
        )
    text = str(value)
    if len(text) > 255:
        raise BadRequest(f"Invalid input for field/attribute {key}. Value is too long.")
    _validate_known(key, text)
    return text


#: Loose validation of well-known namespaces (Nova validates every namespace).
_KNOWN: dict[str, tuple[str, ...]] = {
    "hw:cpu_policy": ("dedicated", "shared", "mixed"),
    "hw:cpu_thread_policy": ("prefer", "isolate", "require"),
    "hw:mem_page_size": ("small", "large", "any"),
    "hw:emulator_threads_policy": ("share", "isolate"),
}
_INTEGER_KEYS = {"hw:numa_nodes", "quota:cpu_shares", "quota:cpu_period", "quota:cpu_quota"}


def _validate_known(key: str, value: str) -> None:
    allowed = _KNOWN.get(key)
    if allowed is not None and value not in allowed:
        if key == "hw:mem_page_size" and value.isdigit():
            return
        raise BadRequest(
            f"Validation failed; extra spec '{key}' with value '{value}' is invalid: "
            f"must be one of {', '.join(allowed)}."
        )
    if key in _INTEGER_KEYS and not value.lstrip("-").isdigit():
        raise BadRequest(
            f"Validation failed; extra spec '{key}' with value '{value}' is invalid: "
            "must be an integer."
        )


def set_extra_specs(s: Session, flavor_id: str, specs: dict[str, Any]) -> dict[str, str]:
    """Add or replace extra specs; returns the ones set."""
    get_flavor(s, flavor_id)
    checked = {k: _check_spec(k, v) for k, v in specs.items()}
    for key, value in checked.items():
        row = s.get(FlavorExtraSpec, (flavor_id, key))
        if row is None:
            s.add(FlavorExtraSpec(flavor_id=flavor_id, key=key, value=value))
        else:
            row.value = value
    return checked


def get_extra_spec(s: Session, flavor_id: str, key: str) -> str:
    """One extra spec's value (404 with Nova's message)."""
    get_flavor(s, flavor_id)
    row = s.get(FlavorExtraSpec, (flavor_id, key))
    if row is None:
        raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return row.value


def delete_extra_spec(s: Session, flavor_id: str, key: str) -> None:
    """Remove one extra spec."""
    get_extra_spec(s, flavor_id, key)
    s.execute(
        delete(FlavorExtraSpec).where(
            FlavorExtraSpec.flavor_id == flavor_id, FlavorExtraSpec.key == key
        )
    )


def access_list(s: Session, flavor_id: str) -> list[str]:
    """Projects a flavor is shared with (404 for a public flavor, as Nova)."""
    flavor = get_flavor(s, flavor_id)
    if flavor.is_public:
        raise NotFound("Access list not available for public flavors.")
    return sorted(
        s.scalars(select(FlavorProject.project_id).where(FlavorProject.flavor_id == flavor_id))
    )


def add_access(s: Session, flavor_id: str, project_id: str) -> list[str]:
    """Share a private flavor with a project (409 when already shared)."""
    flavor = get_flavor(s, flavor_id)
    if flavor.is_public:
        raise Conflict("Can not add access to a public flavor.")
    if s.get(FlavorProject, (flavor_id, project_id)) is not None:
        raise Conflict(
            f"Flavor access already exists for flavor {flavor_id} and project "
            f"{project_id} combination."
        )
    s.add(FlavorProject(flavor_id=flavor_id, project_id=project_id))
    s.flush()
    return access_list(s, flavor_id)


def remove_access(s: Session, flavor_id: str, project_id: str) -> list[str]:
    """Stop sharing a private flavor with a project (404 when not shared)."""
    get_flavor(s, flavor_id)
    row = s.get(FlavorProject, (flavor_id, project_id))
    if row is None:
        raise NotFound(f"Flavor access not found for {flavor_id} / {project_id} combination.")
    s.delete(row)
    s.flush()
    return access_list(s, flavor_id)


def extra_specs_for(s: Session, flavor_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Extra specs of many flavors at once."""
    ids = list(flavor_ids)
    out: dict[str, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for row in s.scalars(select(FlavorExtraSpec).where(FlavorExtraSpec.flavor_id.in_(ids))):
            out[row.flavor_id][row.key] = row.value
    return out
