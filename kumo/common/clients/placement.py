"""Placement, as the scheduler and compute hosts use it (Nova's report client).

Thin typed calls over :class:`ServiceSession` with the service token: resource
providers and their inventory, allocation candidates, allocations. Each call
names the microversion it needs; errors arrive as domain errors (409 →
:class:`~kumo.common.errors.Conflict` with Placement's ``placement.*`` code).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from kumo.common import errors
from kumo.common.clients.base import ServiceSession

#: Microversion of every call: consumer generations (1.28) without consumer types (1.38).
MICROVERSION = "placement 1.28"
_HEADERS = {"OpenStack-API-Version": MICROVERSION}

#: Namespace of compute hosts' resource provider uuids (stable per host name).
_RP_NAMESPACE = uuid.UUID("5e1b7a1e-6f2c-4d3e-9c0a-6b756d6f0001")


def provider_uuid(host: str) -> str:
    """The resource provider uuid of compute host ``host`` (the same on every restart)."""
    return str(uuid.uuid5(_RP_NAMESPACE, host))


class PlacementClient:
    """Placement's HTTP API through a service session."""

    def __init__(self, session: ServiceSession) -> None:
        self.session = session

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.session.request(
            method, "placement", path, headers=_HEADERS, what=f"placement {method} {path}", **kwargs
        )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def ensure_provider(self, name: str, rp_uuid: str) -> dict[str, Any]:
        """The provider ``rp_uuid``, created with ``name`` when missing."""
        try:
            found: dict[str, Any] = await self._request("GET", f"/resource_providers/{rp_uuid}")
            return found
        except errors.NotFound:
            pass
        try:
            created: dict[str, Any] = await self._request(
                "POST", "/resource_providers", json={"name": name, "uuid": rp_uuid}
            )
            return created
        except errors.Conflict:
            # Created meanwhile by another process of the same host.
            again: dict[str, Any] = await self._request("GET", f"/resource_providers/{rp_uuid}")
            return again

    async def set_inventory(
        self, rp_uuid: str, inventories: dict[str, dict[str, Any]], *, attempts: int = 3
    ) -> None:
        """Replace the provider's inventory (retrying on a generation conflict)."""
        for attempt in range(attempts):
            provider = await self._request("GET", f"/resource_providers/{rp_uuid}")
            body = {
                "resource_provider_generation": provider["generation"],
                "inventories": inventories,
            }
            try:
                await self._request("PUT", f"/resource_providers/{rp_uuid}/inventories", json=body)
                return
            except errors.Conflict:
                if attempt == attempts - 1:
                    raise

    async def allocation_candidates(
        self, resources: dict[str, int], *, limit: int = 1000
    ) -> dict[str, Any]:
        """``GET /allocation_candidates`` for ``resources`` (amounts of zero left out)."""
        wanted = ",".join(f"{rc}:{amount}" for rc, amount in sorted(resources.items()) if amount)
        params = {"resources": wanted, "limit": str(limit)}
        result: dict[str, Any] = await self._request("GET", "/allocation_candidates", params=params)
        return result

    async def get_allocations(self, consumer: str) -> dict[str, Any]:
        """The consumer's allocations, generation, project and user."""
        result: dict[str, Any] = await self._request("GET", f"/allocations/{consumer}")
        return result

    async def claim(
        self,
        consumer: str,
        allocations: dict[str, Any],
        project_id: str,
        user_id: str,
        consumer_generation: int | None = None,
    ) -> None:
        """``PUT /allocations/{consumer}``; raises Conflict when it no longer fits or raced."""
        body = {
            "allocations": allocations,
            "project_id": project_id,
            "user_id": user_id,
            "consumer_generation": consumer_generation,
        }
        await self._request("PUT", f"/allocations/{consumer}", json=body)

    async def delete_allocations(self, consumer: str) -> None:
        """Free everything ``consumer`` holds (nothing held is not an error)."""
        with contextlib.suppress(errors.NotFound):
            await self._request("DELETE", f"/allocations/{consumer}")


def host_inventory(
    vcpus: int,
    memory_mb: int,
    local_gb: int,
    *,
    cpu_ratio: float,
    ram_ratio: float,
    disk_ratio: float,
    reserved_memory_mb: int,
    reserved_disk_gb: int,
) -> dict[str, dict[str, Any]]:
    """A compute host's Placement inventory (VCPU, MEMORY_MB, DISK_GB), as Nova reports it."""

    def one(total: int, ratio: float, reserved: int) -> dict[str, Any]:
        return {
            "total": total,
            "reserved": min(reserved, total),
            "min_unit": 1,
            "max_unit": total,
            "step_size": 1,
            "allocation_ratio": ratio,
        }

    return {
        "VCPU": one(vcpus, cpu_ratio, 0),
        "MEMORY_MB": one(memory_mb, ram_ratio, reserved_memory_mb),
        "DISK_GB": one(local_gb, disk_ratio, reserved_disk_gb),
    }
