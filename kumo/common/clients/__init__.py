"""Service-to-service calls: one service reaches another only through these clients.

They speak the public HTTP APIs found in the service catalog, so the same call
works inside one process (``kumo up``) and between hosts. :class:`ServiceSession`
holds the service user's token (the ``kumo`` user in project ``service``,
renewed before it expires); a call may instead carry the end user's token, as
Nova does when it fetches an image for a user.
"""

from kumo.common.clients.base import ServiceSession, raise_for_status

__all__ = ["ServiceSession", "raise_for_status"]
