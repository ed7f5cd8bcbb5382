"""Selection over many hosts: filters run until enough hosts pass, never over
every host unless they must, and a miss is only ever a real lack of room."""

from __future__ import annotations

import pytest

from pocketstack.compute.remote.placement import provider_uuid
from pocketstack.compute.scheduler.filters import FILTERS
from pocketstack.compute.scheduler.host_state import Aggregate, HostStates
from pocketstack.compute.scheduler.messages import GroupSpec, HostReport
from pocketstack.compute.scheduler.selection import NoValidHost, Selector, _applies
from pocketstack.compute.scheduler.weighers import WEIGHERS
from tests.unit.compute.conftest import start_env, stop_env
from tests.unit.compute.test_scheduler import spec, states

ALL_FILTERS = list(FILTERS)


def selector(s: HostStates, enough: int) -> Selector:
    return Selector(s, [FILTERS[n](s) for n in ALL_FILTERS],
                    [(WEIGHERS[n](), 1.0) for n in ("ram", "vcpu")], enough)


def test_stops_once_enough_hosts_passed_and_rotates():
    s = states(*[f"h{i}" for i in range(1000)])
    sel = selector(s, enough=10)
    first = sel.select(spec())
    assert len(first) == 10 and sel._start == 10
    second = sel.select(spec())
    assert not {h.host for h in first} & {h.host for h in second}  # the next window


def test_a_host_with_room_is_found_wherever_it_is():
    s = states(*[f"h{i}" for i in range(500)])
    for i in range(499):
        s.placed(f"i{i}", f"h{i}", {"MEMORY_MB": 4096})
    sel = selector(s, enough=5)
    sel._start = 7
    assert [h.host for h in sel.select(spec())] == ["h499"]


def test_no_valid_host_counts_every_host():
    s = states(*[f"h{i}" for i in range(300)], memory_mb=256)
    s.set_disabled({"h3": True})
    with pytest.raises(NoValidHost) as err:
        selector(s, enough=5).select(spec(ram=512))
    assert str(err.value).startswith("Of 300 host(s), filter compute removed 1 (e.g. h3: "
                                     "compute service is disabled); ram removed 299 (e.g.")


def test_zone_comes_from_the_index():
    s = states(*[f"h{i}" for i in range(100)])
    s.set_aggregates([(Aggregate("edge", "az-edge", {}), ["h40", "h41"])])
    sel = selector(s, enough=100)
    assert sorted(h.host for h in sel.select(spec(availability_zone="az-edge"))) == [
        "h40", "h41"]
    assert len(sel.select(spec(availability_zone="nova"))) == 98
    with pytest.raises(NoValidHost, match="availability_zone removed 100 .*not in zone x"):
        sel.select(spec(availability_zone="x"))
    s.update(HostReport(host="h-new", node="h-new", provider_id="rp-new", vcpus=4,
                        memory_mb=4096, disk_gb=100, hypervisor_type="fake"))
    assert len(sel.select(spec(availability_zone="nova"))) == 99  # index follows new hosts


def test_filters_that_cannot_apply_are_skipped():
    s = states("a")
    sel = selector(s, enough=5)
    assert [f.name for f in sel.filters if _applies(f, spec())] == [
        "compute", "ram", "vcpu", "disk"]
    grouped = spec(group=GroupSpec(id="g", policy="anti-affinity"), hints={"same_host": "x"})
    assert [f.name for f in sel.filters if _applies(f, grouped)] == [
        "compute", "ram", "vcpu", "disk", "server_group_anti_affinity", "same_host"]


async def test_refused_claims_in_the_sample_fall_back_to_the_other_hosts(tmp_path):
    env = await start_env(tmp_path, scheduler_hosts_to_weigh=1, fake_vcpus=1,
                          cpu_allocation_ratio=1.0)
    try:
        placement = env.remotes.placement
        for host in ("fake-1", "fake-2"):  # full in placement, unknown to the scheduler
            assert await placement.claim(f"other-{host}", provider_uuid(host), {"VCPU": 1},
                                         "p", "u")
        server = await env.boot()
        assert server["status"] == "ACTIVE"
        async with env.client("admin") as c:
            got = (await c.get(f"/v2.1/servers/{server['id']}")).json()["server"]
        assert got["OS-EXT-SRV-ATTR:host"] == "fake-3"
        failed = await env.boot()
        assert failed["status"] == "ERROR"
        assert "placement refused the claim on 2" in failed["fault"]["message"]
    finally:
        await stop_env(env)
