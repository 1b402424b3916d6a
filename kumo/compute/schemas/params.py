"""Request bodies checked the way Nova's JSON schemas check them.

Nova's schemas change with microversions (fields appear and disappear), so the
compute-resources routes take a free-form JSON object (still refused with 400
when it holds NUL characters or lone surrogates) and check it with these helpers,
which raise 400 with Nova-like messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import ConfigDict

from kumo.common.errors import ValidationError
from kumo.common.schemas import RequestModel

MAX_INT = 2**31 - 1
_BOOL_TRUE = ("true", "1", "yes", "on", "y", "t")
_BOOL_FALSE = ("false", "0", "no", "off", "n", "f")
#: Printable text without control characters (Nova's ``valid_description_regex``).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Descriptions may hold line breaks and tabs, but no other control characters.
_DESC_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class JsonBody(RequestModel):
    """Any JSON object; read it with :meth:`data`."""

    model_config = ConfigDict(extra="allow")

    def data(self) -> dict[str, Any]:
        """The object's members."""
        return dict(self.model_extra or {})


def invalid(field: str, value: Any, why: str) -> ValidationError:
    """Nova's wording for a schema failure."""
    return ValidationError(f"Invalid input for field/attribute {field}. Value: {value}. {why}")


def obj(data: Any, key: str) -> dict[str, Any]:
    """The required object member ``key`` of ``data``."""
    if not isinstance(data, dict) or key not in data:
        raise ValidationError(
            f"Invalid input for field/attribute {key}. '{key}' is a required property"
        )
    value = data[key]
    if not isinstance(value, dict):
        raise invalid(key, value, f"{value!r} is not of type 'object'")
    return value


def only(data: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    """Refuse members other than ``allowed`` (``additionalProperties: false``)."""
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise ValidationError(
            f"Invalid input for field/attribute {where}. Value: {data}. Additional properties "
            f"are not allowed ({', '.join(repr(e) for e in extra)} "
            f"{'was' if len(extra) == 1 else 'were'} unexpected)"
        )


def require(data: dict[str, Any], names: Iterable[str], where: str) -> None:
    """Refuse a body missing one of ``names``."""
    for name in names:
        if name not in data:
            raise ValidationError(
                f"Invalid input for field/attribute {where}. Value: {data}. "
                f"'{name}' is a required property"
            )


def integer(field: str, value: Any, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """An integer (or a string of digits, as Nova accepts) within bounds."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise invalid(field, value, f"{value!r} is not a valid integer")
    if number < minimum:
        raise invalid(field, value, f"{value!r} is less than the minimum of {minimum}")
    if number > maximum:
        raise invalid(field, value, f"{value!r} is greater than the maximum of {maximum}")
    return number


def boolean(field: str, value: Any) -> bool:
    """A boolean, or one of the strings Nova's ``parameter_types.boolean`` takes."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _BOOL_TRUE:
            return True
        if low in _BOOL_FALSE:
            return False
    raise invalid(field, value, f"{value!r} is not of type 'boolean'")


def name(field: str, value: Any, max_length: int = 255, *, strip_ok: bool = False) -> str:
    """A name: a non-empty string without leading/trailing blanks or control characters."""
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string'")
    if not value.strip() or (not strip_ok and value != value.strip()):
        raise invalid(field, value, "The name is empty or has leading or trailing whitespace.")
    if len(value) > max_length:
        raise invalid(field, value, f"{value!r} is too long")
    if _CONTROL.search(value):
        raise invalid(field, value, "The name contains control characters.")
    return value


def description(field: str, value: Any, max_length: int = 65535) -> str | None:
    """An optional description: null or printable text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string', 'null'")
    if len(value) > max_length:
        raise invalid(field, value, f"{value!r} is too long")
    if _DESC_CONTROL.search(value):
        raise invalid(field, value, "The description contains control characters.")
    return value


def string(field: str, value: Any, min_length: int = 1, max_length: int = 255) -> str:
    """A string of bounded length."""
    if not isinstance(value, str):
        raise invalid(field, value, f"{value!r} is not of type 'string'")
    if len(value) < min_length:
        raise invalid(field, value, f"{value!r} is too short")
    if len(value) > max_length:
        raise invalid(field, value, f"{value!r} is too long")
    return value


def query_int(query: Any, key: str, minimum: int = 0) -> int | None:
    """An integer query parameter, or None when absent (400 when malformed)."""
    raw = query.get(key)
    if raw is None:
        return None
    return integer(key, raw, minimum)
