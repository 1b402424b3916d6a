"""/v2.0/agents (the ``agent`` extension): heartbeats in, admin-only list/show/update/delete.

The checks follow tempest's ``test_agent_management`` (list contains the first
agent, non-admin lists none, show, update admin_state_up and description,
delete of an unknown id is 404) plus Kumo's heartbeat route.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from kumo.agents.network.report import Heartbeat, configurations
from kumo.common.clients.base import ServiceSession
from kumo.network.service.agents import AgentStore
from tests.agents.network import netlab
from tests.api.network.conftest import Caller, error_type
from tests.conftest import SERVICE_PASSWORD, issue

TYPES = {"DHCP agent", "L3 agent", "Metadata agent", "Linux bridge agent"}


def _service(cloud: TestClient) -> Caller:
    return Caller(cloud, issue(cloud, "kumo", SERVICE_PASSWORD, project="service"))


def _report(service: Caller, agent_type: str, host: str = "host-1", **extra: Any) -> Any:
    body = {"agent_type": agent_type, "host": host, "configurations": {}, "started_at": 1.0e9}
    return service.post("/agents", {"agent": body | extra})


def _aliases(caller: Caller) -> set[str]:
    return {e["alias"] for e in caller.get("/extensions").json()["extensions"]}


def test_heartbeats_register_agents_that_admins_list(cloud: TestClient, admin: Caller) -> None:
    service = _service(cloud)
    assert admin.get("/agents").json() == {"agents": []}
    # No agent has reported: the extension is not advertised (tempest would find none).
    assert "agent" not in _aliases(admin)
    assert admin.get("/extensions/agent").status_code == 404
    for agent_type in sorted(TYPES):
        resp = _report(service, agent_type, configurations={"networks": 1})
        assert resp.status_code == 200, resp.text
    assert "agent" in _aliases(admin)
    agents = admin.get("/agents").json()["agents"]
    assert {a["agent_type"] for a in agents} == TYPES
    dhcp = next(a for a in agents if a["agent_type"] == "DHCP agent")
    assert dhcp["binary"] == "neutron-dhcp-agent" and dhcp["topic"] == "dhcp_agent"
    assert dhcp["host"] == "host-1" and dhcp["alive"] is True and dhcp["admin_state_up"] is True
    assert dhcp["configurations"] == {"networks": 1}
    assert dhcp["started_at"] == "2001-09-09 01:46:40"
    assert dhcp["availability_zone"] == "nova" and dhcp["description"] is None
    for key in ("created_at", "heartbeat_timestamp", "resources_synced", "id"):
        assert key in dhcp
    assert not any(k.startswith("_") for k in dhcp)
    # A second heartbeat updates the same agent (tempest compares list items minus it).
    _report(service, "DHCP agent", configurations={"networks": 2})
    again = admin.get(f"/agents/{dhcp['id']}").json()["agent"]
    assert again["configurations"] == {"networks": 2}
    for body in (dhcp, again):
        body.pop("heartbeat_timestamp")
        body.pop("configurations")
    assert again == dhcp
    assert len(admin.get("/agents").json()["agents"]) == 4
    # Filters, fields and sorting as on any Neutron list.
    only = admin.get("/agents", params={"agent_type": "L3 agent", "alive": "true"}).json()
    assert [a["binary"] for a in only["agents"]] == ["neutron-l3-agent"]
    fields = admin.get("/agents", params={"fields": ["id", "host"]}).json()["agents"]
    assert all(set(a) == {"id", "host"} for a in fields)
    assert admin.get("/agents", params={"bogus": "1"}).status_code == 400


def test_agents_are_admin_only(cloud: TestClient, admin: Caller, demo: Caller) -> None:
    service = _service(cloud)
    agent = _report(service, "L3 agent").json()["agent"]
    resp = demo.get("/agents")
    assert resp.status_code == 200 and resp.json() == {"agents": []}
    for resp in (
        demo.get(f"/agents/{agent['id']}"),
        demo.put(f"/agents/{agent['id']}", {"agent": {"description": "mine"}}),
        demo.delete(f"/agents/{agent['id']}"),
    ):
        assert resp.status_code == 404, resp.text
        assert error_type(resp) == "AgentNotFound"
    # Only the service user reports heartbeats.
    resp = _report(demo, "L3 agent", host="fake-host")
    assert resp.status_code == 403 and error_type(resp) == "PolicyNotAuthorized"
    resp = _report(admin, "L3 agent", host="fake-host")
    assert resp.status_code == 403
    assert admin.get(f"/agents/{agent['id']}").json()["agent"]["description"] is None


def test_update_and_delete(cloud: TestClient, admin: Caller) -> None:
    service = _service(cloud)
    agent = _report(service, "DHCP agent").json()["agent"]
    path = f"/agents/{agent['id']}"
    resp = admin.put(path, {"agent": {"admin_state_up": False, "description": "rack 4"}})
    assert resp.status_code == 200, resp.text
    body = resp.json()["agent"]
    assert body["admin_state_up"] is False and body["description"] == "rack 4"
    assert admin.get(path).json()["agent"]["admin_state_up"] is False
    # The next heartbeat keeps what the admin set.
    _report(service, "DHCP agent")
    assert admin.get(path).json()["agent"]["description"] == "rack 4"
    assert admin.put(path, {"agent": {"description": None}}).json()["agent"]["description"] is None
    for bad in (
        {"agent": {"host": "elsewhere"}},
        {"agent": {"alive": False}},
        {"agent": {"admin_state_up": "maybe"}},
        {"agent": {"description": "x" * 256}},
        {"agent": {"description": 5}},
        {"agent": []},
        {"nothing": {}},
        None,
    ):
        resp = admin.put(path, bad)
        assert resp.status_code == 400, (bad, resp.text)
        assert error_type(resp) == "HTTPBadRequest"
    missing = "/agents/00000000-0000-4000-8000-000000000000"
    assert error_type(admin.put(missing, {"agent": {"description": "x"}})) == "AgentNotFound"
    assert admin.delete(missing).status_code == 404
    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404
    # A deleted agent comes back, with a new id, at its next heartbeat (as in Neutron).
    back = _report(service, "DHCP agent").json()["agent"]
    assert back["id"] != agent["id"] and back["admin_state_up"] is True


def test_heartbeat_bodies_are_validated(cloud: TestClient) -> None:
    service = _service(cloud)
    for body in (
        {"agent": {"agent_type": "Open vSwitch agent", "host": "h", "started_at": 1}},
        {"agent": {"agent_type": "L3 agent", "host": "", "started_at": 1}},
        {"agent": {"agent_type": "L3 agent", "host": 7, "started_at": 1}},
        {"agent": {"agent_type": "L3 agent", "host": "h", "started_at": "yesterday"}},
        {"agent": {"agent_type": "L3 agent", "host": "h", "started_at": True}},
        {"agent": {"agent_type": "L3 agent", "host": "h", "started_at": -5}},
        {"agent": {"agent_type": "L3 agent", "host": "h", "started_at": 1, "configurations": []}},
        {"agent": {"agent_type": "L3 agent", "host": "h", "started_at": 1, "alive": True}},
        {"agent": "L3 agent"},
        [],
    ):
        resp = service.post("/agents", body)
        assert resp.status_code == 400, (body, resp.text)
        assert error_type(resp) == "HTTPBadRequest"


def test_alive_follows_the_heartbeat(tmp_path: Any) -> None:
    now = [1000.0]
    store = AgentStore(tmp_path, down_time=75, clock=lambda: now[0])
    agent = store.report("h", "Metadata agent", {}, started_at=900.0)
    assert agent["alive"] is True and agent["topic"] == "N/A"
    assert agent["availability_zone"] is None
    now[0] += 75
    assert store.get(agent["id"])["alive"] is True
    now[0] += 1
    assert store.get(agent["id"])["alive"] is False
    assert store.list()[0]["alive"] is False
    store.report("h", "Metadata agent", {}, started_at=900.0)
    assert store.get(agent["id"])["alive"] is True


async def test_the_agents_heartbeat_reports_its_work(cloud: TestClient, ident: Any) -> None:
    topo = netlab.topology()
    session = ServiceSession(ident.settings, transport=httpx.ASGITransport(app=cloud.app))
    try:
        beat = Heartbeat(session, "net-host", lambda: topo.state, interval=3600)
        await beat.beat()
    finally:
        await session.close()
    admin = Caller(cloud, issue(cloud))
    agents = {a["agent_type"]: a for a in admin.get("/agents").json()["agents"]}
    assert set(agents) == TYPES and all(a["host"] == "net-host" for a in agents.values())
    assert agents["DHCP agent"]["configurations"]["networks"] == 1
    l3 = agents["L3 agent"]["configurations"]
    assert (l3["routers"], l3["interfaces"], l3["floating_ips"], l3["ex_gw_ports"]) == (1, 1, 1, 1)
    assert agents["Linux bridge agent"]["configurations"]["devices"] == 2
    assert configurations(None)["L3 agent"]["routers"] == 0
