"""The volume scheduler: picks a backend host for each new volume by
availability zone, volume type and capacity, records it on the volume and
hands the volume to that host's manager. Served over RPC on
`volume-scheduler`; managers fan their capacity reports out to it.

A volume no host can take ends in `error` with a user message naming each
host and why it was refused.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.volume import store
from pocketstack.volume.messages import CapacityReport, ManagerClient, ScheduleRequest
from pocketstack.volume.models import Volume
from pocketstack.volume.scheduler.filters import Filter
from pocketstack.volume.scheduler.filters.availability_zone import AvailabilityZoneFilter
from pocketstack.volume.scheduler.filters.capabilities import CapabilitiesFilter
from pocketstack.volume.scheduler.filters.capacity import CapacityFilter
from pocketstack.volume.scheduler.filters.host import HostFilter
from pocketstack.volume.scheduler.host_state import HostState
from pocketstack.volume.scheduler.weighers import Weigher, normalise
from pocketstack.volume.scheduler.weighers.capacity import CapacityWeigher

log = logging.getLogger(__name__)

FILTERS: dict[str, type] = {
    "HostFilter": HostFilter,
    "AvailabilityZoneFilter": AvailabilityZoneFilter,
    "CapabilitiesFilter": CapabilitiesFilter,
    "CapacityFilter": CapacityFilter,
}
WEIGHERS: dict[str, type] = {"CapacityWeigher": CapacityWeigher}


def select_host(request: ScheduleRequest, hosts: list[HostState], filters: list[Filter],
                weighers: list[Weigher]) -> tuple[HostState | None, list[str]]:
    """The best host passing every filter, or None and why each host was refused."""
    passed, refusals = [], []
    for host in hosts:
        for f in filters:
            result = f(request, host)
            if not result.passed:
                refusals.append(f"{host.host}: {f.name}: {result.reason}")
                break
        else:
            passed.append(host)
    if not passed:
        return None, refusals
    scores = [0.0] * len(passed)
    for w in weighers:
        for i, value in enumerate(normalise([w(request, h) for h in passed])):
            scores[i] += w.multiplier * value
    best = max(range(len(passed)), key=lambda i: (scores[i], passed[i].host))
    return passed[best], refusals


class SchedulerManager:
    def __init__(self, db: Database, managers: ManagerClient, *, stale_after: float = 120.0):
        self.db = db
        self.managers = managers
        self.stale_after = stale_after
        self.hosts: dict[str, HostState] = {}
        self.filters: list[Filter] = [cls() for cls in FILTERS.values()]
        self.weighers: list[Weigher] = [cls() for cls in WEIGHERS.values()]
        self._lock = asyncio.Lock()

    async def update_capacity(self, ctxt: RequestContext, report: CapacityReport) -> None:
        found = self.hosts.get(report.host)
        if found is None:
            self.hosts[report.host] = HostState(report)
        else:
            found.refresh(report)

    def live_hosts(self) -> list[HostState]:
        cutoff = time.monotonic() - self.stale_after
        return [h for h in self.hosts.values() if h.received >= cutoff]

    async def create_volume(self, ctxt: RequestContext, request: ScheduleRequest) -> None:
        async with self._lock:  # placements update host states one at a time
            host, refusals = select_host(request, self.live_hosts(), self.filters,
                                         self.weighers)
            if host is not None:
                host.place(request.size)
        if host is None:
            await self._no_valid_host(request, refusals)
            return
        full_host = f"{host.host}#{host.report.pool}"
        async with self.db.write() as s:
            moved = await store.transition(s, Volume, request.volume_id, ["creating"],
                                           host=full_host)
        if moved:
            await self.managers.create_volume(ctxt, full_host, request)

    async def _no_valid_host(self, request: ScheduleRequest, refusals: list[str]) -> None:
        why = "; ".join(refusals) if refusals else "no volume backend is reporting"
        log.warning("no valid backend for volume %s: %s", request.volume_id, why)
        async with self.db.write() as s:
            volume = await store.find_volume(s, request.volume_id)
            if volume is None or volume.status != "creating":
                return
            volume.status = "error"
            await store.add_message(s, volume.project_id, "VOLUME", volume.id,
                                    "VOLUME_SCHEDULER_001_001",
                                    f"schedule allocate volume: No valid backend was found. "
                                    f"{why}")
