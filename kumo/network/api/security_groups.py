"""/v2.0/security-groups and /v2.0/security-group-rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import notify
from kumo.network.service import security_groups as sgs
from kumo.network.service import validate as v

router = APIRouter()

ATTRS: dict[str, Attr] = {
    "name": Attr(convert=v.string(255), default=""),
    "description": Attr(convert=v.string(255), default=""),
    "stateful": Attr(convert=v.to_bool, default=True),
    "tags": Attr(put=False, convert=v.tags),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{
        name: Attr(post=False, put=False)
        for name in (
            "id",
            "security_group_rules",
            "shared",
            "revision_number",
            "created_at",
            "updated_at",
        )
    },
}
FIELDS = list(ATTRS)


def _port(value: Any) -> int | None:
    # The range is checked with the protocol (ports vs ICMP type/code), in Neutron's words.
    if value is None:
        return None
    return v.integer()(value)


def _protocol(value: Any) -> Any:
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"'{value}' is not a valid protocol")


RULE_ATTRS: dict[str, Attr] = {
    "security_group_id": Attr(put=False, required=True, convert=v.uuid_str),
    "direction": Attr(put=False, required=True, convert=v.one_of("ingress", "egress")),
    "ethertype": Attr(put=False, convert=v.one_of("IPv4", "IPv6"), default="IPv4"),
    "protocol": Attr(put=False, convert=_protocol),
    "port_range_min": Attr(put=False, convert=_port),
    "port_range_max": Attr(put=False, convert=_port),
    "remote_ip_prefix": Attr(put=False, convert=v.optional(v.ip_prefix)),
    # Neutron does not validate the form: an unknown id (UUID or not) is a 404.
    "remote_group_id": Attr(put=False, convert=v.optional(v.string(255))),
    "remote_address_group_id": Attr(put=False, convert=v.one_of(None)),
    "description": Attr(put=False, convert=v.string(255), default=""),
    "project_id": Attr(put=False, convert=v.string(255)),
    "tenant_id": Attr(put=False, convert=v.string(255)),
    **{
        name: Attr(post=False, put=False)
        for name in ("id", "revision_number", "created_at", "updated_at")
    },
}
RULE_FIELDS = list(RULE_ATTRS)


def _get(request: Request, authz: Authz, sg_id: str) -> dict[str, Any]:
    item = sgs.get_group(common.database(request), sg_id)
    common.ensure_visible(authz, "get_security_group", item, sgs.not_found(sg_id))
    return item


@route(router, "POST", "/v2.0/security-groups", policy="create_security_group", status_code=201)
def create_security_group(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Create a group (with egress-any rules)."""
    data = common.parse_body(body, "security_group", ATTRS, create=True)
    common.owner_of(authz, data)
    common.enforce(authz, "create_security_group", data)
    item = sgs.create_group(common.database(request), data["project_id"], data)
    return {"security_group": common.present(authz, "security_group", item)}


@route(router, "GET", "/v2.0/security-groups", policy="get_security_group")
def list_security_groups(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The caller's groups (the ``default`` group appears on first use)."""
    items = sgs.list_groups(common.database(request), authz.ctx.project_id)
    return common.collection(
        request,
        authz,
        "security_group",
        "security_groups",
        items,
        known=FIELDS,
        missing_marker=sgs.not_found,
    )


@route(router, "GET", "/v2.0/security-groups/{sg_id}", policy="get_security_group")
def show_security_group(sg_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One group with its rules."""
    return common.show(request, authz, "security_group", _get(request, authz, sg_id))


@route(router, "PUT", "/v2.0/security-groups/{sg_id}", policy="update_security_group")
def update_security_group(
    sg_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Rename or re-describe a group."""
    data = common.parse_body(body, "security_group", ATTRS, create=False)
    item = sgs.get_group(common.database(request), sg_id)
    common.enforce_action(
        authz, "get_security_group", "update_security_group", item, sgs.not_found(sg_id)
    )
    item = sgs.update_group(common.database(request), sg_id, data)
    return {"security_group": common.present(authz, "security_group", item)}


@route(
    router,
    "DELETE",
    "/v2.0/security-groups/{sg_id}",
    policy="delete_security_group",
    status_code=204,
)
def delete_security_group(sg_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a group that no port uses (never the default one, unless admin)."""
    item = sgs.get_group(common.database(request), sg_id)
    common.enforce_action(
        authz, "get_security_group", "delete_security_group", item, sgs.not_found(sg_id)
    )
    sgs.delete_group(common.database(request), sg_id, common.is_admin(authz))
    notify.publish_from_thread(request.app.state, "security_group", "delete", sg_id)
    return common.no_content()


# --- rules -----------------------------------------------------------------------------


@route(
    router,
    "POST",
    "/v2.0/security-group-rules",
    policy="create_security_group_rule",
    status_code=201,
)
def create_security_group_rule(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Add a rule to a group."""
    bulk = common.bulk_bodies(body, "security_group_rule", "security_group_rules")
    if bulk is not None:
        return {"security_group_rules": [_create_rule(request, authz, b) for b in bulk]}
    return {"security_group_rule": _create_rule(request, authz, body)}


def _create_rule(request: Request, authz: Authz, body: Any) -> dict[str, Any]:
    data = common.parse_body(body, "security_group_rule", RULE_ATTRS, create=True)
    common.owner_of(authz, data)
    db = common.database(request)
    group = sgs.get_group(db, data["security_group_id"])
    common.ensure_visible(
        authz, "get_security_group", group, sgs.not_found(data["security_group_id"])
    )
    target = {**data, "security_group:project_id": group["project_id"]}
    common.enforce(authz, "create_security_group_rule", target)
    if data.get("remote_group_id"):
        remote = sgs.get_group(db, data["remote_group_id"])
        common.ensure_visible(
            authz, "get_security_group", remote, sgs.not_found(data["remote_group_id"])
        )
    if not common.is_admin(authz):
        data["project_id"] = group["project_id"]
    item = sgs.create_rule(db, data["project_id"], data)
    # The data plane applies rule changes within a second of the API call.
    notify.publish_from_thread(request.app.state, "security_group_rule", "create", item["id"], item)
    return common.present(authz, "security_group_rule", item)


@route(router, "GET", "/v2.0/security-group-rules", policy="get_security_group_rule")
def list_security_group_rules(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Rules of the groups the caller owns (admins: all)."""
    db = common.database(request)
    if authz.ctx.project_id:
        sgs.ensure_default_committed(db, authz.ctx.project_id)
    return common.collection(
        request,
        authz,
        "security_group_rule",
        "security_group_rules",
        sgs.list_rules(db),
        known=RULE_FIELDS,
        missing_marker=sgs.rule_not_found,
    )


@route(router, "GET", "/v2.0/security-group-rules/{rule_id}", policy="get_security_group_rule")
def show_security_group_rule(
    rule_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One rule."""
    item = sgs.get_rule(common.database(request), rule_id)
    common.ensure_visible(authz, "get_security_group_rule", item, sgs.rule_not_found(rule_id))
    return common.show(request, authz, "security_group_rule", item)


@route(
    router,
    "DELETE",
    "/v2.0/security-group-rules/{rule_id}",
    policy="delete_security_group_rule",
    status_code=204,
)
def delete_security_group_rule(rule_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Delete a rule."""
    item = sgs.get_rule(common.database(request), rule_id)
    common.enforce_action(
        authz,
        "get_security_group_rule",
        "delete_security_group_rule",
        item,
        sgs.rule_not_found(rule_id),
    )
    sgs.delete_rule(common.database(request), rule_id)
    notify.publish_from_thread(request.app.state, "security_group_rule", "delete", rule_id, item)
    return common.no_content()
