"""Security groups and rules, and the per-project ``default`` group."""

from __future__ import annotations

from typing import Any

from tests.api.network.conftest import Caller, error_type


def _default(caller: Caller) -> dict[str, Any]:
    groups = caller.get("/security-groups?name=default").json()["security_groups"]
    assert len(groups) == 1
    group: dict[str, Any] = groups[0]
    return group


def test_default_group_has_neutrons_rules(demo: Caller) -> None:
    sg = _default(demo)
    rules = {
        (r["direction"], r["ethertype"], r["remote_group_id"], r["protocol"])
        for r in sg["security_group_rules"]
    }
    assert rules == {
        ("ingress", "IPv4", sg["id"], None),
        ("ingress", "IPv6", sg["id"], None),
        ("egress", "IPv4", None, None),
        ("egress", "IPv6", None, None),
    }
    assert _default(demo)["id"] == sg["id"]  # created once
    resp = demo.delete(f"/security-groups/{sg['id']}")
    assert resp.status_code == 409 and error_type(resp) == "SecurityGroupCannotRemoveDefault"
    resp = demo.put(f"/security-groups/{sg['id']}", {"security_group": {"name": "other"}})
    assert resp.status_code == 409


def test_create_group_with_egress_rules(demo: Caller) -> None:
    sg = demo.create("security-groups", "security_group", name="web", description="d")
    assert sg["name"] == "web" and sg["stateful"] is True
    assert sorted(r["ethertype"] for r in sg["security_group_rules"]) == ["IPv4", "IPv6"]
    assert all(r["direction"] == "egress" for r in sg["security_group_rules"])
    resp = demo.post("/security-groups", {"security_group": {"name": "default"}})
    assert resp.status_code == 409


def _rule(caller: Caller, **attrs: Any) -> Any:
    return caller.post("/security-group-rules", {"security_group_rule": attrs})


def test_rule_validation(demo: Caller) -> None:
    sg = demo.create("security-groups", "security_group", name="rules")
    sid = sg["id"]
    ok = _rule(
        demo,
        security_group_id=sid,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="10.0.0.0/8",
    )
    assert ok.status_code == 201
    rule = ok.json()["security_group_rule"]
    assert rule["protocol"] == "tcp" and rule["ethertype"] == "IPv4"
    dup = _rule(
        demo,
        security_group_id=sid,
        direction="ingress",
        protocol="6",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="10.0.0.0/8",
    )
    assert dup.status_code == 409 and error_type(dup) == "SecurityGroupRuleExists"
    cases = {
        "SecurityGroupRemoteGroupAndRemoteIpPrefix": dict(
            remote_ip_prefix="10.0.0.0/8", remote_group_id=sid
        ),
        "SecurityGroupRuleParameterConflict": dict(ethertype="IPv4", remote_ip_prefix="::/0"),
        "SecurityGroupInvalidPortRange": dict(protocol="tcp", port_range_min=90, port_range_max=80),
        "SecurityGroupProtocolRequiredWithPorts": dict(port_range_min=80, port_range_max=80),
        "SecurityGroupInvalidIcmpValue": dict(protocol="icmp", port_range_min=300),
        "SecurityGroupInvalidProtocolForPort": dict(
            protocol="gre", port_range_min=1, port_range_max=2
        ),
        "SecurityGroupRuleInvalidProtocol": dict(protocol="bogus"),
        "HTTPBadRequest": dict(direction="sideways"),
    }
    for kind, attrs in cases.items():
        body = {"security_group_id": sid, "direction": "ingress", **attrs}
        resp = _rule(demo, **body)
        assert resp.status_code == 400, (kind, resp.text)
        assert error_type(resp) == kind
    icmp = _rule(
        demo,
        security_group_id=sid,
        direction="ingress",
        protocol="icmp",
        port_range_min=8,
        port_range_max=0,
    )
    assert icmp.status_code == 201
    missing = _rule(
        demo,
        security_group_id=sid,
        direction="ingress",
        remote_group_id="00000000-0000-0000-0000-000000000000",
    )
    assert missing.status_code == 404 and error_type(missing) == "SecurityGroupNotFound"
    rid = rule["id"]
    assert demo.delete(f"/security-group-rules/{rid}").status_code == 204
    resp = demo.get(f"/security-group-rules/{rid}")
    assert resp.status_code == 404 and error_type(resp) == "SecurityGroupRuleNotFound"


def test_group_in_use(demo: Caller) -> None:
    sg = demo.create("security-groups", "security_group", name="used")
    net = demo.create("networks", "network")
    port = demo.create("ports", "port", network_id=net["id"], security_groups=[sg["id"]])
    assert port["security_groups"] == [sg["id"]]
    resp = demo.delete(f"/security-groups/{sg['id']}")
    assert resp.status_code == 409 and error_type(resp) == "SecurityGroupInUse"
    demo.delete(f"/ports/{port['id']}")
    assert demo.delete(f"/security-groups/{sg['id']}").status_code == 204


def test_groups_are_private(demo: Caller, alt: Caller) -> None:
    sg = demo.create("security-groups", "security_group", name="secret")
    resp = alt.get(f"/security-groups/{sg['id']}")
    assert resp.status_code == 404 and error_type(resp) == "SecurityGroupNotFound"
    resp = _rule(alt, security_group_id=sg["id"], direction="ingress")
    assert resp.status_code == 404
    assert sg["id"] not in {g["id"] for g in alt.get("/security-groups").json()["security_groups"]}
    rule_ids = {r["id"] for r in sg["security_group_rules"]}
    seen = {r["id"] for r in alt.get("/security-group-rules").json()["security_group_rules"]}
    assert not rule_ids & seen


def test_quota_on_groups(admin: Caller, demo: Caller) -> None:
    project = _default(demo)["project_id"]
    admin.put(f"/quotas/{project}", {"quota": {"security_group": 2}})
    demo.create("security-groups", "security_group", name="one")
    resp = demo.post("/security-groups", {"security_group": {"name": "two"}})
    assert resp.status_code == 409 and error_type(resp) == "OverQuota"


def test_port_and_icmp_ranges_in_neutrons_words(demo: Caller) -> None:
    sid = demo.create("security-groups", "security_group", name="ranges")["id"]
    cases = [
        ("tcp", -16, 80, "Invalid value for port -16"),
        ("tcp", 80, 79, "port_range_min must be <= port_range_max"),
        ("tcp", 80, 65536, "Invalid value for port 65536"),
        ("tcp", None, 6, "port_range_min must be <= port_range_max"),
        ("icmp", 1, 256, "Invalid value for ICMP code"),
        ("icmp", -1, 25, "Invalid value"),
        ("icmp", None, 6, "ICMP type (port-range-min) is missing"),
        ("icmp", 300, 1, "Invalid value for ICMP type"),
    ]
    for protocol, low, high, message in cases:
        resp = _rule(
            demo,
            security_group_id=sid,
            direction="ingress",
            protocol=protocol,
            port_range_min=low,
            port_range_max=high,
        )
        assert resp.status_code == 400, (protocol, low, high)
        assert message in resp.json()["NeutronError"]["message"]
    resp = demo.put(f"/security-groups/{sid}", {"security_group": {"name": "default"}})
    assert resp.status_code == 409
