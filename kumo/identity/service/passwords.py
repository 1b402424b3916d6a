"""Password hashing with argon2id at OWASP's recommended parameters."""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Each argon2 computation holds 19 MiB; running more at once than there are
# cores only queues CPU work and grows memory (a classic denial-of-service lever).
_slots = threading.BoundedSemaphore(os.cpu_count() or 2)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    with _slots:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        with _slots:
            return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
