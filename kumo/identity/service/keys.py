"""Fernet key repositories, laid out and rotated the way ``keystone-manage`` does.

A repository is a directory of files named by integers: ``0`` is the staged
key (next to become primary), the highest number is the primary key used to
encrypt, and the others are secondary keys kept only to decrypt tokens issued
before the last rotations.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet


class KeyRepository:
    """A directory of Fernet keys (tokens or credentials)."""

    def __init__(self, path: Path, max_active_keys: int = 3) -> None:
        self.path = path
        self.max_active_keys = max_active_keys

    def _write_key(self, index: int, key: bytes) -> None:
        tmp = self.path / f".{index}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path / str(index))

    def indexes(self) -> list[int]:
        """The key indexes present, ascending."""
        if not self.path.is_dir():
            return []
        return sorted(int(p.name) for p in self.path.iterdir() if p.name.isdigit())

    def setup(self) -> bool:
        """Create the repository with a staged and a primary key if it is empty."""
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.indexes():
            return False
        self._write_key(0, Fernet.generate_key())
        self._write_key(1, Fernet.generate_key())
        return True

    def rotate(self) -> int:
        """Promote the staged key to primary, stage a new key, drop the oldest extras.

        Returns the index of the new primary key.
        """
        self.setup()
        indexes = self.indexes()
        new_primary = max(indexes) + 1
        os.replace(self.path / "0", self.path / str(new_primary))
        self._write_key(0, Fernet.generate_key())
        secondaries = [i for i in self.indexes() if i not in (0, new_primary)]
        excess = len(secondaries) + 2 - self.max_active_keys
        for index in secondaries[: max(excess, 0)]:
            (self.path / str(index)).unlink()
        return new_primary

    def fernet(self) -> MultiFernet:
        """Primary key first (encrypts), then every other key (decrypt only)."""
        indexes = self.indexes()
        if not indexes:
            raise FileNotFoundError(f"no Fernet keys in {self.path}; run `kumo up` first")
        ordered = sorted(indexes, reverse=True)
        return MultiFernet([Fernet((self.path / str(i)).read_bytes()) for i in ordered])
