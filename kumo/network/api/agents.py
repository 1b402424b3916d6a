"""/v2.0/agents (the ``agent`` extension): list, show, update, delete.

The records come from each host's network agent heartbeat, a ``POST`` by the
service user (:mod:`kumo.network.service.agents`). Admin only, as in Neutron:
another caller lists nothing and gets ``AgentNotFound`` for any id.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from kumo.common.api import Authz, AuthzDep, route
from kumo.network.api import common
from kumo.network.api.common import Attr
from kumo.network.service import validate as v
from kumo.network.service.agents import AGENT_TYPES, AgentStore, not_found

router = APIRouter()


def _description(value: Any) -> str | None:
    return None if value is None else v.string(255)(value)


ATTRS: dict[str, Attr] = {
    "admin_state_up": Attr(convert=v.to_bool),
    "description": Attr(convert=_description),
    **{
        name: Attr(post=False, put=False)
        for name in (
            "id",
            "agent_type",
            "binary",
            "topic",
            "host",
            "alive",
            "availability_zone",
            "configurations",
            "created_at",
            "started_at",
            "heartbeat_timestamp",
            "resources_synced",
        )
    },
}


def store(request: Request) -> AgentStore:
    """This cloud's agent records."""
    settings = request.app.state.settings
    return AgentStore(settings.state_dir, down_time=settings.network_agent_down_time)


@route(router, "GET", "/v2.0/agents", policy="get_agent")
def list_agents(request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """Every agent the caller may see (filters, sorting, pagination, fields)."""
    return common.collection(
        request,
        authz,
        "agent",
        "agents",
        store(request).list(),
        known=ATTRS,
        missing_marker=not_found,
    )


def _report(body: Any) -> tuple[str, str, dict[str, Any], float]:
    """(agent type, host, configurations, started_at) of a heartbeat body; 400 if malformed."""
    common.storable(body)
    data = body.get("agent") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise common.bad_request("Unable to find 'agent' in request body")
    unknown = sorted(set(data) - {"agent_type", "host", "configurations", "started_at"})
    if unknown:
        raise common.bad_request(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    agent_type = data.get("agent_type")
    if agent_type not in AGENT_TYPES:
        raise common.bad_request(
            f"Invalid input for agent_type. Reason: '{agent_type}' is not in {sorted(AGENT_TYPES)}."
        )
    try:
        host = v.string(255)(data.get("host"))
    except ValueError as exc:
        raise common.bad_request(f"Invalid input for host. Reason: {exc}.") from exc
    if not host:
        raise common.bad_request("Invalid input for host. Reason: it is empty.")
    configurations = data.get("configurations", {})
    if not isinstance(configurations, dict):
        raise common.bad_request("Invalid input for configurations. Reason: not a dictionary.")
    started = data.get("started_at")
    if isinstance(started, bool) or not isinstance(started, int | float):
        raise common.bad_request("Invalid input for started_at. Reason: not a number.")
    if not math.isfinite(started) or started < 0:
        raise common.bad_request("Invalid input for started_at. Reason: out of range.")
    return str(agent_type), host, configurations, float(started)


@route(router, "POST", "/v2.0/agents", policy="report_agent_state")
def report_agent_state(
    request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """A network agent's heartbeat (Kumo's replacement for Neutron's ``report_state`` RPC).

    Only the service user calls it; the agent appears, or stays alive, in the list.
    """
    common.enforce(authz, "report_agent_state", {})
    agent_type, host, configurations, started = _report(body)
    agent = store(request).report(host, agent_type, configurations, started_at=started)
    return {"agent": agent}


@route(router, "GET", "/v2.0/agents/{agent_id}", policy="get_agent")
def show_agent(agent_id: str, request: Request, authz: Authz = AuthzDep) -> dict[str, Any]:
    """One agent."""
    agent = store(request).get(agent_id)
    common.ensure_visible(authz, "get_agent", agent, not_found(agent_id))
    return common.show(request, authz, "agent", agent)


@route(router, "PUT", "/v2.0/agents/{agent_id}", policy="update_agent")
def update_agent(
    agent_id: str, request: Request, body: Any = Body(None), authz: Authz = AuthzDep
) -> dict[str, Any]:
    """Set ``admin_state_up`` or ``description``."""
    # The body is checked first, as for every other resource: a malformed one is 400.
    changes = common.parse_body(body, "agent", ATTRS, create=False)
    agents = store(request)
    common.enforce_action(
        authz, "get_agent", "update_agent", agents.get(agent_id), not_found(agent_id)
    )
    return common.show(request, authz, "agent", agents.update(agent_id, changes))


@route(router, "DELETE", "/v2.0/agents/{agent_id}", policy="delete_agent", status_code=204)
def delete_agent(agent_id: str, request: Request, authz: Authz = AuthzDep) -> Response:
    """Forget an agent (it registers again at its next heartbeat)."""
    agents = store(request)
    common.enforce_action(
        authz, "get_agent", "delete_agent", agents.get(agent_id), not_found(agent_id)
    )
    agents.delete(agent_id)
    return common.no_content()
