"""The periodic work of every fake host in a process, on one timer.

`pocketstack up --fake-hosts 10000` runs ten thousand compute agents; each
still serves its own `compute.<host>` queue, but none has timers of its own.
At start the fleet registers every host at once (placement: one listing, the
missing providers, the inventories through POST /reshaper; the conductor:
one `report_hosts` call, so one transaction for the service records and one
for the compute nodes). Then, every `report_interval`, one `report_hosts`
call says all hosts are alive and carries only the reports that changed; every
`power_sync_interval`, only the hosts that run guests sync their power
states. Idle, ten thousand hosts cost one small message every ten seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from pocketstack.compute.agent.manager import ComputeAgent
from pocketstack.compute.conductor.messages import ConductorClient
from pocketstack.compute.remote.placement import PlacementAPI, host_inventory
from pocketstack.compute.virt.driver import HostResources
from pocketstack.core.context import RequestContext

log = logging.getLogger(__name__)
BATCH = 2000  # hosts per report_hosts message


class FakeFleet:
    def __init__(self, agents: Sequence[ComputeAgent], conductor: ConductorClient,
                 placement: PlacementAPI, *, report_interval: float,
                 power_sync_interval: float):
        self.agents = list(agents)
        self.conductor, self.placement = conductor, placement
        self.report_interval = report_interval
        self.power_sync_interval = power_sync_interval
        self._sent: dict[str, HostResources] = {}  # host -> its size last reported
        self._synced: set[str] = set()  # hosts whose guests were synced last time
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register every host (placement, then the conductor), then start the timer."""
        began = time.monotonic()
        reports = [await agent._report() for agent in self.agents]
        await self.placement.register_hosts({
            a.provider_id: (a.host, host_inventory(r, a.ratios))
            for a, r in zip(self.agents, reports, strict=True)})
        await self.report(RequestContext.admin())
        log.info("%d fake hosts registered in %.1f s", len(self.agents),
                 time.monotonic() - began)
        self._task = asyncio.create_task(self._run(), name="fake-fleet")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def report(self, ctxt: RequestContext) -> None:
        """Every host's heartbeat, with the reports that changed since the last one."""
        changed, sizes = [], {}
        for agent in self.agents:
            size = await agent.driver.resources()
            if self._sent.get(agent.host) != size:
                changed.append(await agent._report())
                sizes[agent.host] = size
        hosts = [a.host for a in self.agents]
        for i in range(0, max(len(hosts), len(changed)), BATCH):
            await self.conductor.report_hosts(ctxt, changed[i:i + BATCH], hosts[i:i + BATCH])
        self._sent.update(sizes)

    async def sync_power_states(self, ctxt: RequestContext) -> None:
        """Only hosts that run guests, or ran some at the last sync, have news."""
        running = set()
        for agent in self.agents:
            guests = await agent.driver.list_guests()
            if guests or agent.host in self._synced:
                await agent._sync_power_states(ctxt)
            if guests:
                running.add(agent.host)
        self._synced = running

    async def _run(self) -> None:
        now = time.monotonic()
        due = {"report": now + self.report_interval, "sync": now + self.power_sync_interval}
        while True:
            await asyncio.sleep(max(0.0, min(due.values()) - time.monotonic()))
            now = time.monotonic()
            try:
                if now >= due["report"]:
                    due["report"] = now + self.report_interval
                    await self.report(RequestContext.admin())
                if now >= due["sync"]:
                    due["sync"] = now + self.power_sync_interval
                    await self.sync_power_states(RequestContext.admin())
            except Exception:  # noqa: BLE001 - the next round may succeed
                log.exception("fake fleet report failed")
