"""Security groups and their rules, and each project's ``default`` group."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kumo.common.db import Database
from kumo.common.errors import NotFound
from kumo.network.db.models import (
    DefaultSecurityGroup,
    PortSecurityGroup,
    SecurityGroup,
    SecurityGroupRule,
)
from kumo.network.service import core
from kumo.network.service.core import bad, conflict

#: Protocol names Neutron accepts, with their IP protocol numbers.
PROTOCOLS = {
    "ah": 51,
    "dccp": 33,
    "egp": 8,
    "esp": 50,
    "gre": 47,
    "hopopt": 0,
    "icmp": 1,
    "icmpv6": 58,
    "igmp": 2,
    "ipip": 4,
    "ipv6-encap": 41,
    "ipv6-frag": 44,
    "ipv6-icmp": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "ipv6-route": 43,
    "ospf": 89,
    "pgm": 113,
    "rsvp": 46,
    "sctp": 132,
    "tcp": 6,
    "udp": 17,
    "udplite": 136,
    "vrrp": 112,
}
#: Protocols whose rules may carry a port range.
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "udplite", "dccp", "6", "17", "132", "136", "33"}
ICMP_PROTOCOLS = {"icmp", "icmpv6", "ipv6-icmp", "1", "58"}
ICMPV6_PROTOCOLS = {"icmpv6", "ipv6-icmp", "58"}


def not_found(sg_id: str) -> NotFound:
    """``SecurityGroupNotFound``."""
    return core.not_found("SecurityGroupNotFound", f"Security group {sg_id} does not exist")


def rule_not_found(rule_id: str) -> NotFound:
    """``SecurityGroupRuleNotFound``."""
    return core.not_found(
        "SecurityGroupRuleNotFound", f"Security group rule {rule_id} does not exist"
    )


def rule_view(rule: SecurityGroupRule, sg_project: str) -> dict[str, Any]:
    """A rule as the API shows it (``_target``: its group's owner, for ``sg_owner``)."""
    out = {
        "id": rule.id,
        "security_group_id": rule.security_group_id,
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "remote_group_id": rule.remote_group_id,
        "remote_address_group_id": None,
        **core.standard(rule, "security_group_rules", []),
        "_target": {"security_group:project_id": sg_project},
    }
    del out["tags"]
    return out


def view(sg: SecurityGroup, rules: list[SecurityGroupRule], tags: list[str]) -> dict[str, Any]:
    """A security group with its rules."""
    rule_views = []
    for r in rules:
        item = rule_view(r, sg.project_id)
        del item["_target"]
        rule_views.append(item)
    return {
        "id": sg.id,
        "name": sg.name,
        "stateful": sg.stateful,
        "shared": False,
        "security_group_rules": rule_views,
        **core.standard(sg, "security_groups", tags),
    }


def _views(session: Session, groups: list[SecurityGroup]) -> list[dict[str, Any]]:
    ids = [g.id for g in groups]
    rules: dict[str, list[SecurityGroupRule]] = {i: [] for i in ids}
    if ids:
        for r in session.scalars(
            select(SecurityGroupRule)
            .where(SecurityGroupRule.security_group_id.in_(ids))
            .order_by(SecurityGroupRule.created_at)
        ):
            rules[r.security_group_id].append(r)
    tags = core.tags_of(session, "security_groups", ids)
    return [view(g, rules[g.id], tags[g.id]) for g in groups]


def load(session: Session, sg_id: str) -> SecurityGroup:
    """The group row, or ``SecurityGroupNotFound``."""
    sg = session.get(SecurityGroup, sg_id)
    if sg is None:
        raise not_found(sg_id)
    return sg


def _add_rule(session: Session, sg: SecurityGroup, **fields: Any) -> SecurityGroupRule:
    rule = SecurityGroupRule(id=core.new_id(), project_id=sg.project_id, security_group_id=sg.id)
    for key, value in fields.items():
        setattr(rule, key, value)
    session.add(rule)
    return rule


def _egress_defaults(session: Session, sg: SecurityGroup) -> None:
    for ethertype in ("IPv4", "IPv6"):
        _add_rule(session, sg, direction="egress", ethertype=ethertype, description="")


def ensure_default(session: Session, project_id: str) -> str:
    """The project's ``default`` group, created with Neutron's default rules on first use.

    Ingress from members of the same group and all egress, for IPv4 and IPv6.
    """
    existing = session.scalar(
        select(DefaultSecurityGroup.security_group_id).where(
            DefaultSecurityGroup.project_id == project_id
        )
    )
    if existing:
        return existing
    sg = SecurityGroup(
        id=core.new_id(),
        project_id=project_id,
        name="default",
        description="Default security group",
        stateful=True,
    )
    session.add(sg)
    session.flush()
    session.add(DefaultSecurityGroup(project_id=project_id, security_group_id=sg.id))
    _egress_defaults(session, sg)
    for ethertype in ("IPv4", "IPv6"):
        _add_rule(
            session,
            sg,
            direction="ingress",
            ethertype=ethertype,
            remote_group_id=sg.id,
            description="",
        )
    session.flush()
    return sg.id


def ensure_default_committed(db: Database, project_id: str) -> None:
    """Make sure the project's default group exists (a concurrent creator may win)."""
    if not project_id:
        return
    try:
        with db.writer() as session:
            ensure_default(session, project_id)
    except IntegrityError:
        pass


def list_groups(db: Database, project_id: str | None) -> list[dict[str, Any]]:
    """Every group (the caller's default one is created first, as Neutron does)."""
    if project_id:
        ensure_default_committed(db, project_id)
    with db.reader() as session:
        return _views(session, list(session.scalars(select(SecurityGroup))))


def get_group(db: Database, sg_id: str) -> dict[str, Any]:
    """One group with its rules."""
    with db.reader() as session:
        return _views(session, [load(session, sg_id)])[0]


def create_group(db: Database, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a group with the default egress rules (quotas ``security_group`` and rules)."""
    owner = data.get("project_id") or data.get("tenant_id") or project_id
    ensure_default_committed(db, owner)

    def work(session: Session) -> dict[str, Any]:
        if data.get("name") == "default":
            raise conflict(
                "SecurityGroupDefaultAlreadyExists", "Default security group already exists."
            )
        core.check_quota(session, owner, "security_group")
        core.check_quota(session, owner, "security_group_rule", 2)
        sg = SecurityGroup(
            id=core.new_id(),
            project_id=owner,
            name=data.get("name", ""),
            description=data.get("description", ""),
            stateful=data.get("stateful", True),
        )
        session.add(sg)
        session.flush()
        _egress_defaults(session, sg)
        if data.get("tags"):
            core.set_tags(session, "security_groups", sg.id, data["tags"])
        session.flush()
        return _views(session, [sg])[0]

    return core.retrying(db, work)


def update_group(db: Database, sg_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Rename or re-describe a group; the default group keeps its name."""
    with db.writer() as session:
        sg = load(session, sg_id)
        if sg.name != "default" and data.get("name") == "default":
            raise conflict(
                "SecurityGroupDefaultAlreadyExists", "Default security group already exists."
            )
        if sg.name == "default" and "name" in data and data["name"] != "default":
            raise conflict(
                "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed."
            )
        if "stateful" in data and data["stateful"] != sg.stateful and _in_use(session, sg.id):
            raise conflict("SecurityGroupInUse", f"Security Group {sg.id} in use.")
        for key in ("name", "description", "stateful"):
            if key in data:
                setattr(sg, key, data[key])
        core.touch(sg)
        return _views(session, [sg])[0]


def _in_use(session: Session, sg_id: str) -> bool:
    return bool(
        session.scalar(
            select(PortSecurityGroup.port_id).where(PortSecurityGroup.security_group_id == sg_id)
        )
    )


def delete_group(db: Database, sg_id: str, is_admin: bool) -> None:
    """Delete a group: not the default one (unless admin), not while ports use it."""
    with db.writer() as session:
        sg = load(session, sg_id)
        if sg.name == "default" and not is_admin:
            raise conflict(
                "SecurityGroupCannotRemoveDefault",
                "Insufficient rights for removing default security group.",
            )
        if _in_use(session, sg.id):
            raise conflict("SecurityGroupInUse", f"Security Group {sg.id} in use.")
        session.execute(
            delete(DefaultSecurityGroup).where(DefaultSecurityGroup.security_group_id == sg.id)
        )
        session.execute(delete(SecurityGroupRule).where(SecurityGroupRule.remote_group_id == sg.id))
        session.execute(
            delete(SecurityGroupRule).where(SecurityGroupRule.security_group_id == sg.id)
        )
        core.drop_tags(session, "security_groups", sg.id)
        session.delete(sg)


# --- rules -----------------------------------------------------------------------------


def list_rules(db: Database) -> list[dict[str, Any]]:
    """Every rule (the API keeps those of groups the caller may see)."""
    with db.reader() as session:
        owners = dict(session.execute(select(SecurityGroup.id, SecurityGroup.project_id)).all())
        return [
            rule_view(r, owners.get(r.security_group_id, ""))
            for r in session.scalars(select(SecurityGroupRule))
        ]


def get_rule(db: Database, rule_id: str) -> dict[str, Any]:
    """One rule."""
    with db.reader() as session:
        rule = session.get(SecurityGroupRule, rule_id)
        if rule is None:
            raise rule_not_found(rule_id)
        sg = load(session, rule.security_group_id)
        return rule_view(rule, sg.project_id)


def group_owner(db: Database, sg_id: str) -> str:
    """The project owning a group (for the ``sg_owner`` policy target)."""
    with db.reader() as session:
        return load(session, sg_id).project_id


def _normalise_protocol(raw: Any) -> str | None:
    if raw is None or raw == "" or (isinstance(raw, str) and raw.lower() == "any"):
        return None
    text = str(raw).lower()
    if text in PROTOCOLS:
        return text
    if text.isdigit() and 0 <= int(text) <= 255:
        return text
    raise bad(
        "SecurityGroupRuleInvalidProtocol",
        f"Security group rule protocol {raw} not supported. Only protocol values "
        f"{sorted(PROTOCOLS)} and integer representations [0 to 255] are supported.",
    )


def _protocol_key(protocol: str | None) -> str | None:
    """Names and numbers of the same protocol compare equal (for duplicates)."""
    if protocol is None:
        return None
    if protocol in PROTOCOLS:
        return str(PROTOCOLS[protocol])
    return protocol


def _check_ports(protocol: str | None, low: int | None, high: int | None) -> None:
    if low is None and high is None:
        return
    if protocol is None:
        raise bad(
            "SecurityGroupProtocolRequiredWithPorts",
            "Must also specify protocol if port range is given.",
        )
    if protocol in PORT_PROTOCOLS:
        for value in (low, high):
            if value is not None and not 1 <= value <= 65535:
                raise bad("SecurityGroupInvalidPortValue", f"Invalid value for port {value}.")
        if low is None or high is None or low > high:
            raise bad(
                "SecurityGroupInvalidPortRange",
                "For TCP/UDP protocols, port_range_min must be <= port_range_max",
            )
        return
    if protocol in ICMP_PROTOCOLS:
        for field, attr, value in (
            ("type", "port_range_min", low),
            ("code", "port_range_max", high),
        ):
            if value is not None and not 0 <= value <= 255:
                raise bad(
                    "SecurityGroupInvalidIcmpValue",
                    f"Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255.",
                )
        if low is None and high is not None:
            raise bad(
                "SecurityGroupMissingIcmpType",
                f"ICMP code (port-range-max) {high} is provided but ICMP type "
                "(port-range-min) is missing.",
            )
        return
    raise bad(
        "SecurityGroupInvalidProtocolForPort",
        f"Invalid protocol {protocol} for port range, only supported for TCP, UDP, UDPLITE, "
        "SCTP and DCCP.",
    )


def create_rule(db: Database, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create a rule, refusing what Neutron refuses (conflicts, bad ranges, duplicates)."""

    def work(session: Session) -> dict[str, Any]:
        sg = load(session, data["security_group_id"])
        remote_group = data.get("remote_group_id")
        prefix = data.get("remote_ip_prefix")
        if remote_group and prefix:
            raise bad(
                "SecurityGroupRemoteGroupAndRemoteIpPrefix",
                "Only remote_ip_prefix or remote_group_id may be provided.",
            )
        if remote_group:
            load(session, remote_group)
        ethertype = data.get("ethertype", "IPv4")
        if prefix is not None:
            version = ipaddress.ip_network(prefix, strict=False).version
            if f"IPv{version}" != ethertype:
                raise bad(
                    "SecurityGroupRuleParameterConflict",
                    f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
                )
        protocol = _normalise_protocol(data.get("protocol"))
        if protocol in ICMPV6_PROTOCOLS and ethertype == "IPv4":
            raise bad(
                "SecurityGroupEthertypeConflictWithProtocol",
                f"Invalid ethertype {ethertype} for protocol {protocol}.",
            )
        low, high = data.get("port_range_min"), data.get("port_range_max")
        _check_ports(protocol, low, high)
        owner = data.get("project_id") or data.get("tenant_id") or sg.project_id
        core.check_quota(session, owner, "security_group_rule")
        wanted = (
            data["direction"],
            ethertype,
            _protocol_key(protocol),
            low,
            high,
            prefix,
            remote_group,
        )
        for r in session.scalars(
            select(SecurityGroupRule).where(SecurityGroupRule.security_group_id == sg.id)
        ):
            have = (
                r.direction,
                r.ethertype,
                _protocol_key(r.protocol),
                r.port_range_min,
                r.port_range_max,
                r.remote_ip_prefix,
                r.remote_group_id,
            )
            if _same_rule(have, wanted):
                raise conflict(
                    "SecurityGroupRuleExists",
                    f"Security group rule already exists. Rule id is {r.id}.",
                )
        rule = _add_rule(
            session,
            sg,
            direction=data["direction"],
            ethertype=ethertype,
            protocol=protocol,
            port_range_min=low,
            port_range_max=high,
            remote_ip_prefix=prefix,
            remote_group_id=remote_group,
            description=data.get("description", ""),
        )
        rule.project_id = owner
        core.touch(sg)
        session.flush()
        return rule_view(rule, sg.project_id)

    return core.retrying(db, work)


def _same_rule(have: tuple[Any, ...], wanted: tuple[Any, ...]) -> bool:
    # A "0.0.0.0/0" (or "::/0") prefix means the same as no prefix.
    def norm(t: tuple[Any, ...]) -> tuple[Any, ...]:
        prefix = t[5]
        if prefix in ("0.0.0.0/0", "::/0"):
            prefix = None
        return (*t[:5], prefix, t[6])

    return norm(have) == norm(wanted)


def delete_rule(db: Database, rule_id: str) -> None:
    """Delete a rule."""
    with db.writer() as session:
        rule = session.get(SecurityGroupRule, rule_id)
        if rule is None:
            raise rule_not_found(rule_id)
        sg = session.get(SecurityGroup, rule.security_group_id)
        if sg is not None:
            core.touch(sg)
        session.delete(rule)
