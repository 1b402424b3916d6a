"""Checking a server's requested security groups against the networking API.

Nova asks Neutron for each requested group (other than ``default``, which every
project has) before it accepts a create request or an ``addSecurityGroup`` action.
The check is a swappable async callable kept on the compute app's state
(``security_group_check``): the default asks the networking API with the caller's
token; tests put a fake there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kumo.common.clients.base import ServiceSession
from kumo.common.config import Settings
from kumo.common.context import RequestContext

#: (caller, group names or ids) → the ones that do not exist for the caller's project.
SecurityGroupCheck = Callable[[RequestContext, list[str]], Awaitable[list[str]]]


def neutron_check(settings: Settings) -> SecurityGroupCheck:
    """A :data:`SecurityGroupCheck` listing the project's groups in the networking API."""
    session: ServiceSession | None = None

    async def missing(ctx: RequestContext, wanted: list[str]) -> list[str]:
        nonlocal session
        asked = [w for w in wanted if w != "default"]
        if not asked:
            return []
        if session is None:
            session = ServiceSession(settings)
        resp = await session.request(
            "GET",
            "network",
            "/v2.0/security-groups",
            params={"project_id": ctx.project_id},
            user_token=ctx.token_id,
            what="security groups",
        )
        known: set[str] = set()
        for group in resp.json().get("security_groups", []):
            known.update({str(group.get("id")), str(group.get("name"))})
        return [w for w in asked if w not in known]

    return missing
