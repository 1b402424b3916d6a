"""What every Neutron resource route shares: body parsing, policy, and list queries.

Neutron validates request bodies against per-resource attribute maps (which
attributes may be set on POST or PUT, which are required, how each converts);
:func:`parse_body` does the same with :class:`Attr` maps, answering
``HTTPBadRequest`` in Neutron's words. Responses are shaped by :func:`present`
(attributes the caller may not read are dropped, as Neutron's
``get_<resource>:<attribute>`` rules do; ``fields`` selects the rest) and lists
by :func:`collection` (visibility by the ``get_*`` rule, filters, tags filters,
sorting, pagination with ``<collection>_links``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError as PydanticValidationError

from kumo.common.api import Authz
from kumo.common.db import Database
from kumo.common.errors import BadRequest, Forbidden, NotFound
from kumo.common.schemas import RequestModel

#: Marks "no default" in an :class:`Attr`.
MISSING: Any = object()

#: Query parameters that are not attribute filters.
LIST_PARAMS = {
    "fields",
    "sort_key",
    "sort_dir",
    "limit",
    "marker",
    "page_reverse",
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
}


@dataclass(frozen=True)
class Attr:
    """One attribute of a resource body, as in Neutron's attribute maps."""

    post: bool = True
    put: bool = True
    required: bool = False
    default: Any = MISSING
    convert: Callable[[Any], Any] | None = None


def bad_request(message: str) -> BadRequest:
    """Neutron's generic 400 (``HTTPBadRequest``)."""
    return BadRequest(message, code="HTTPBadRequest")


def invalid_input(message: str) -> BadRequest:
    """Neutron's ``InvalidInput`` (400), raised by plugin-level checks."""
    return BadRequest(f"Invalid input for operation: {message}.", code="InvalidInput")


def storable(body: Any) -> Any:
    """The body, unless it holds text no database can store (NUL, lone surrogates): 400."""
    if isinstance(body, dict):
        try:
            RequestModel.model_validate(body)
        except PydanticValidationError as exc:
            reason = exc.errors()[0].get("msg", "invalid text")
            raise bad_request(f"Invalid input: {reason}") from None
    return body


def parse_body(body: Any, resource: str, attrs: dict[str, Attr], *, create: bool) -> dict[str, Any]:
    """The converted attributes of ``{resource: {...}}``; 400 on anything Neutron refuses."""
    storable(body)
    if not isinstance(body, dict) or resource not in body:
        raise bad_request(f"Unable to find '{resource}' in request body")
    data = body[resource]
    if not isinstance(data, dict):
        raise bad_request(f"Invalid format: {data!r} is not a dictionary")
    unknown = sorted(k for k in data if k not in attrs)
    if unknown:
        raise bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    out: dict[str, Any] = {}
    for name, value in data.items():
        spec = attrs[name]
        if create and not spec.post:
            raise bad_request(f"Attribute '{name}' not allowed in POST")
        if not create and not spec.put:
            raise bad_request(f"Cannot update read-only attribute {name}")
        if spec.convert is not None:
            try:
                value = spec.convert(value)
            except (ValueError, TypeError) as exc:
                raise bad_request(f"Invalid input for {name}. Reason: {exc}.") from exc
        out[name] = value
    if create:
        for name, spec in attrs.items():
            if spec.required and name not in out:
                raise bad_request(
                    f"Failed to parse request. Required attribute '{name}' not specified"
                )
    return out


def bulk_bodies(body: Any, resource: str, collection: str) -> list[Any] | None:
    """The single bodies of a bulk create (``{collection: [...]}``), else None."""
    if isinstance(body, dict) and collection in body and resource not in body:
        items = body[collection]
        if not isinstance(items, list) or not items:
            raise bad_request(f"Resources required: '{collection}' must be a non-empty list")
        return [{resource: item} for item in items]
    return None


def check_attr_policies(
    authz: Authz,
    action: str,
    resource: str,
    attrs: dict[str, Attr],
    data: dict[str, Any],
    target: dict[str, Any],
) -> None:
    """Neutron's ``<action>_<resource>:<attr>`` rules for each explicitly set attribute.

    On create an attribute set to its default does not count as set (as in
    Neutron's ``_is_attribute_explicitly_set``).
    """
    enforcer = authz.enforcer
    for name, value in data.items():
        rule = f"{action}_{resource}:{name}"
        if rule not in enforcer.check_strs:
            continue
        spec = attrs.get(name)
        explicit_default = (
            spec is not None and spec.default is not MISSING and value == spec.default
        )
        if action == "create" and explicit_default:
            continue
        if not authz.allows(target, rule=rule):
            raise Forbidden(
                f"(rule:{action}_{resource} and rule:{rule}) is disallowed by policy",
                code="PolicyNotAuthorized",
            )


def enforce(authz: Authz, rule: str, target: dict[str, Any]) -> None:
    """The rule passes for ``target`` or 403 ``PolicyNotAuthorized``."""
    if not authz.allows(target, rule=rule):
        raise Forbidden(f"rule:{rule} is disallowed by policy", code="PolicyNotAuthorized")


def policy_target(item: dict[str, Any]) -> dict[str, Any]:
    """The dict policy rules see: the resource plus its hidden parent facts."""
    target = {k: v for k, v in item.items() if k != "_target"}
    target.update(item.get("_target", {}))
    return target


def visible(authz: Authz, rule: str, item: dict[str, Any]) -> bool:
    """True when the caller may read ``item`` (its ``get_*`` rule passes)."""
    return authz.allows(policy_target(item), rule=rule)


def ensure_visible(authz: Authz, rule: str, item: dict[str, Any], missing: NotFound) -> None:
    """Hide what the caller may not read behind the resource's own 404."""
    if not visible(authz, rule, item):
        raise missing


def enforce_action(
    authz: Authz, get_rule: str, rule: str, item: dict[str, Any], missing: NotFound
) -> None:
    """Neutron's update/delete check: 404 when not readable, 403 when not allowed."""
    ensure_visible(authz, get_rule, item, missing)
    enforce(authz, rule, policy_target(item))


def present(authz: Authz, resource: str, item: dict[str, Any]) -> dict[str, Any]:
    """The item as the caller may see it (``get_<resource>:<attr>`` rules applied)."""
    target = policy_target(item)
    out: dict[str, Any] = {}
    rules = authz.enforcer.check_strs
    for key, value in item.items():
        if key == "_target":
            continue
        rule = f"get_{resource}:{key}"
        if key != "tags" and rule in rules and not authz.allows(target, rule=rule):
            continue
        out[key] = value
    return out


def select_fields(request: Request, item: dict[str, Any]) -> dict[str, Any]:
    """Only the ``fields`` asked for (all when none)."""
    fields = request.query_params.getlist("fields")
    if not fields:
        return item
    wanted = {f for raw in fields for f in raw.split(",") if f}
    return {k: v for k, v in item.items() if k in wanted}


def show(request: Request, authz: Authz, resource: str, item: dict[str, Any]) -> dict[str, Any]:
    """``{resource: item}`` for a GET of one item."""
    return {resource: select_fields(request, present(authz, resource, item))}


# --- lists -----------------------------------------------------------------------------


def _as_bool(key: str, raw: str) -> bool:
    low = raw.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise bad_request(f"Invalid input for {key}. Reason: '{raw}' cannot be converted to boolean.")


def _matches(key: str, have: Any, raw: str) -> bool:
    if isinstance(have, bool):
        return have is _as_bool(key, raw)
    if isinstance(have, int):
        try:
            return have == int(raw)
        except ValueError:
            raise bad_request(
                f"Invalid input for {key}. Reason: '{raw}' is not an integer."
            ) from None
    if have is None:
        return raw in ("", "None", "none", "null")
    if isinstance(have, list):
        return raw in [str(v) for v in have]
    if isinstance(have, dict):
        return False
    return str(have) == raw


def _fixed_ip_filter(values: list[str]) -> dict[str, set[str]]:
    """``fixed_ips=ip_address=X&fixed_ips=subnet_id=Y`` as {key: accepted values}."""
    wanted: dict[str, set[str]] = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        if not sep or name not in ("ip_address", "subnet_id", "ip_address_substr"):
            raise bad_request(f"Invalid fixed_ips filter '{raw}'")
        wanted.setdefault(name, set()).add(value)
    return wanted


def _fixed_ips_match(ips: list[dict[str, str]], wanted: dict[str, set[str]]) -> bool:
    """One of the port's addresses satisfies every key (values of a key are alternatives)."""

    def fits(ip: dict[str, str]) -> bool:
        for name, values in wanted.items():
            if name == "ip_address_substr":
                if not any(v in ip["ip_address"] for v in values):
                    return False
            elif ip.get(name) not in values:
                return False
        return True

    return any(fits(ip) for ip in ips)


def _tag_filter(params: Any, item: dict[str, Any]) -> bool:
    tags = set(item.get("tags") or [])

    def wanted(name: str) -> set[str] | None:
        values = params.getlist(name)
        if not values:
            return None
        return {t for v in values for t in v.split(",") if t}

    if (want := wanted("tags")) is not None and not want <= tags:
        return False
    if (want := wanted("tags-any")) is not None and not want & tags:
        return False
    if (want := wanted("not-tags")) is not None and want <= tags:
        return False
    return not ((want := wanted("not-tags-any")) is not None and want & tags)


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool | int):
        return (1, int(value))
    if isinstance(value, str):
        return (2, value)
    return (3, str(value))


def _by(key: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda item: _sort_value(item.get(key))


def _link(request: Request, **changes: str) -> str:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    pairs += [(k, v) for k, v in changes.items() if v]
    query = urlencode(pairs)
    return str(request.url.replace(query=query))


def collection(
    request: Request,
    authz: Authz,
    resource: str,
    collection_name: str,
    items: Iterable[dict[str, Any]],
    *,
    known: Iterable[str],
    missing_marker: Callable[[str], NotFound] | None = None,
) -> dict[str, Any]:
    """A Neutron list: visible items, filtered, sorted, paginated, fields selected."""
    params = request.query_params
    rule = f"get_{resource}"
    known_set = set(known)
    shown = [present(authz, resource, i) for i in items if visible(authz, rule, i)]
    # Filters: any attribute; a repeated parameter matches any of its values.
    for key in {k for k in params if k not in LIST_PARAMS}:
        if key not in known_set:
            raise bad_request(f"[{key}] is invalid attribute for filtering")
        values = params.getlist(key)
        if key == "fixed_ips":
            wanted = _fixed_ip_filter(values)
            shown = [i for i in shown if _fixed_ips_match(i.get(key) or [], wanted)]
            continue
        shown = [i for i in shown if key in i and any(_matches(key, i[key], v) for v in values)]
    shown = [i for i in shown if _tag_filter(params, i)]
    # Sorting: sort_key/sort_dir pairs, id last so pages are stable.
    keys = params.getlist("sort_key")
    dirs = params.getlist("sort_dir")
    if dirs and len(dirs) != len(keys):
        raise bad_request("The number of sort_keys and sort_dirs must be same")
    for key in keys:
        if key not in known_set:
            raise bad_request(f"{key} is an invalid attribute for sort_key")
    for d in dirs:
        if d not in ("asc", "desc"):
            raise bad_request(
                f"{d} is an invalid value for sort_dir, valid values are 'asc' and 'desc'"
            )
    order = list(zip(keys, dirs or ["asc"] * len(keys), strict=True))
    if "id" not in keys:
        order.append(("id", "asc"))
    for key, direction in reversed(order):
        shown.sort(key=_by(key), reverse=direction == "desc")
    # Pagination: limit, marker, page_reverse.
    raw_limit = params.get("limit")
    limit = 0
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise bad_request(
                f"Limit must be an integer 0 or greater and not '{raw_limit}'"
            ) from None
        if limit < 0:
            raise bad_request(f"Limit must be an integer 0 or greater and not '{raw_limit}'")
    reverse = params.get("page_reverse", "false").lower() == "true"
    marker = params.get("marker")
    links: list[dict[str, str]] = []
    if limit or marker:
        seq = list(reversed(shown)) if reverse else shown
        if marker:
            ids = [i["id"] for i in seq]
            if marker not in ids:
                raise (missing_marker(marker) if missing_marker else NotFound(code="HTTPNotFound"))
            seq = seq[ids.index(marker) + 1 :]
        more = bool(limit) and len(seq) > limit
        page = seq[:limit] if limit else seq
        if reverse:
            page.reverse()
        shown = page
        forward_more, backward_more = (more, bool(marker)) if not reverse else (bool(marker), more)
        if shown and forward_more:
            links.append(
                {"rel": "next", "href": _link(request, marker=shown[-1]["id"], page_reverse="")}
            )
        if shown and backward_more:
            links.append(
                {
                    "rel": "previous",
                    "href": _link(request, marker=shown[0]["id"], page_reverse="True"),
                }
            )
    out: dict[str, Any] = {collection_name: [select_fields(request, i) for i in shown]}
    if links:
        out[f"{collection_name}_links"] = links
    return out


# --- callers ---------------------------------------------------------------------------


def database(request: Request) -> Database:
    """The service's database."""
    db: Database = request.app.state.db
    return db


def is_admin(authz: Authz) -> bool:
    """True when the caller passes Neutron's ``context_is_admin``."""
    return authz.allows({}, rule="context_is_admin")


def owner_of(authz: Authz, data: dict[str, Any]) -> str:
    """The project a new resource belongs to; only admins name another project."""
    project = data.get("project_id")
    tenant = data.get("tenant_id")
    if project is not None and tenant is not None and project != tenant:
        raise bad_request("Both tenant_id and project_id passed as filters.")
    wanted = project if project is not None else tenant
    own = authz.ctx.project_id or ""
    if wanted is not None and wanted != own and not is_admin(authz):
        raise bad_request(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project in "
            "request requires admin privileges"
        )
    owner = wanted if wanted is not None else own
    data.pop("tenant_id", None)
    data["project_id"] = owner
    return owner


def no_content() -> Response:
    """A 204 answer."""
    return Response(status_code=204)
