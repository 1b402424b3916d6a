"""What the scheduler decides with: the request spec and each host's state.

Plain data, built from the database and Placement by the scheduler manager, so
the filters and weighers are pure functions of it and are tested one by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestSpec:
    """One instance to place (Nova's ``RequestSpec``)."""

    instance_uuid: str
    project_id: str
    user_id: str
    vcpus: int
    memory_mb: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap_mb: int = 0
    extra_specs: dict[str, str] = field(default_factory=dict)
    image_properties: dict[str, Any] = field(default_factory=dict)
    availability_zone: str | None = None
    #: The server group's policy (``affinity``, ``anti-affinity``, ``soft-…``), if any.
    group_policy: str | None = None
    #: ``max_server_per_host`` of an anti-affinity group (≥2.64 rules).
    group_max_per_host: int = 1
    #: Hosts already running other members of the group → how many.
    group_hosts: dict[str, int] = field(default_factory=dict)
    #: An admin's ``host`` / ``availability_zone=zone:host`` request.
    force_host: str | None = None
    #: Hosts tried already (reschedules) or excluded by a move.
    ignore_hosts: set[str] = field(default_factory=set)

    def resources(self) -> dict[str, int]:
        """The Placement resources this instance needs."""
        disk = self.root_gb + self.ephemeral_gb + math.ceil(self.swap_mb / 1024)
        return {"VCPU": self.vcpus, "MEMORY_MB": self.memory_mb, "DISK_GB": disk}


@dataclass
class HostState:
    """One compute host as a scheduling candidate."""

    host: str
    node: str
    rp_uuid: str
    zone: str = "nova"
    enabled: bool = True
    up: bool = True
    forced_down: bool = False
    hypervisor_type: str = ""
    architecture: str = "x86_64"
    #: Aggregate metadata of every aggregate the host is in: key → values.
    aggregate_metadata: dict[str, set[str]] = field(default_factory=dict)
    free_vcpus: float = 0
    free_ram_mb: float = 0
    free_disk_gb: float = 0
    #: The Placement allocation request that places the instance on this host.
    allocation_request: dict[str, Any] = field(default_factory=dict)
