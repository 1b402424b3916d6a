"""Placement's query-string mini languages, parsed into plain values (no HTTP types).

- ``resources=VCPU:1,MEMORY_MB:512``
- ``required=A,!B`` and, from 1.39, ``required=in:A,B`` (any of)
- ``member_of=in:agg1,agg2`` / ``member_of=agg1`` / from 1.32 ``member_of=!in:agg1,agg2``
"""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass, field

from kumo.common.errors import BadRequest

_RC_NAME = re.compile(r"^[A-Z0-9_]+$")


def bad_value(message: str) -> BadRequest:
    """A 400 with Placement's ``placement.query.bad_value`` code."""
    return BadRequest(message, code="placement.query.bad_value")


def parse_resources(text: str) -> dict[str, int]:
    """``VCPU:1,MEMORY_MB:512`` → {"VCPU": 1, "MEMORY_MB": 512}."""
    out: dict[str, int] = {}
    if not text.strip():
        raise bad_value(
            "Badly formed resources parameter. Expected resources query string "
            "parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string."
        )
    for part in text.split(","):
        name, sep, amount = part.strip().partition(":")
        if not sep or not _RC_NAME.match(name):
            raise bad_value(
                "Badly formed resources parameter. Expected resources query string parameter "
                f"in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: {text}."
            )
        try:
            value = int(amount)
        except ValueError:
            raise bad_value(
                f"Requested resource {name} expected positive integer amount. Got: {amount}."
            ) from None
        if value < 1:
            raise bad_value(f"Requested resource {name} requires amount >= 1. Got: {value}.")
        if name in out:
            raise bad_value(f"Resource {name} is specified more than once in {text}.")
        out[name] = value
    return out


@dataclass
class TraitFilter:
    """Required traits: every set in ``all_of`` needs one member; none of ``forbidden``."""

    all_of: list[frozenset[str]] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)

    def names(self) -> set[str]:
        """Every trait mentioned."""
        out = set(self.forbidden)
        for group in self.all_of:
            out |= group
        return out

    def satisfied_by(self, traits: set[str]) -> bool:
        """True when a provider (or a set of providers) with ``traits`` passes."""
        return not (self.forbidden & traits) and all(g & traits for g in self.all_of)

    def __bool__(self) -> bool:
        return bool(self.all_of or self.forbidden)


def parse_required(values: list[str], *, allow_forbidden: bool, allow_any: bool) -> TraitFilter:
    """Every ``required`` value (repeatable from 1.39) into one filter."""
    result = TraitFilter()
    for text in values:
        if allow_any and text.startswith("in:"):
            names = [n.strip() for n in text[3:].split(",")]
            if not all(names):
                raise bad_value(
                    f"Invalid query string parameters: Expected 'required' "
                    f"parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. "
                    f"Got: {text}"
                )
            result.all_of.append(frozenset(names))
            continue
        for raw in text.split(","):
            name = raw.strip()
            if not name:
                raise bad_value(
                    f"Invalid query string parameters: Expected 'required' "
                    f"parameter value of the form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. "
                    f"Got: {text}"
                )
            if name.startswith("!"):
                if not allow_forbidden:
                    raise bad_value(
                        f"Invalid query string parameters: Expected 'required' "
                        f"parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. "
                        f"Got: {text}"
                    )
                result.forbidden.add(name[1:])
            else:
                result.all_of.append(frozenset([name]))
    clash = result.forbidden & {t for g in result.all_of if len(g) == 1 for t in g}
    if clash:
        raise bad_value(
            f"Conflicting required and forbidden traits found in the following traits keys: "
            f"{', '.join(sorted(clash))}"
        )
    return result


@dataclass
class AggregateFilter:
    """Providers must be in one of each set of ``any_of``, and in none of ``forbidden``."""

    any_of: list[set[str]] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.any_of or self.forbidden)


def _uuids(text: str, raw: str) -> set[str]:
    out = set()
    for part in text.split(","):
        try:
            out.add(str(uuidlib.UUID(part.strip())))
        except ValueError:
            raise bad_value(
                "Invalid query string parameters: Expected 'member_of' parameter to contain "
                f"valid UUID(s). Got: {raw}"
            ) from None
    return out


def parse_member_of(values: list[str], *, allow_forbidden: bool) -> AggregateFilter:
    """Every ``member_of`` value into one filter."""
    result = AggregateFilter()
    for raw in values:
        text = raw
        negate = False
        if allow_forbidden and text.startswith("!"):
            negate = True
            text = text[1:]
        if text.startswith("in:"):
            if negate:
                result.forbidden |= _uuids(text[3:], raw)
            else:
                result.any_of.append(_uuids(text[3:], raw))
        else:
            if "," in text:
                raise bad_value(
                    "Invalid query string parameters: Expected 'member_of' parameter with "
                    f"multiple values to be prefixed with 'in:'. Got: {raw}"
                )
            found = _uuids(text, raw)
            if negate:
                result.forbidden |= found
            else:
                result.any_of.append(found)
    return result


def parse_uuid(text: str, name: str) -> str:
    """A canonical UUID, or 400 naming the parameter."""
    try:
        return str(uuidlib.UUID(text))
    except ValueError:
        raise bad_value(
            f"Invalid query string parameters: Expected '{name}' parameter to be a "
            f"format of uuid. Got: {text}"
        ) from None
