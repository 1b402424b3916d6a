"""Remote console tokens: short-lived, unguessable, bound to one server and console type.

Nova keeps each console token in a database table (``console_auth_tokens``)
next to the connection info. Kumo seals the same facts into the token itself
with Fernet (AES-128-CBC and HMAC-SHA256) under a key kept in the state dir:
no table, no migration, and every API worker process sharing the state dir
accepts a token any of them issued. The contents are encrypted, so a token's
holder learns nothing from it, and a changed byte makes it invalid.

Expiry is checked against an injectable clock (tests move time on). A token
names its server, never a socket: the proxy asks the server's current compute
host where the console is when a client connects, and refuses servers that
were deleted or stopped meanwhile (Nova deletes their tokens instead).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from kumo.common.config import Settings, read_or_make_secret

#: The state dir file holding the secret the token key derives from (made 0600).
SECRET_FILE = "console-token-secret"  # noqa: S105 (a file name, not a secret)
#: Tokens longer than this are refused before any decryption is tried.
MAX_TOKEN_LENGTH = 1024


class InvalidConsoleToken(Exception):
    """The token is unknown, tampered with or expired (the message says which)."""


@dataclass(frozen=True)
class ConsoleGrant:
    """What a valid token allows: one console of one server until ``expires_at``."""

    instance_uuid: str
    console_type: str
    expires_at: float


class ConsoleTokens:
    """Issues and checks console tokens with ``key``; each lives ``ttl`` seconds."""

    def __init__(self, key: bytes, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(key).digest()))
        self.ttl = ttl
        self.clock = clock

    def issue(self, instance_uuid: str, console_type: str) -> str:
        """A new token for ``console_type`` of ``instance_uuid`` (URL-safe, no padding)."""
        now = self.clock()
        payload = {
            "i": instance_uuid,
            "t": console_type,
            "e": now + self.ttl,
            # Fernet's IV already makes tokens unique; the nonce says so explicitly.
            "n": secrets.token_hex(8),
        }
        sealed = self._fernet.encrypt_at_time(
            json.dumps(payload, separators=(",", ":")).encode(), int(now)
        )
        return sealed.decode().rstrip("=")

    def validate(self, token: str) -> ConsoleGrant:
        """The grant sealed in ``token``; :class:`InvalidConsoleToken` when it is not valid now."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidConsoleToken("The console token is missing or malformed.")
        padded = token + "=" * (-len(token) % 4)
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(padded.encode()))
            grant = ConsoleGrant(str(data["i"]), str(data["t"]), float(data["e"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            raise InvalidConsoleToken("The console token is not valid.") from None
        if self.clock() >= grant.expires_at:
            raise InvalidConsoleToken("The console token has expired.")
        return grant


def console_tokens(state: Any) -> ConsoleTokens:
    """The app's token issuer (``state.console_tokens``), made from its settings once.

    Tests put their own there (an injected clock, a fixed key).
    """
    tokens: ConsoleTokens | None = getattr(state, "console_tokens", None)
    if tokens is None:
        settings: Settings = state.settings
        key = read_or_make_secret(settings.state_dir / SECRET_FILE).encode()
        tokens = ConsoleTokens(key, float(settings.console_token_ttl))
        state.console_tokens = tokens
    return tokens
