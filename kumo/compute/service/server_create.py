"""Creating servers: check the request against flavors, keys, quotas and groups; write rows.

The API validates the body and the image (an HTTP call), then calls
:func:`create_instances` in one write transaction: the instances are written in
``building``/``scheduling`` (booklet steps 6–7) with their metadata, tags and
block device mappings, and each gets a ``create`` action.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumo.common.db import utcnow
from kumo.common.errors import BadRequest, NotFound
from kumo.compute import states
from kumo.compute.db.block_devices import BlockDeviceMapping
from kumo.compute.db.flavors import Flavor
from kumo.compute.db.hosts import ComputeNode
from kumo.compute.db.instances import Instance, InstanceMetadata, InstanceTag
from kumo.compute.db.keypairs import KeyPair
from kumo.compute.service import instance_actions, quotas, server_groups
from kumo.compute.service.errors import QuotaExceeded
from kumo.compute.service.flavors import extra_specs_of


@dataclass
class BuildRequest:
    """A validated create request, ready to be written."""

    project_id: str
    user_id: str
    name: str
    flavor: Flavor
    image_ref: str
    request_id: str
    description: str | None = None
    min_count: int = 1
    max_count: int = 1
    key_name: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    config_drive: bool = False
    availability_zone: str | None = None
    forced_host: str | None = None
    forced_node: str | None = None
    requested_host: str | None = None
    requested_node: str | None = None
    networks: Any = field(default_factory=list)
    security_groups: list[str] = field(default_factory=lambda: ["default"])
    block_devices: list[dict[str, Any]] = field(default_factory=list)
    auto_disk_config: bool = False
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    tags: list[str] = field(default_factory=list)
    scheduler_hints: dict[str, Any] = field(default_factory=dict)
    trusted_certs: list[str] | None = None
    hostname: str | None = None


def flavor_snapshot(s: Session, flavor: Flavor) -> dict[str, Any]:
    """The flavor as stored on an instance (what the server view shows later)."""
    return {
        "flavorid": flavor.id,
        "name": flavor.name,
        "vcpus": flavor.vcpus,
        "memory_mb": flavor.memory_mb,
        "root_gb": flavor.root_gb,
        "ephemeral_gb": flavor.ephemeral_gb,
        "swap": flavor.swap,
        "rxtx_factor": flavor.rxtx_factor,
        "is_public": flavor.is_public,
        "description": flavor.description,
        "extra_specs": extra_specs_of(s, flavor.id),
    }


def reservation_id() -> str:
    """A new reservation id (Nova's ``r-`` plus eight random characters)."""
    alphabet = string.ascii_lowercase + string.digits
    return "r-" + "".join(secrets.choice(alphabet) for _ in range(8))


def sanitize_hostname(name: str) -> str:
    """A guest hostname from a display name (Nova's ``sanitize_hostname``)."""
    hostname = name.lower()
    hostname = re.sub(r"[ _.]", "-", hostname)
    hostname = re.sub(r"[^\w.-]+", "", hostname, flags=re.ASCII)
    hostname = hostname.strip(".-")[:63]
    return hostname or "server"


def key_data_for(s: Session, user_id: str, key_name: str | None) -> str | None:
    if key_name is None:
        return None
    key = s.scalars(
        select(KeyPair).where(KeyPair.user_id == user_id, KeyPair.name == key_name)
    ).first()
    if key is None:
        raise BadRequest("Invalid key_name provided.")
    return key.public_key


def _fitting_count(s: Session, req: BuildRequest, limits: quotas.Limits) -> int:
    """The most instances between min_count and max_count that the quotas allow."""
    failure: QuotaExceeded | None = None
    for count in range(req.max_count, req.min_count - 1, -1):
        deltas = {
            "instances": count,
            "cores": req.flavor.vcpus * count,
            "ram": req.flavor.memory_mb * count,
        }
        try:
            quotas.check_deltas(s, req.project_id, req.user_id, deltas, limits_by_scope=limits)
        except QuotaExceeded as exc:
            if failure is None or count == req.min_count:
                failure = exc
            continue
        return count
    assert failure is not None
    raise failure


def _check_metadata_quota(req: BuildRequest, limits: quotas.Limits) -> None:
    limit = limits[req.user_id or None].get("metadata_items", -1)
    if 0 <= limit < len(req.metadata):
        raise QuotaExceeded(f"Maximum number of metadata items exceeds {limit}")


def _check_requested_destination(s: Session, req: BuildRequest) -> None:
    """The host and node asked for (≥2.74) must exist (Nova's ComputeHostNotFound → 400)."""
    if req.requested_host is not None:
        found = s.scalars(
            select(ComputeNode.id).where(ComputeNode.host == req.requested_host)
        ).first()
        if found is None:
            raise BadRequest(f"Compute host {req.requested_host} could not be found.")
    if req.requested_node is not None:
        found = s.scalars(
            select(ComputeNode.id).where(ComputeNode.hypervisor_hostname == req.requested_node)
        ).first()
        if found is None:
            raise BadRequest(f"Compute host {req.requested_node} could not be found.")


def _group_hint(req: BuildRequest) -> str | None:
    group = req.scheduler_hints.get("group")
    if isinstance(group, list):
        group = group[0] if group else None
    return str(group) if group else None


def create_instances(s: Session, req: BuildRequest) -> tuple[list[Instance], str]:
    """Write the requested instances (as many as quotas allow, at least min_count).

    Returns the instances and their reservation id. Raises BadRequest for an
    unknown key or server group, QuotaExceeded (403) past a quota.
    """
    key_data = key_data_for(s, req.user_id, req.key_name)
    _check_requested_destination(s, req)
    # This transaction holds the database's write lock: the limits are read once.
    limits = quotas.scoped_limits(s, req.project_id, req.user_id or None)
    _check_metadata_quota(req, limits)
    group_id = _group_hint(req)
    if group_id is not None:
        try:
            server_groups.get_group(s, group_id)
        except NotFound as exc:
            raise BadRequest(f"Instance group {group_id} could not be found.") from exc
    count = _fitting_count(s, req, limits)
    resv = reservation_id()
    snapshot = flavor_snapshot(s, req.flavor)
    now = utcnow()
    made: list[Instance] = []
    for index in range(count):
        name = req.name if count == 1 else f"{req.name}-{index + 1}"
        instance = Instance(
            uuid=str(uuid.uuid4()),
            display_name=name,
            display_description=req.description,
            project_id=req.project_id,
            user_id=req.user_id,
            hostname=req.hostname if req.hostname and count == 1 else sanitize_hostname(name),
            reservation_id=resv,
            launch_index=index,
            image_ref=req.image_ref,
            flavor_id=req.flavor.id,
            flavor=snapshot,
            vcpus=req.flavor.vcpus,
            memory_mb=req.flavor.memory_mb,
            root_gb=req.flavor.root_gb,
            ephemeral_gb=req.flavor.ephemeral_gb,
            vm_state=states.BUILDING,
            task_state=states.SCHEDULING,
            power_state=states.NOSTATE,
            progress=0,
            availability_zone=req.availability_zone,
            pinned_availability_zone=req.availability_zone,
            host=None,
            node=None,
            requested_host=req.requested_host or req.forced_host,
            requested_node=req.requested_node or req.forced_node,
            key_name=req.key_name,
            key_data=key_data,
            user_data=req.user_data,
            config_drive="True" if req.config_drive else "",
            auto_disk_config=req.auto_disk_config,
            access_ip_v4=req.access_ip_v4,
            access_ip_v6=req.access_ip_v6,
            locked=False,
            requested_networks=req.networks,
            security_groups=list(req.security_groups),
            scheduler_hints=dict(req.scheduler_hints),
            trusted_certs=req.trusted_certs,
            network_info={},
            system_metadata={"forced_host": req.forced_host} if req.forced_host else {},
            created_at=now,
            updated_at=now,
            deleted=False,
        )
        s.add(instance)
        s.flush()
        for key, value in req.metadata.items():
            s.add(InstanceMetadata(instance_uuid=instance.uuid, key=key, value=value))
        for tag in dict.fromkeys(req.tags):
            s.add(InstanceTag(instance_uuid=instance.uuid, tag=tag))
        for bdm in req.block_devices:
            s.add(BlockDeviceMapping(instance_uuid=instance.uuid, created_at=now, **bdm))
        if group_id is not None:
            server_groups.add_member(s, group_id, instance.uuid)
        instance_actions.start_action(
            s,
            instance.uuid,
            instance_actions.CREATE,
            req.request_id,
            req.user_id,
            req.project_id,
        )
        made.append(instance)
    s.flush()
    return made, resv
