"""The service runner: what a service process runs besides its REST API.

It records the service in the owning service's `services` table
(service_records.py), serves its manager over RPC on `topic` and
`topic.<host>`, sends a heartbeat every `report_interval`, and runs its
periodic tasks, each after a random share of its interval (jitter) so that
many hosts do not all strike at once. `stop()` is graceful: no new requests,
the ones in flight and any periodic task running finish, then it leaves.

    runner = ServiceRunner(runtime.rpc, binary="pocketstack-compute", host=host,
                           topic="compute", manager=ComputeManager(...),
                           records=records, report_interval=cfg.rpc.report_interval,
                           periodic=[PeriodicTask("update_available_resource",
                                                  manager.update_available_resource, 60)])
    await runner.start()
    ...
    await runner.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import RPC, RPCServer, Target
from pocketstack.core.service_records import ServiceRecords

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    func: Callable[[RequestContext], Awaitable[object]]
    interval: float  # seconds between the end of one run and the start of the next
    jitter: float = 0.1  # up to this share of the interval is added to each wait at random
    run_at_start: bool = False

    def next_wait(self, rng: random.Random) -> float:
        return self.interval * (1 + rng.uniform(0, self.jitter))


class ServiceRunner:
    def __init__(
        self, rpc: RPC | None, *, binary: str, host: str, topic: str | None = None,
        manager: object | None = None, records: ServiceRecords | None = None,
        periodic: Sequence[PeriodicTask] = (), report_interval: float = 10.0,
        max_in_flight: int | None = None, rng: random.Random | None = None,
    ):
        self.rpc = rpc
        self.binary, self.host, self.topic = binary, host, topic
        self.manager = manager
        self.records = records
        self.periodic = list(periodic)
        self.report_interval = report_interval
        self.max_in_flight = max_in_flight
        self.rng = rng or random.Random()
        self.server: RPCServer | None = None
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._stopping.clear()
        if self.records is not None:
            await self.records.register(self.host, self.binary, self.topic)
            self._spawn(self._heartbeats(), "heartbeat")
        if self.manager is not None and self.topic is not None:
            assert self.rpc is not None, "serving a manager needs an RPC transport"
            self.server = await self.rpc.serve(
                Target(self.topic, server=self.host), self.manager,
                max_in_flight=self.max_in_flight,
            )
        for task in self.periodic:
            self._spawn(self._run_periodic(task), task.name)
        log.info("%s started on %s (topic %s)", self.binary, self.host, self.topic)

    async def stop(self) -> None:
        """Take no new work, let what runs finish, then leave."""
        self._stopping.set()
        if self.server is not None:
            await self.server.stop()
            self.server = None
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        log.info("%s stopped on %s", self.binary, self.host)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"{self.binary}:{name}"))

    async def _wait(self, seconds: float) -> bool:
        """Sleep, or return early when stopping; True if the runner goes on."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        return not self._stopping.is_set()

    async def _heartbeats(self) -> None:
        assert self.records is not None
        while await self._wait(self.report_interval):
            try:
                if not await self.records.heartbeat(self.host, self.binary):
                    log.warning("%s record of %s was deleted; registering again",
                                self.binary, self.host)
                    await self.records.register(self.host, self.binary, self.topic)
            except Exception:  # noqa: BLE001 - the database may be back next time
                log.exception("heartbeat of %s on %s failed", self.binary, self.host)

    async def _run_periodic(self, task: PeriodicTask) -> None:
        first = 0.0 if task.run_at_start else task.next_wait(self.rng)
        if not await self._wait(first):
            return
        while True:
            try:
                await task.func(RequestContext.admin())
            except Exception:  # noqa: BLE001 - one failed run does not stop the next
                log.exception("periodic task %s of %s failed", task.name, self.binary)
            if not await self._wait(task.next_wait(self.rng)):
                return
