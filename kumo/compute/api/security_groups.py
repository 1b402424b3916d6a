"""/os-security-groups, /os-security-group-rules and /servers/{id}/os-security-groups.

Nova's nova-network proxy (up to microversion 2.35, then 404): every call goes to
the networking API with the caller's token (:mod:`kumo.compute.service.network_proxy`)
and the groups come back in nova-network's shape: ``tenant_id``, ingress rules only,
each with ``ip_protocol``/``from_port``/``to_port`` and either ``ip_range`` or ``group``.
Neutron's errors become Nova's: a group in use (409) is 400, over quota (409) is 403.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from kumo.common.api import Authz, AuthzDep, route
from kumo.common.context import RequestContext
from kumo.common.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    KumoError,
    NotFound,
    OverQuota,
)
from kumo.compute.api.network_proxy_common import (
    admit,
    json_body,
    open_proxy,
    proxy,
    proxy_version,
)
from kumo.compute.api.paging import non_negative_int
from kumo.compute.api.server_common import is_admin, load_server
from kumo.compute.service.network_proxy import RULE_PROTOCOLS, NeutronProxy, is_uuid, valid_cidr

router = APIRouter()
BASE = "/v2.1/os-security-groups"
RULES_BASE = "/v2.1/os-security-group-rules"
SG = "os_compute_api:os-security-groups:%s"


# --- views ------------------------------------------------------------------


def _ports(rule: dict[str, Any]) -> tuple[int | None, int | None]:
    lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
    proto = rule.get("protocol")
    if proto and lo is None and hi is None:
        # nova-network had no "any port": Nova shows the full range (or -1 for ICMP).
        return (1, 65535) if str(proto).upper() in ("TCP", "UDP") else (-1, -1)
    return lo, hi


async def _rule_view(
    p: NeutronProxy,
    ctx: RequestContext,
    rule: dict[str, Any],
    groups: dict[str, dict[str, Any]],
) -> dict[str, Any] | None:
    lo, hi = _ports(rule)
    view: dict[str, Any] = {
        "id": rule["id"],
        "parent_group_id": rule["security_group_id"],
        "ip_protocol": rule.get("protocol"),
        "from_port": lo,
        "to_port": hi,
        "group": {},
        "ip_range": {},
    }
    remote = rule.get("remote_group_id")
    if remote:
        source = groups.get(str(remote))
        if source is None:
            try:
                source = await p.security_group(ctx, str(remote))
            except NotFound:
                return None  # deleted meanwhile: Nova leaves the rule out
            groups[str(remote)] = source
        view["group"] = {"name": source.get("name"), "tenant_id": source.get("project_id")}
    else:
        view["ip_range"] = {"cidr": rule.get("remote_ip_prefix") or "0.0.0.0/0"}
    return view


async def _group_view(
    p: NeutronProxy,
    ctx: RequestContext,
    group: dict[str, Any],
    groups: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    known = groups if groups is not None else {str(group["id"]): group}
    rules = []
    for rule in group.get("security_group_rules") or []:
        if rule.get("direction") != "ingress":
            continue  # nova-network groups had ingress rules only
        view = await _rule_view(p, ctx, rule, known)
        if view is not None:
            rules.append(view)
    return {
        "id": group["id"],
        "name": group.get("name", ""),
        "description": group.get("description") or "",
        "tenant_id": group.get("project_id") or group.get("tenant_id", ""),
        "rules": rules,
    }


def _sorted(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(views, key=lambda g: (g["tenant_id"], g["name"]))


def _group_id(value: str) -> str:
    if not is_uuid(value):
        raise BadRequest("Security group id should be uuid")
    return value


async def _get_group(p: NeutronProxy, ctx: RequestContext, group_id: str) -> dict[str, Any]:
    try:
        return await p.security_group(ctx, _group_id(group_id))
    except NotFound:
        raise NotFound(f"Security group {group_id} not found.") from None


def _property(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input received: {name} has to be a string.")
    if len(value) > 255:
        raise BadRequest(f"Invalid input received: {name} has more than 255 characters.")
    return value


def _body_object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        raise BadRequest(f"Missing parameter {key}")
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input received: {key} has to be an object.")
    return value


async def _group_body(request: Request) -> dict[str, Any]:
    """The ``name`` and ``description`` of a create or update body, checked."""
    data = _body_object(await json_body(request), "security_group")
    return {"name": _property(data, "name"), "description": _property(data, "description")}


# --- security groups ----------------------------------------------------------


@route(router, "GET", BASE, policy=SG % "get")
async def list_security_groups(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """The project's groups (every project's for admins with ``all_tenants``)."""
    p, ctx = open_proxy(request, authz), authz.ctx
    params: dict[str, Any] = {}
    if not ("all_tenants" in request.query_params and is_admin(authz)):
        params["project_id"] = ctx.project_id
    groups = await p.security_groups(ctx, params)
    known = {str(g["id"]): g for g in groups}
    views = [await _group_view(p, ctx, g, known) for g in groups]
    views = _sorted(views)
    offset = _int_param(request, "offset", 0)
    limit = _int_param(request, "limit", len(views))
    return {"security_groups": views[offset : offset + limit]}


def _int_param(request: Request, name: str, default: int) -> int:
    value = non_negative_int(request.query_params, name)
    return default if value is None else value


@route(router, "GET", BASE + "/{group_id}", policy=SG % "show")
async def show_security_group(
    group_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """One group with its ingress rules."""
    p = open_proxy(request, authz)
    group = await _get_group(p, authz.ctx, group_id)
    return {"security_group": await _group_view(p, authz.ctx, group)}


@route(router, "POST", BASE, policy=SG % "create")
async def create_security_group(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """A new group in the caller's project (Neutron adds its default egress rules)."""
    admit(request, authz)
    body = await _group_body(request)
    p = proxy(request)
    try:
        created = await p.call(authz.ctx, "POST", "/security-groups", json={"security_group": body})
    except (Conflict, OverQuota) as exc:
        # Neutron's quota refusal: Nova's SecurityGroupLimitExceeded is 403.
        raise Forbidden(_neutron_message(exc)) from None
    except BadRequest as exc:
        raise BadRequest(_neutron_message(exc)) from None
    return {"security_group": await _group_view(p, authz.ctx, created["security_group"])}


@route(router, "PUT", BASE + "/{group_id}", policy=SG % "update")
async def update_security_group(
    group_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Rename a group or change its description."""
    p = open_proxy(request, authz)
    group = await _get_group(p, authz.ctx, group_id)
    body = await _group_body(request)
    try:
        updated = await p.call(
            authz.ctx, "PUT", f"/security-groups/{group['id']}", json={"security_group": body}
        )
    except NotFound:
        raise NotFound(f"Security group {group_id} not found.") from None
    except (BadRequest, Conflict) as exc:
        raise BadRequest(_neutron_message(exc)) from None
    return {"security_group": await _group_view(p, authz.ctx, updated["security_group"])}


@route(router, "DELETE", BASE + "/", policy=SG % "delete", status_code=202)
async def delete_security_group_without_id(request: Request, authz: Authz = AuthzDep) -> Response:
    """No group named: 404, as Nova's router answers (not 405)."""
    admit(request, authz)
    raise NotFound("The resource could not be found.")


@route(router, "DELETE", BASE + "/{group_id}", policy=SG % "delete", status_code=202)
async def delete_security_group(
    group_id: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Delete a group; one still used by a port (or ``default``) is 400, as in Nova."""
    p = open_proxy(request, authz)
    group = await _get_group(p, authz.ctx, group_id)
    try:
        await p.call(authz.ctx, "DELETE", f"/security-groups/{group['id']}")
    except NotFound:
        raise NotFound(f"Security group {group_id} not found.") from None
    except (Conflict, BadRequest) as exc:
        raise BadRequest(_neutron_message(exc)) from None
    return Response(status_code=202)


def _neutron_message(exc: KumoError) -> str:
    # The session prefixes what it asked for ("network: …"); Nova shows Neutron's text.
    return exc.message.split(": ", 1)[-1]


# --- rules --------------------------------------------------------------------


def _ingress_rule(sg_rule: dict[str, Any], group_id: str | None) -> dict[str, Any] | None:
    """Nova's ``_new_ingress_rule``: the rule's protocol, ports and source, checked."""
    proto = sg_rule.get("ip_protocol")
    lo, hi = sg_rule.get("from_port"), sg_rule.get("to_port")
    values: dict[str, Any] = {}
    if group_id:
        values["group_id"] = group_id
        upper = str(proto).upper() if proto else ""
        if upper == "ICMP" and lo is None and hi is None:
            lo, hi = -1, -1
        elif upper in ("TCP", "UDP") and lo is None and hi is None:
            lo, hi = 1, 65535
    else:
        cidr = sg_rule.get("cidr") or "0.0.0.0/0"
        if not isinstance(cidr, str) or not valid_cidr(cidr):
            raise BadRequest(f"Invalid cidr {cidr}.")
        values["cidr"] = cidr  # as given: Neutron decides how it stores it
    if proto and lo is not None and hi is not None:
        upper = str(proto).upper()
        try:
            lo, hi = int(lo), int(hi)
        except (TypeError, ValueError):
            if upper == "ICMP":
                raise BadRequest(
                    "Invalid input received: Type and Code must be integers for ICMP protocol type"
                ) from None
            raise BadRequest("Invalid input received: To and From ports must be integers") from None
        if upper not in RULE_PROTOCOLS:
            raise BadRequest(f"Invalid IP protocol {proto}.")
        if upper in ("TCP", "UDP") and lo > hi:
            raise BadRequest(
                f"Invalid port range {lo}:{hi}. Former value cannot be greater than the later"
            )
        if upper in ("TCP", "UDP") and (lo < 1 or hi > 65535):
            raise BadRequest(
                f"Invalid port range {lo}:{hi}. Valid {upper} ports should be between 1-65535"
            )
        if upper == "ICMP" and not (-1 <= lo <= 255 and -1 <= hi <= 255):
            raise BadRequest(f"Invalid port range {lo}:{hi}. For ICMP, the type:code must be valid")
        values.update(protocol=str(proto), from_port=lo, to_port=hi)
    elif not group_id:
        return None  # a CIDR rule needs its protocol and ports
    return values


def _exists(group: dict[str, Any], new: dict[str, Any]) -> bool:
    for rule in group.get("security_group_rules") or []:
        if rule.get("direction") != "ingress":
            continue
        lo, hi = _ports(rule)
        have = {
            "group_id": rule.get("remote_group_id"),
            "cidr": rule.get("remote_ip_prefix")
            or (None if rule.get("remote_group_id") else "0.0.0.0/0"),
            "protocol": (rule.get("protocol") or None),
            "from_port": lo,
            "to_port": hi,
        }
        want = {
            "group_id": new.get("group_id"),
            "cidr": new.get("cidr"),
            "protocol": str(new["protocol"]).lower() if new.get("protocol") else None,
            "from_port": new.get("from_port"),
            "to_port": new.get("to_port"),
        }
        have["protocol"] = str(have["protocol"]).lower() if have["protocol"] else None
        for side in (have, want):
            if side["cidr"]:
                side["cidr"] = str(ipaddress.ip_network(side["cidr"], strict=False))
        if have == want:
            return True
    return False


@route(router, "POST", RULES_BASE, policy=SG % "rule:create")
async def create_security_group_rule(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """An ingress rule in a group: a CIDR or a source group, a protocol and ports."""
    p, ctx = open_proxy(request, authz), authz.ctx
    sg_rule = _body_object(await json_body(request), "security_group_rule")
    parent_id = sg_rule.get("parent_group_id")
    if not isinstance(parent_id, str):
        raise BadRequest("Security group id should be uuid")
    parent = await _get_group(p, ctx, parent_id)
    source_id = sg_rule.get("group_id")
    source = None
    if source_id is not None:
        if not isinstance(source_id, str):
            raise BadRequest("Security group id should be uuid")
        source = await _get_group(p, ctx, source_id)
    new = _ingress_rule(sg_rule, str(source["id"]) if source else None)
    if new is None:
        raise BadRequest("Not enough parameters to build a valid rule.")
    if "cidr" in new:
        address, prefix = str(new["cidr"]).split("/", 1)
        if prefix == "0" and not ipaddress.ip_address(address).is_unspecified:
            raise BadRequest(f"Bad prefix for network in cidr {new['cidr']}")
    if _exists(parent, new):
        raise BadRequest(f"This rule already exists in group {parent['id']}")
    body: dict[str, Any] = {
        "direction": "ingress",
        "security_group_id": parent["id"],
        "protocol": str(new["protocol"]).lower() if new.get("protocol") else None,
        "remote_group_id": new.get("group_id"),
        "remote_ip_prefix": new.get("cidr"),
        "ethertype": "IPv6" if ":" in str(new.get("cidr") or "") else "IPv4",
    }
    if new.get("from_port") not in (None, -1):
        body["port_range_min"] = new["from_port"]
    if new.get("to_port") not in (None, -1):
        body["port_range_max"] = new["to_port"]
    try:
        created = await p.call(
            ctx, "POST", "/security-group-rules", json={"security_group_rule": body}
        )
    except NotFound as exc:
        raise NotFound(_neutron_message(exc)) from None
    except (Conflict, OverQuota) as exc:
        if exc.code == "SecurityGroupRuleExists":
            raise BadRequest(f"This rule already exists in group {parent['id']}") from None
        raise Forbidden(_neutron_message(exc)) from None
    except BadRequest as exc:
        raise BadRequest(_neutron_message(exc)) from None
    groups = {str(parent["id"]): parent}
    if source is not None:
        groups[str(source["id"])] = source
    view = await _rule_view(p, ctx, created["security_group_rule"], groups)
    return {"security_group_rule": view}


@route(router, "DELETE", RULES_BASE + "/{rule_id}", policy=SG % "rule:delete", status_code=202)
async def delete_security_group_rule(
    rule_id: str, request: Request, authz: Authz = AuthzDep
) -> Response:
    """Delete one rule."""
    admit(request, authz)
    if not is_uuid(rule_id):
        raise BadRequest("Security group id should be uuid")
    p = proxy(request)
    try:
        await p.call(authz.ctx, "GET", f"/security-group-rules/{rule_id}")
        await p.call(authz.ctx, "DELETE", f"/security-group-rules/{rule_id}")
    except NotFound:
        raise NotFound(f"Security group rule {rule_id} not found.") from None
    except Conflict as exc:
        raise Conflict(_neutron_message(exc)) from None
    return Response(status_code=202)


# --- a server's groups --------------------------------------------------------


@route(router, "GET", "/v2.1/servers/{server_id}/os-security-groups", policy=SG % "list")
async def list_server_security_groups(
    server_id: str, request: Request, authz: Authz = AuthzDep
) -> dict[str, Any]:
    """The groups on the server's ports (what Neutron enforces for it)."""
    proxy_version(request)

    def find() -> None:
        with request.app.state.db.reader() as s:
            load_server(s, authz, server_id)

    await run_in_threadpool(find)
    p = proxy(request)
    groups = await p.server_security_groups(authz.ctx, server_id)
    known = {str(g["id"]): g for g in groups}
    return {"security_groups": _sorted([await _group_view(p, authz.ctx, g, known) for g in groups])}


#: (caller, server uuid, group name, add?) → the group added to/removed from its ports.
PortGroups = Callable[[RequestContext, str, str, bool], Awaitable[None]]


def port_groups(request: Request) -> PortGroups:
    """What the ``addSecurityGroup``/``removeSecurityGroup`` actions do to the server's ports.

    The networking API by default (tests put a fake on ``app.state.security_group_ports``).
    """
    hook = getattr(request.app.state, "security_group_ports", None)
    if hook is not None:
        found: PortGroups = hook
        return found
    p = proxy(request)

    async def apply(ctx: RequestContext, server_id: str, name: str, add: bool) -> None:
        # Nova changes the ports, so the group is enforced and cannot be deleted while
        # in use. A server without ports (``networks: none``) has nothing to change.
        if not await p.server_ports(ctx, server_id):
            return
        try:
            await p.change_server_security_group(ctx, server_id, name, add=add)
        except NotFound:
            if add:
                raise
            # The server's record listed the group (checked before), its ports did not.
        except Conflict as exc:
            raise Conflict(_neutron_message(exc)) from None

    return apply
