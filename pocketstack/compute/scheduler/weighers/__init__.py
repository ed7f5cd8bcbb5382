"""Scheduler weighers: one per file, chosen by name from WEIGHERS. A weigher
returns a raw number for one host (more is better); `rank` normalises each
weigher's numbers over the candidate hosts to 0..1 in this one place, then
sums them times their configured multipliers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from pocketstack.compute.scheduler.weighers.build_failure import BuildFailureWeigher
from pocketstack.compute.scheduler.weighers.disk import DiskWeigher
from pocketstack.compute.scheduler.weighers.ram import RamWeigher
from pocketstack.compute.scheduler.weighers.soft_affinity import SoftAffinityWeigher
from pocketstack.compute.scheduler.weighers.soft_anti_affinity import SoftAntiAffinityWeigher
from pocketstack.compute.scheduler.weighers.vcpu import VcpuWeigher

if TYPE_CHECKING:
    from pocketstack.compute.scheduler.host_state import HostState
    from pocketstack.compute.scheduler.messages import RequestSpec


class Weigher(Protocol):
    name: str

    def weigh(self, spec: RequestSpec, host: HostState) -> float: ...


WEIGHERS: dict[str, type[Weigher]] = {
    "ram": RamWeigher,
    "vcpu": VcpuWeigher,
    "disk": DiskWeigher,
    "build_failure": BuildFailureWeigher,
    "soft_affinity": SoftAffinityWeigher,
    "soft_anti_affinity": SoftAntiAffinityWeigher,
}


def normalise(values: Sequence[float]) -> list[float]:
    """Min-max to 0..1; all equal gives all 0 (the weigher cannot tell them apart)."""
    low, high = min(values), max(values)
    if high == low:
        return [0.0] * len(values)
    return [(v - low) / (high - low) for v in values]


def rank(spec: RequestSpec, hosts: list[HostState],
         weighers: list[tuple[Weigher, float]]) -> list[tuple[float, HostState]]:
    """The hosts, best first, with their total weights."""
    totals = [0.0] * len(hosts)
    for weigher, multiplier in weighers:
        if multiplier == 0 or not hosts:
            continue
        raw = normalise([weigher.weigh(spec, h) for h in hosts])
        totals = [t + multiplier * w for t, w in zip(totals, raw, strict=True)]
    order = sorted(range(len(hosts)), key=lambda i: (-totals[i], hosts[i].host))
    return [(totals[i], hosts[i]) for i in order]
