"""Compute-specific domain errors."""

from __future__ import annotations

from kumo.common.errors import Forbidden, OverQuota


class QuotaExceeded(OverQuota):
    """A quota would be exceeded; Nova renders this as 403 ``forbidden``.

    It is an :class:`OverQuota` (so callers may catch either), with the status of
    :class:`Forbidden` as Nova's ``QuotaError`` paths answer (server create,
    key pairs, server groups, metadata).
    """

    status = Forbidden.status
    title = Forbidden.title
    code = "QuotaExceeded"
