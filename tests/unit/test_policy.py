"""The policy engine reads oslo.policy check strings like the real services."""

from pathlib import Path

import pytest

from kumo.common.errors import Forbidden
from kumo.common.policy import Enforcer, PolicySyntaxError, RuleDefault, compile_check

ADMIN = {"roles": ["admin", "member", "reader"], "system_scope": None, "user_id": "u1"}
READER_SYSTEM = {"roles": ["reader"], "system_scope": "all", "user_id": "u2"}
MEMBER = {
    "roles": ["member", "reader"],
    "project_id": "p1",
    "user_id": "u3",
    "token": {"domain": {"id": "d1"}},
}

RULES = [
    RuleDefault("admin_required", "role:admin"),
    RuleDefault("system_reader", "role:reader and system_scope:all"),
    RuleDefault(
        "get_user", "rule:admin_required or rule:system_reader or user_id:%(target.user.id)s"
    ),
    RuleDefault("domain_reader", "role:reader and token.domain.id:%(target.domain_id)s"),
    RuleDefault("nobody", "!"),
    RuleDefault("anybody", "@"),
    RuleDefault("not_admin", "not role:admin"),
]


@pytest.fixture
def enforcer() -> Enforcer:
    return Enforcer(RULES)


def test_roles_and_rules(enforcer: Enforcer) -> None:
    assert enforcer.check_rule("get_user", ADMIN, {})
    assert enforcer.check_rule("get_user", READER_SYSTEM, {})
    assert not enforcer.check_rule("get_user", MEMBER, {"target.user.id": "other"})
    assert enforcer.check_rule("get_user", MEMBER, {"target": {"user": {"id": "u3"}}})


def test_nested_credentials_and_literals(enforcer: Enforcer) -> None:
    assert enforcer.check_rule("domain_reader", MEMBER, {"target.domain_id": "d1"})
    assert not enforcer.check_rule("domain_reader", MEMBER, {"target.domain_id": "d2"})
    assert not enforcer.check_rule("domain_reader", READER_SYSTEM, {"target.domain_id": "d1"})
    assert not enforcer.check_rule("nobody", ADMIN, {})
    assert enforcer.check_rule("anybody", {}, {})
    assert enforcer.check_rule("not_admin", MEMBER, {})
    assert not enforcer.check_rule("not_admin", ADMIN, {})


def test_missing_target_value_never_matches(enforcer: Enforcer) -> None:
    # A credential of None must not equal a missing target attribute.
    assert not enforcer.check_rule("get_user", {"roles": [], "user_id": None}, {})


def test_enforce_raises_forbidden(enforcer: Enforcer) -> None:
    with pytest.raises(Forbidden):
        enforcer.enforce("admin_required", MEMBER)
    enforcer.enforce("admin_required", ADMIN)


def test_overrides_from_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"admin_required": "role:member"\n')
    enforcer = Enforcer(RULES, policy_file=policy)
    assert enforcer.check_rule("admin_required", MEMBER, {})
    assert enforcer.check_rule("get_user", MEMBER, {})


@pytest.mark.parametrize("bad", ["role:admin and", "(role:admin", "role:admin )", "justaword"])
def test_syntax_errors(bad: str) -> None:
    with pytest.raises(PolicySyntaxError):
        compile_check(bad)


def test_parentheses_and_precedence() -> None:
    check = compile_check("role:a or role:b and role:c")
    enf = Enforcer([])
    assert check({"roles": ["a"]}, {}, enf)
    assert not check({"roles": ["b"]}, {}, enf)
    check = compile_check("(role:a or role:b) and role:c")
    assert not check({"roles": ["a"]}, {}, enf)
    assert check({"roles": ["b", "c"]}, {}, enf)
