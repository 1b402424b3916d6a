"""Policy rules as data, in oslo.policy's check-string syntax.

Each service declares its rules (``RuleDefault``) once; an operator may override
any of them from a YAML policy file with the same syntax the real services
accept, e.g. ``"identity:list_users": "role:reader and system_scope:all"``.

Supported checks: ``role:X``, ``rule:NAME``, ``@`` (always), ``!`` (never),
and generic ``key:value`` checks where ``key`` names a credential
(``user_id``, ``project_id``, ``domain_id``, ``system_scope``, …, dotted for
nested values such as ``token.domain.id``) and ``value`` is a literal or a
``%(target.x.y)s`` substitution from the target; joined with ``and``, ``or``,
``not`` and parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kumo.common.errors import Forbidden, KumoError

Creds = Mapping[str, Any]
Target = Mapping[str, Any]
Check = Callable[[Creds, Target, "Enforcer"], bool]

_TOKEN = re.compile(r"\(|\)|(?:%\([^)]*\)s|[^\s()])+")
_SUBST = re.compile(r"^%\((?P<key>[^)]+)\)s$")


class PolicySyntaxError(KumoError):
    """A check string could not be parsed."""


@dataclass(frozen=True)
class RuleDefault:
    """A named rule with its default check string and the API operations it guards."""

    name: str
    check_str: str
    description: str = ""
    operations: tuple[tuple[str, str], ...] = ()


def _lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """Find ``a.b.c`` as a flat key first (oslo style), then as nested mappings."""
    if dotted in data:
        return data[dotted]
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _compile_atom(word: str) -> Check:
    if word == "@":
        return lambda creds, target, enf: True
    if word == "!":
        return lambda creds, target, enf: False
    kind, sep, match = word.partition(":")
    if not sep:
        raise PolicySyntaxError(f"policy check {word!r} is not of the form kind:match")
    if kind == "rule":
        return lambda creds, target, enf: enf.check_rule(match, creds, target)
    if kind == "role":
        wanted = match.lower()
        if _SUBST.match(match):
            key = _SUBST.match(match).group("key")  # type: ignore[union-attr]
            return lambda creds, target, enf: (
                str(_lookup(target, key)).lower() in {r.lower() for r in creds.get("roles", [])}
            )
        return lambda creds, target, enf: wanted in {r.lower() for r in creds.get("roles", [])}
    subst = _SUBST.match(match)

    def generic(creds: Creds, target: Target, enf: Enforcer) -> bool:
        have = _lookup(creds, kind)
        if subst:
            want = _lookup(target, subst.group("key"))
        else:
            want = match.strip("'\"")
            if want in ("None", "none"):
                want = None
            elif want == "True":
                want = True
            elif want == "False":
                want = False
        if want is None or have is None:
            return False if subst else have is want
        if isinstance(want, bool) or isinstance(have, bool):
            return str(have).lower() == str(want).lower()
        return str(have) == str(want)

    return generic


def compile_check(check_str: str) -> Check:
    """Compile an oslo.policy check string into a callable."""
    tokens: list[str] = _TOKEN.findall(check_str)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        return tok

    def parse_or() -> Check:
        left = parse_and()
        while peek() == "or":
            take()
            right = parse_and()
            left = (lambda a, b: lambda c, t, e: a(c, t, e) or b(c, t, e))(left, right)
        return left

    def parse_and() -> Check:
        left = parse_not()
        while peek() == "and":
            take()
            right = parse_not()
            left = (lambda a, b: lambda c, t, e: a(c, t, e) and b(c, t, e))(left, right)
        return left

    def parse_not() -> Check:
        if peek() == "not":
            take()
            inner = parse_not()
            return lambda c, t, e: not inner(c, t, e)
        return parse_atom()

    def parse_atom() -> Check:
        tok = peek()
        if tok is None:
            raise PolicySyntaxError(f"unexpected end of policy {check_str!r}")
        if tok == "(":
            take()
            inner = parse_or()
            if peek() != ")":
                raise PolicySyntaxError(f"missing ')' in policy {check_str!r}")
            take()
            return inner
        if tok in (")", "and", "or"):
            raise PolicySyntaxError(f"unexpected {tok!r} in policy {check_str!r}")
        return _compile_atom(take())

    if not tokens:
        return lambda c, t, e: True  # oslo.policy: an empty rule always passes
    check = parse_or()
    if pos != len(tokens):
        raise PolicySyntaxError(f"unexpected {tokens[pos]!r} in policy {check_str!r}")
    return check


class Enforcer:
    """Holds a service's rules (defaults plus overrides) and enforces them."""

    def __init__(self, defaults: Iterable[RuleDefault], policy_file: Path | None = None) -> None:
        self.defaults = {rule.name: rule for rule in defaults}
        self.check_strs = {name: rule.check_str for name, rule in self.defaults.items()}
        if policy_file is not None and policy_file.exists():
            overrides = yaml.safe_load(policy_file.read_text()) or {}
            if not isinstance(overrides, dict):
                raise PolicySyntaxError(f"{policy_file} must be a mapping of rule: check")
            self.check_strs.update({str(k): str(v) for k, v in overrides.items()})
        self._compiled = {name: compile_check(s) for name, s in self.check_strs.items()}

    def check_rule(self, name: str, creds: Creds, target: Target) -> bool:
        """True when rule ``name`` passes; an unknown rule never passes."""
        check = self._compiled.get(name)
        return bool(check and check(creds, target, self))

    def enforce(self, name: str, creds: Creds, target: Target | None = None) -> None:
        """Raise :class:`Forbidden` unless rule ``name`` passes."""
        if name not in self._compiled:
            raise KumoError(f"policy rule {name!r} is not registered")
        if not self.check_rule(name, creds, target or {}):
            raise Forbidden(f"You are not authorized to perform the requested action: {name}.")
