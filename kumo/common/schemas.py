"""The base of every request schema: text that no database can store is refused.

A NUL character (PostgreSQL refuses it, SQLite and MySQL keep it) or a lone
UTF-16 surrogate (no UTF-8 encoder accepts it) would otherwise behave
differently per database or surface as a 500; every service refuses them
the same way, with a 400 in its own format.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, model_validator

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check(value: Any, where: str) -> None:
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise ValueError(
                f"{where or 'a value'} contains a NUL character or an unpaired surrogate"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, where)
            _check(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for item in value:
            _check(item, where)


class RequestModel(BaseModel):
    """A request body (or part of one) whose text must be storable."""

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        _check(data, "")
        return data
