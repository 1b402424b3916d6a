"""Keystone's list filters: exact matches and ``attr__contains`` style operators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import InstrumentedAttribute

from kumo.common.errors import ValidationError

_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def to_bool(name: str, value: str) -> bool:
    """A query-string boolean; 400 when it is not one."""
    try:
        return _BOOL[value.lower()]
    except KeyError:
        raise ValidationError(f"Invalid value for boolean filter {name!r}: {value!r}.") from None


def apply_filters(
    query: Select[Any], params: Mapping[str, str], columns: Mapping[str, InstrumentedAttribute[Any]]
) -> Select[Any]:
    """Narrow ``query`` by the filters in ``params`` that name one of ``columns``.

    ``name=x`` is an exact match; ``name__contains``, ``__icontains``,
    ``__startswith``, ``__istartswith``, ``__endswith``, ``__iendswith`` and
    ``__equals``/``__iequals`` compare strings like Keystone does.
    """
    for key, value in params.items():
        attr, _, op = key.partition("__")
        column = columns.get(attr)
        if column is None:
            continue
        python_type = getattr(column.type, "python_type", str)
        if python_type is bool:
            query = query.where(column.is_(to_bool(key, value)))
            continue
        if not op or op == "equals":
            query = query.where(column == value)
        elif op == "iequals":
            query = query.where(func.lower(column) == value.lower())
        elif op in ("contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"):
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = {
                "contains": f"%{escaped}%",
                "startswith": f"{escaped}%",
                "endswith": f"%{escaped}",
            }[op.lstrip("i")]
            if op.startswith("i"):
                query = query.where(func.lower(column).like(pattern.lower(), escape="\\"))
            else:
                query = query.where(column.like(pattern, escape="\\"))
        else:
            raise ValidationError(f"Unsupported filter operator {op!r} in {key!r}.")
    return query
