"""Scheduler weighers: each one small class ranking hosts by one resource.

As Nova's (``nova/scheduler/weights/``): each weigher's raw values are
normalised to 0..1 across the candidate hosts, multiplied by the weigher's
multiplier and summed; the highest total wins. Positive multipliers spread
instances (most free first); ``scheduler_spread = false`` negates them to pack.
"""

from __future__ import annotations

from kumo.common.config import Settings
from kumo.compute.scheduler.state import HostState, RequestSpec


class BaseWeigher:
    """A weigher: :meth:`raw` gives a host's unnormalised weight."""

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    def raw(self, host: HostState, spec: RequestSpec) -> float:
        """The host's raw weight for the request."""
        raise NotImplementedError


class RAMWeigher(BaseWeigher):
    """Free memory (MiB)."""

    def raw(self, host: HostState, spec: RequestSpec) -> float:
        """Free RAM."""
        return host.free_ram_mb


class CPUWeigher(BaseWeigher):
    """Free VCPUs."""

    def raw(self, host: HostState, spec: RequestSpec) -> float:
        """Free VCPUs."""
        return host.free_vcpus


class DiskWeigher(BaseWeigher):
    """Free local disk (GiB)."""

    def raw(self, host: HostState, spec: RequestSpec) -> float:
        """Free disk."""
        return host.free_disk_gb


def weighers_from(settings: Settings) -> list[BaseWeigher]:
    """The weighers with the settings' multipliers (negated to pack)."""
    sign = 1.0 if settings.scheduler_spread else -1.0
    return [
        RAMWeigher(sign * settings.scheduler_ram_weight_multiplier),
        CPUWeigher(sign * settings.scheduler_cpu_weight_multiplier),
        DiskWeigher(sign * settings.scheduler_disk_weight_multiplier),
    ]


def _normalise(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if high == low:
        return [0.0 for _ in values]
    return [(v - low) / (high - low) for v in values]


def weigh(
    hosts: list[HostState], spec: RequestSpec, weighers: list[BaseWeigher]
) -> list[tuple[float, HostState]]:
    """The hosts with their total weights, best first (ties keep the input order)."""
    totals = [0.0 for _ in hosts]
    if hosts:
        for weigher in weighers:
            normalised = _normalise([weigher.raw(h, spec) for h in hosts])
            for i, value in enumerate(normalised):
                totals[i] += weigher.multiplier * value
    ranked = sorted(zip(totals, range(len(hosts)), strict=True), key=lambda t: -t[0])
    return [(total, hosts[i]) for total, i in ranked]
