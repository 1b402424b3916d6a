"""What the security tests share: the route table, and one protected call per service."""

from __future__ import annotations

import pytest

from tools.fuzz.routes import Operation, Service, build_services, find_operation

#: Every service `kumo serve` mounts, walked once per test run.
SERVICES = build_services()
#: The prefix each service is expected at, so a missing service is skipped, not forgotten.
PREFIXES = ("/identity", "/compute", "/image", "/networking", "/placement")


def service_at(prefix: str) -> Service | None:
    """The mounted service at ``prefix`` (None when it is not mounted)."""
    return next((s for s in SERVICES if s.prefix == prefix), None)


def protected_get(prefix: str) -> Operation:
    """A token-protected GET of the service at ``prefix``: a list call when it has one.

    Skips the calling test, with the reason, while the service serves no such route.
    """
    service = service_at(prefix)
    if service is None:
        pytest.skip(f"no service is mounted at {prefix}")
    gets = [op for op in service.operations() if op.method == "GET" and not op.public]
    if not gets:
        pytest.skip(f"{prefix} serves no token-protected GET yet")
    lists = [op for op in gets if op.is_collection]
    return (lists or gets)[0]


def find(prefix: str, method: str, path: str) -> Operation | None:
    """The operation ``method path`` of the service at ``prefix`` ("{}" matches any id)."""
    return find_operation(SERVICES, prefix, method, path)
