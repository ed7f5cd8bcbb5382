"""The scheduler's view of every host, kept up to date incrementally.

Loaded once from the database at start; afterwards it changes only by
events: an agent's report (its size and heartbeat), an instance placed on or
removed from a host, a build that failed, an aggregate change. A request
never rebuilds it; claims consume from it synchronously, so two requests
handled concurrently by one scheduler see each other's claims.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pocketstack.compute.scheduler.messages import HostReport

Resources = dict[str, int]


@dataclass
class Aggregate:
    name: str
    availability_zone: str | None
    metadata: dict[str, str]


@dataclass
class HostState:
    host: str
    node: str
    provider_id: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    hypervisor_type: str = "fake"
    cpu_arch: str = "x86_64"
    cpu_ratio: float = 16.0
    ram_ratio: float = 1.5
    disk_ratio: float = 1.0
    seen_at: float = 0.0
    disabled: bool = False
    failed_builds: int = 0
    default_zone: str = "nova"
    instances: dict[str, Resources] = field(default_factory=dict)
    aggregates: list[Aggregate] = field(default_factory=list)
    _used: dict[str, int] = field(default_factory=dict)

    def used(self, rc: str) -> int:
        return self._used.get(rc, 0)

    def add(self, instance_id: str, resources: Resources) -> None:
        self.discard(instance_id)
        self.instances[instance_id] = dict(resources)
        for rc, n in resources.items():
            self._used[rc] = self._used.get(rc, 0) + n

    def discard(self, instance_id: str) -> None:
        for rc, n in self.instances.pop(instance_id, {}).items():
            self._used[rc] -= n

    @property
    def free_ram_mb(self) -> float:
        return self.memory_mb * self.ram_ratio - self.used("MEMORY_MB")

    @property
    def free_vcpus(self) -> float:
        return self.vcpus * self.cpu_ratio - self.used("VCPU")

    @property
    def free_disk_gb(self) -> float:
        return self.disk_gb * self.disk_ratio - self.used("DISK_GB")

    @property
    def availability_zone(self) -> str:
        zones = [a.availability_zone for a in self.aggregates if a.availability_zone]
        return zones[0] if zones else self.default_zone

    def metadata(self) -> dict[str, set[str]]:
        merged: dict[str, set[str]] = {}
        for agg in self.aggregates:
            for key, value in agg.metadata.items():
                merged.setdefault(key, set()).update(v.strip() for v in value.split(","))
        return merged


class HostStates:
    def __init__(self, *, cpu_ratio: float, ram_ratio: float, disk_ratio: float,
                 down_after: float, default_zone: str = "nova"):
        self.ratios = (cpu_ratio, ram_ratio, disk_ratio)
        self.down_after = down_after
        self.default_zone = default_zone
        self.hosts: dict[str, HostState] = {}
        self.order: list[HostState] = []  # in arrival order: what selection walks
        self._zones: dict[str, list[HostState]] | None = None  # zone -> its hosts
        self.where: dict[str, str] = {}  # instance id -> host
        self._aggregates: list[tuple[Aggregate, list[str]]] = []

    def is_up(self, host: HostState, now: float | None = None) -> bool:
        return (now or time.time()) - host.seen_at <= self.down_after

    def update(self, r: HostReport) -> None:
        state = self.hosts.get(r.host)
        if state is None:
            state = self.hosts[r.host] = HostState(
                r.host, r.node, r.provider_id, r.vcpus, r.memory_mb, r.disk_gb,
                cpu_ratio=self.ratios[0], ram_ratio=self.ratios[1], disk_ratio=self.ratios[2],
                default_zone=self.default_zone)
            state.aggregates = [a for a, hosts in self._aggregates if r.host in hosts]
            self.order.append(state)
            self._zones = None
        state.vcpus, state.memory_mb, state.disk_gb = r.vcpus, r.memory_mb, r.disk_gb
        state.hypervisor_type, state.cpu_arch = r.hypervisor_type, r.cpu_arch
        state.seen_at, state.disabled = r.seen_at, r.disabled

    def seen(self, hosts: list[str], at: float) -> None:
        """Heartbeats without a change of size: only the time moves."""
        for name in hosts:
            state = self.hosts.get(name)
            if state is not None:
                state.seen_at = at

    def placed(self, instance_id: str, host: str, resources: Resources) -> None:
        self.removed(instance_id)
        state = self.hosts.get(host)
        if state is not None:
            state.add(instance_id, resources)
            self.where[instance_id] = host

    def removed(self, instance_id: str) -> str | None:
        host = self.where.pop(instance_id, None)
        if host is not None and host in self.hosts:
            self.hosts[host].discard(instance_id)
        return host

    def build_result(self, host: str, ok: bool) -> None:
        state = self.hosts.get(host)
        if state is not None:
            state.failed_builds = 0 if ok else state.failed_builds + 1

    def set_aggregates(self, aggregates: list[tuple[Aggregate, list[str]]]) -> None:
        self._aggregates = aggregates
        member: dict[str, list[Aggregate]] = {}
        for agg, hosts in aggregates:
            for name in hosts:
                member.setdefault(name, []).append(agg)
        for state in self.hosts.values():
            state.aggregates = member.get(state.host, [])
        self._zones = None

    def in_zone(self, zone: str) -> list[HostState]:
        """The hosts of an availability zone, from an index rebuilt only when hosts
        or aggregates change."""
        if self._zones is None:
            self._zones = {}
            for state in self.order:
                self._zones.setdefault(state.availability_zone, []).append(state)
        return self._zones.get(zone, [])

    def set_disabled(self, disabled: dict[str, bool]) -> None:
        for host, off in disabled.items():
            if host in self.hosts:
                self.hosts[host].disabled = off

    def hosts_of(self, instance_ids: list[str]) -> set[str]:
        return {self.where[i] for i in instance_ids if i in self.where}

    def describe(self) -> list[dict[str, Any]]:
        return [{"host": h.host, "free_ram_mb": h.free_ram_mb, "instances": len(h.instances)}
                for h in self.hosts.values()]
