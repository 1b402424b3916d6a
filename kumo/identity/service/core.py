"""The identity service's dependencies, bundled once per process."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import MultiFernet

from kumo.common.config import Settings
from kumo.common.db import Database, utcnow
from kumo.common.policy import Enforcer
from kumo.identity.service import revision
from kumo.identity.service.keys import KeyRepository
from kumo.identity.service.token_cache import TokenCache
from kumo.identity.service.tokens import TokenSealer


def new_id() -> str:
    """A new resource id: 32 hex digits, as Keystone makes them."""
    return uuid.uuid4().hex


@dataclass
class Identity:
    """Everything identity's business logic needs: the database, keys, settings, clock."""

    db: Database
    settings: Settings
    enforcer: Enforcer
    clock: Callable[[], dt.datetime] = utcnow
    _sealer: TokenSealer | None = field(default=None, repr=False)
    _credential_fernet: MultiFernet | None = field(default=None, repr=False)
    token_cache: TokenCache = field(default_factory=TokenCache)
    _keys_checked: float = 0.0
    _keys_mtime: float = 0.0

    def __post_init__(self) -> None:
        revision.track_writes(self.db.writer_factory)

    @property
    def token_keys(self) -> KeyRepository:
        """The Fernet key repository for tokens."""
        return KeyRepository(
            self.settings.state_dir / "fernet-keys", self.settings.fernet_max_active_keys
        )

    @property
    def credential_keys(self) -> KeyRepository:
        """The Fernet key repository encrypting credential blobs at rest."""
        return KeyRepository(
            self.settings.state_dir / "credential-keys", self.settings.fernet_max_active_keys
        )

    @property
    def sealer(self) -> TokenSealer:
        """The token sealer, reloaded when `kumo identity rotate-keys` changed the keys."""
        now = time.monotonic()
        if self._sealer is None or now - self._keys_checked > 1.0:
            self._keys_checked = now
            mtime = self.token_keys.path.stat().st_mtime
            if self._sealer is None or mtime != self._keys_mtime:
                self._keys_mtime = mtime
                self._sealer = TokenSealer(self.token_keys.fernet())
                # A key that left the repository must stop validating at once.
                self.token_cache.clear()
        return self._sealer

    @property
    def credential_fernet(self) -> MultiFernet:
        """The Fernet used to encrypt and decrypt credential blobs."""
        if self._credential_fernet is None:
            self._credential_fernet = self.credential_keys.fernet()
        return self._credential_fernet

    def setup_keys(self) -> None:
        """Create both key repositories if they are empty."""
        self.token_keys.setup()
        self.credential_keys.setup()
