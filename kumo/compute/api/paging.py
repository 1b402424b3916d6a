"""Nova's marker and limit query parameters, parsed and checked in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from kumo.common.errors import BadRequest

T = TypeVar("T")


def non_negative_int(params: Mapping[str, str], name: str) -> int | None:
    """The integer query parameter ``name`` (None when absent); 400 as Nova words it."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} param must be an integer") from None
    if value < 0:
        raise BadRequest(f"{name} param must be positive")
    return value


def after_marker(items: Sequence[T], ids: Sequence[str], marker: str | None) -> list[T]:
    """The ``items`` after the one whose id (``ids``, in step) is ``marker``; all without one.

    An unknown marker is a 400, as in Nova.
    """
    if marker is None:
        return list(items)
    if marker not in ids:
        raise BadRequest(f"Marker {marker} could not be found.")
    return list(items[list(ids).index(marker) + 1 :])
