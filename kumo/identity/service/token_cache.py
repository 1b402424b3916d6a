"""A per-process cache of validated tokens, valid for one identity revision."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kumo.identity.service.tokens import TokenPayload


@dataclass(frozen=True)
class Validated:
    """A token that validated: its payload, what it grants, and its document."""

    payload: TokenPayload
    user_id: str
    user_domain_id: str
    project_domain_id: str | None
    role_names: list[str]
    body: dict[str, Any]

    @cached_property
    def body_without_catalog(self) -> dict[str, Any]:
        """The document as ``?nocatalog`` asks for it."""
        return {"token": {k: v for k, v in self.body["token"].items() if k != "catalog"}}

    @cached_property
    def json(self) -> bytes:
        """The document, serialised once per cached validation."""
        return json.dumps(self.body, separators=(",", ":")).encode()

    @cached_property
    def json_without_catalog(self) -> bytes:
        """The ``?nocatalog`` document, serialised once."""
        return json.dumps(self.body_without_catalog, separators=(",", ":")).encode()


class TokenCache:
    """Least-recently-used map of token -> (revision, Validated)."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[str, tuple[int, Validated]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, revision: int) -> Validated | None:
        """The cached validation if it was made at ``revision``."""
        with self._lock:
            item = self._items.get(token)
            if item is None or item[0] != revision:
                return None
            self._items.move_to_end(token)
            return item[1]

    def put(self, token: str, revision: int, validated: Validated) -> None:
        """Remember a validation made at ``revision``."""
        with self._lock:
            self._items[token] = (revision, validated)
            self._items.move_to_end(token)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def drop(self, token: str) -> None:
        """Forget one token (it was just revoked)."""
        with self._lock:
            self._items.pop(token, None)

    def clear(self) -> None:
        """Forget everything (e.g. after the token keys changed)."""
        with self._lock:
            self._items.clear()
