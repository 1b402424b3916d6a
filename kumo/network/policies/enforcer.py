"""Neutron's ``field:`` checks on top of the common policy engine.

Neutron's defaults name rules such as ``shared`` (``field:networks:shared=True``)
or ``network_device`` (``field:port:device_owner=~^network:``) that test the
*target* resource's attribute, which the common engine's checks (credential
against target) cannot express. A rule whose whole check string is such a
field check (default or operator override) is evaluated here; every other rule
goes to the common engine unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from kumo.common.policy import Creds, Enforcer, RuleDefault, Target

_FIELD = re.compile(r"^\s*field:(?P<resource>[\w-]+):(?P<attr>[\w:-]+)=(?P<value>\S+)\s*$")


def _matches(have: object, want: str) -> bool:
    if want.startswith("~"):
        return isinstance(have, str) and re.match(want[1:], have) is not None
    if isinstance(have, bool):
        return str(have).lower() == want.lower()
    return have is not None and str(have) == want


class NeutronEnforcer(Enforcer):
    """The common enforcer, plus whole-rule ``field:resource:attr=value`` checks."""

    def __init__(self, defaults: Iterable[RuleDefault], policy_file: Path | None = None) -> None:
        super().__init__(defaults, policy_file)
        self.field_checks: dict[str, tuple[str, str]] = {}
        for name, check in self.check_strs.items():
            if m := _FIELD.match(check):
                self.field_checks[name] = (m.group("attr"), m.group("value"))

    def check_rule(self, name: str, creds: Creds, target: Target) -> bool:
        """True when rule ``name`` passes for ``target``."""
        field = self.field_checks.get(name)
        if field is not None:
            return _matches(target.get(field[0]), field[1])
        return super().check_rule(name, creds, target)
