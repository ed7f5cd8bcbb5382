"""Scheduler filters and weighers as pure functions of a request and host states."""

from __future__ import annotations

import time

from pocketstack.compute.scheduler.filters import FILTERS
from pocketstack.compute.scheduler.host_state import Aggregate, HostStates
from pocketstack.compute.scheduler.messages import FlavorSpec, GroupSpec, HostReport, RequestSpec
from pocketstack.compute.scheduler.weighers import WEIGHERS, normalise, rank


def states(*hosts: str, memory_mb: int = 4096) -> HostStates:
    s = HostStates(cpu_ratio=1.0, ram_ratio=1.0, disk_ratio=1.0, down_after=60)
    for h in hosts:
        s.update(HostReport(host=h, node=h, provider_id=f"rp-{h}", vcpus=4,
                            memory_mb=memory_mb, disk_gb=100, hypervisor_type="fake"))
    return s


def spec(ram: int = 512, vcpus: int = 1, disk: int = 1, **kw) -> RequestSpec:
    return RequestSpec(project_id="p", user_id="u", flavor=FlavorSpec(
        id="f", name="f", vcpus=vcpus, ram=ram, disk=disk,
        extra_specs=kw.pop("extra_specs", {})), **kw)


def check(name: str, s: HostStates, req: RequestSpec, host: str):
    return FILTERS[name](s).check(req, s.hosts[host])


def test_resource_filters_say_why():
    s = states("a")
    s.placed("i1", "a", {"MEMORY_MB": 4000, "VCPU": 4, "DISK_GB": 100})
    assert check("ram", s, spec(), "a").reason == "96 MB RAM free, 512 MB needed"
    assert not check("vcpu", s, spec(), "a").passed
    assert not check("disk", s, spec(), "a").passed
    assert check("disk", s, spec(boot_from_volume=True), "a").passed
    s.removed("i1")
    assert all(check(n, s, spec(), "a").passed for n in ("ram", "vcpu", "disk"))


def test_compute_filter_down_and_disabled():
    s = states("a", "b")
    s.hosts["a"].seen_at = time.time() - 120
    s.set_disabled({"b": True})
    assert check("compute", s, spec(), "a").reason == "compute service is down"
    assert check("compute", s, spec(), "b").reason == "compute service is disabled"


def test_zone_and_aggregate_metadata():
    s = states("a", "b")
    s.set_aggregates([(Aggregate("fast", "az1", {"ssd": "true"}), ["a"])])
    assert check("availability_zone", s, spec(availability_zone="az1"), "a").passed
    assert not check("availability_zone", s, spec(availability_zone="az1"), "b").passed
    ssd = spec(extra_specs={"aggregate_instance_extra_specs:ssd": "true"})
    assert check("aggregate_metadata", s, ssd, "a").passed
    assert not check("aggregate_metadata", s, ssd, "b").passed
    assert check("aggregate_metadata", s, spec(extra_specs={"hw:cpu_policy": "x"}), "b").passed


def test_image_properties():
    s = states("a")
    assert check("image_properties", s, spec(image={"architecture": "x86_64"}), "a").passed
    assert not check("image_properties", s, spec(image={"hw_architecture": "aarch64"}),
                     "a").passed
    assert not check("image_properties", s, spec(image={"img_hv_type": "kvm"}), "a").passed


def test_groups_and_hints():
    s = states("a", "b")
    s.placed("m1", "a", {"MEMORY_MB": 1})
    anti = spec(group=GroupSpec(id="g", policy="anti-affinity", members=["m1", "new"]))
    aff = spec(group=GroupSpec(id="g", policy="affinity", members=["m1", "new"]))
    assert not check("server_group_anti_affinity", s, anti, "a").passed
    assert check("server_group_anti_affinity", s, anti, "b").passed
    assert check("server_group_affinity", s, aff, "a").passed
    assert not check("server_group_affinity", s, aff, "b").passed
    two = spec(group=GroupSpec(id="g", policy="anti-affinity", members=["m1"],
                               rules={"max_server_per_host": 2}))
    assert check("server_group_anti_affinity", s, two, "a").passed
    assert check("same_host", s, spec(hints={"same_host": "m1"}), "a").passed
    assert not check("same_host", s, spec(hints={"same_host": ["m1"]}), "b").passed
    assert not check("different_host", s, spec(hints={"different_host": ["m1"]}), "a").passed


def test_weighers_normalise_in_one_place():
    assert normalise([1, 3, 5]) == [0.0, 0.5, 1.0]
    assert normalise([2, 2]) == [0.0, 0.0]
    s = states("a", "b", "c")
    s.placed("i1", "a", {"MEMORY_MB": 2048})
    s.build_result("b", ok=False)
    req = spec()
    ram = [(WEIGHERS["ram"](), 1.0)]
    assert [h.host for _, h in rank(req, list(s.hosts.values()), ram)] == ["b", "c", "a"]
    both = ram + [(WEIGHERS["build_failure"](), 10.0)]
    assert [h.host for _, h in rank(req, list(s.hosts.values()), both)][-1] == "b"
    stacking = [(WEIGHERS["ram"](), -1.0)]
    assert rank(req, list(s.hosts.values()), stacking)[0][1].host == "a"
    soft = spec(group=GroupSpec(id="g", policy="soft-affinity", members=["i1"]))
    ranked = rank(soft, list(s.hosts.values()), [(WEIGHERS["soft_affinity"](), 1.0)])
    assert ranked[0][1].host == "a"
