"""Each scheduler filter and weigher on its own (Nova's semantics)."""

from __future__ import annotations

from typing import Any

import pytest

from kumo.common.config import Settings
from kumo.compute.scheduler import filters
from kumo.compute.scheduler.state import HostState, RequestSpec
from kumo.compute.scheduler.weights import CPUWeigher, DiskWeigher, RAMWeigher, weigh, weighers_from


def host(name: str = "h1", **kw: Any) -> HostState:
    return HostState(host=name, node=name, rp_uuid=f"rp-{name}", **kw)


def spec(**kw: Any) -> RequestSpec:
    return RequestSpec(instance_uuid="i", project_id="p", user_id="u", vcpus=1, memory_mb=512, **kw)


@pytest.mark.parametrize(
    ("state", "passes"),
    [
        ({}, True),
        ({"enabled": False}, False),
        ({"up": False}, False),
        ({"forced_down": True}, False),
    ],
)
def test_compute_filter(state: dict[str, Any], passes: bool) -> None:
    assert filters.ComputeFilter().host_passes(host(**state), spec()) is passes


def test_availability_zone_filter() -> None:
    f = filters.AvailabilityZoneFilter()
    assert f.host_passes(host(zone="az1"), spec(availability_zone="az1"))
    assert not f.host_passes(host(zone="nova"), spec(availability_zone="az1"))
    assert f.host_passes(host(zone="nova"), spec())


def test_image_properties_filter() -> None:
    f = filters.ImagePropertiesFilter()
    h = host(hypervisor_type="fake", architecture="x86_64")
    assert f.host_passes(h, spec(image_properties={"hw_architecture": "x86_64"}))
    assert not f.host_passes(h, spec(image_properties={"hw_architecture": "aarch64"}))
    assert f.host_passes(h, spec(image_properties={"img_hv_type": "FAKE"}))
    assert not f.host_passes(h, spec(image_properties={"img_hv_type": "qemu"}))
    assert f.host_passes(h, spec())


def test_affinity_filter_keeps_the_group_together() -> None:
    f = filters.ServerGroupAffinityFilter()
    first = spec(group_policy="affinity", group_hosts={})
    assert f.host_passes(host("h1"), first) and f.host_passes(host("h2"), first)
    later = spec(group_policy="affinity", group_hosts={"h1": 1})
    assert f.host_passes(host("h1"), later)
    assert not f.host_passes(host("h2"), later)
    assert f.host_passes(host("h2"), spec(group_policy="anti-affinity", group_hosts={"h1": 1}))


def test_anti_affinity_filter_spreads_the_group() -> None:
    f = filters.ServerGroupAntiAffinityFilter()
    s = spec(group_policy="anti-affinity", group_hosts={"h1": 1})
    assert not f.host_passes(host("h1"), s)
    assert f.host_passes(host("h2"), s)
    two = spec(group_policy="anti-affinity", group_hosts={"h1": 1}, group_max_per_host=2)
    assert f.host_passes(host("h1"), two)


def test_aggregate_instance_extra_specs_filter() -> None:
    f = filters.AggregateInstanceExtraSpecsFilter()
    ssd = host(aggregate_metadata={"disk": {"ssd"}})
    plain = host("h2")
    s = spec(extra_specs={"aggregate_instance_extra_specs:disk": "ssd"})
    assert f.host_passes(ssd, s)
    assert not f.host_passes(plain, s)
    assert f.host_passes(plain, spec(extra_specs={"hw:cpu_policy": "dedicated"}))
    assert f.host_passes(
        ssd, spec(extra_specs={"aggregate_instance_extra_specs:disk": "<or> hdd <or> ssd"})
    )


def test_ignore_and_forced_host_filters() -> None:
    assert not filters.IgnoreHostsFilter().host_passes(host("h1"), spec(ignore_hosts={"h1"}))
    assert filters.IgnoreHostsFilter().host_passes(host("h2"), spec(ignore_hosts={"h1"}))
    assert filters.ForcedHostFilter().host_passes(host("h1"), spec(force_host="h1"))
    assert not filters.ForcedHostFilter().host_passes(host("h2"), spec(force_host="h1"))


def test_run_filters_reports_each_filter() -> None:
    hosts = [host("h1", zone="az1"), host("h2", forced_down=True), host("h3")]
    passed, notes = filters.run_filters(hosts, spec(availability_zone="az1"))
    assert [h.host for h in passed] == ["h1"]
    assert notes[0] == "ComputeFilter: 3 -> 2"
    assert "AvailabilityZoneFilter: 2 -> 1" in notes


def test_weighers_spread_by_default_and_pack_when_asked() -> None:
    big = host("big", free_ram_mb=8000, free_vcpus=8, free_disk_gb=100)
    small = host("small", free_ram_mb=1000, free_vcpus=2, free_disk_gb=10)
    spread = weigh([small, big], spec(), weighers_from(Settings(scheduler_spread=True)))
    assert [h.host for _, h in spread] == ["big", "small"]
    pack = weigh([small, big], spec(), weighers_from(Settings(scheduler_spread=False)))
    assert [h.host for _, h in pack] == ["small", "big"]


def test_each_weigher_ranks_by_its_own_resource() -> None:
    a = host("a", free_ram_mb=100, free_vcpus=9, free_disk_gb=1)
    b = host("b", free_ram_mb=900, free_vcpus=1, free_disk_gb=5)
    assert weigh([a, b], spec(), [RAMWeigher()])[0][1].host == "b"
    assert weigh([a, b], spec(), [CPUWeigher()])[0][1].host == "a"
    assert weigh([a, b], spec(), [DiskWeigher()])[0][1].host == "b"
    # A zero multiplier switches a weigher off; normalised weights sum.
    ranked = weigh([a, b], spec(), [RAMWeigher(0.0), CPUWeigher(2.0)])
    assert [(round(w, 2), h.host) for w, h in ranked] == [(2.0, "a"), (0.0, "b")]


def test_request_spec_resources_include_ephemeral_and_swap() -> None:
    s = spec(root_gb=10, ephemeral_gb=5, swap_mb=1536)
    assert s.resources() == {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 17}
