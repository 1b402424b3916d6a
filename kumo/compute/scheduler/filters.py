"""Scheduler filters: each one small class deciding whether a host can take the request.

The same names and meanings as Nova's (``nova/scheduler/filters/``). Placement
has already dropped hosts without enough VCPU, memory and disk.
"""

from __future__ import annotations

from kumo.compute.scheduler.state import HostState, RequestSpec

_AGGREGATE_SCOPE = "aggregate_instance_extra_specs"


class BaseFilter:
    """A filter: :meth:`host_passes` is true for hosts that may take the request."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether ``host`` may take ``spec``."""
        raise NotImplementedError

    def filter_all(self, hosts: list[HostState], spec: RequestSpec) -> list[HostState]:
        """The hosts that pass."""
        return [h for h in hosts if self.host_passes(h, spec)]

    @property
    def name(self) -> str:
        """The filter's name, as logged and recorded."""
        return type(self).__name__


class ComputeFilter(BaseFilter):
    """The host's nova-compute service is enabled, up and not forced down."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether the host's service is usable."""
        return host.enabled and host.up and not host.forced_down


class IgnoreHostsFilter(BaseFilter):
    """Hosts already tried for this request (reschedule) or excluded by a move."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether the host was not tried yet."""
        return host.host not in spec.ignore_hosts


class ForcedHostFilter(BaseFilter):
    """An admin asked for one host: only that one passes."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether the host is the forced one (or none is forced)."""
        return spec.force_host is None or host.host == spec.force_host


class AvailabilityZoneFilter(BaseFilter):
    """The host is in the availability zone the request asked for."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether the host's zone matches."""
        return not spec.availability_zone or host.zone == spec.availability_zone


class ImagePropertiesFilter(BaseFilter):
    """The image's ``hw_architecture`` and ``img_hv_type`` fit the host."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether the host's architecture and hypervisor fit the image."""
        props = spec.image_properties
        arch = props.get("hw_architecture") or props.get("architecture")
        if arch and str(arch).lower() != host.architecture.lower():
            return False
        hv_type = props.get("img_hv_type") or props.get("hypervisor_type")
        return not hv_type or str(hv_type).lower() == host.hypervisor_type.lower()


class ServerGroupAffinityFilter(BaseFilter):
    """An ``affinity`` group's members all go to the host of the first one."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether the host already runs the group (or the group is still empty)."""
        if spec.group_policy != "affinity" or not spec.group_hosts:
            return True
        return host.host in spec.group_hosts


class ServerGroupAntiAffinityFilter(BaseFilter):
    """An ``anti-affinity`` group's members go to different hosts (≤ max_server_per_host)."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether the host runs fewer members than the group allows."""
        if spec.group_policy != "anti-affinity":
            return True
        return spec.group_hosts.get(host.host, 0) < max(1, spec.group_max_per_host)


class AggregateInstanceExtraSpecsFilter(BaseFilter):
    """Flavor extra specs ``aggregate_instance_extra_specs:K=V`` need aggregate metadata K=V."""

    def host_passes(self, host: HostState, spec: RequestSpec) -> bool:
        """Whether every scoped extra spec is matched by one of the host's aggregates."""
        for key, wanted in spec.extra_specs.items():
            scope, sep, name = key.partition(":")
            if not sep:
                continue  # unscoped keys belong to other filters in Kumo
            if scope != _AGGREGATE_SCOPE:
                continue
            values = host.aggregate_metadata.get(name)
            if not values or not _matches(str(wanted), values):
                return False
        return True


def _matches(wanted: str, values: set[str]) -> bool:
    # Nova's extra-spec operators, the common ones: "<in> x", "<or> a <or> b", "s== x".
    wanted = wanted.strip()
    if wanted.startswith("<in>"):
        needle = wanted[4:].strip()
        return any(needle in v for v in values)
    if wanted.startswith("<or>"):
        options = {w.strip() for w in wanted.split("<or>") if w.strip()}
        return bool(options & values)
    if wanted.startswith("s=="):
        wanted = wanted[3:].strip()
    return wanted in values


#: The filters applied, in order (cheap ones first).
DEFAULT_FILTERS: tuple[BaseFilter, ...] = (
    ComputeFilter(),
    IgnoreHostsFilter(),
    ForcedHostFilter(),
    AvailabilityZoneFilter(),
    ImagePropertiesFilter(),
    ServerGroupAffinityFilter(),
    ServerGroupAntiAffinityFilter(),
    AggregateInstanceExtraSpecsFilter(),
)


def run_filters(
    hosts: list[HostState], spec: RequestSpec, filters: tuple[BaseFilter, ...] = DEFAULT_FILTERS
) -> tuple[list[HostState], list[str]]:
    """The hosts passing every filter, and one line per filter of how many it kept."""
    notes = []
    for f in filters:
        before = len(hosts)
        hosts = f.filter_all(hosts, spec)
        notes.append(f"{f.name}: {before} -> {len(hosts)}")
        if not hosts:
            break
    return hosts, notes
