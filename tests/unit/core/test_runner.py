"""The service runner and the services table it keeps (core/runner.py,
core/service_records.py), on a real SQLite database and the local transport."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import DeclarativeBase

from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.exceptions import NotFound
from pocketstack.core.rpc import RPC, LocalTransport, MessagingTimeout
from pocketstack.core.runner import PeriodicTask, ServiceRunner
from pocketstack.core.service_records import ServiceRecordMixin, ServiceRecords


class Base(DeclarativeBase):
    pass


class Service(ServiceRecordMixin, Base):
    pass


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Manager:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def ping(self, ctxt: RequestContext) -> str:
        return "pong"

    async def hold(self, ctxt: RequestContext) -> str:
        self.started.set()
        await self.release.wait()
        return "held"


@pytest.fixture
async def db(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'compute.db'}")
    await db.start()
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield db
    await db.close()


@pytest.fixture
async def rpc():
    rpc = RPC(LocalTransport(), timeout=2.0)
    yield rpc
    await rpc.close()


async def eventually(check, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_register_then_heartbeat_counts_reports(db):
    clock = Clock()
    records = ServiceRecords(db, Service, down_time=60, clock=clock)
    first = await records.register("host-1", "pocketstack-compute", "compute")
    assert (first.host, first.binary, first.topic, first.disabled, first.forced_down,
            first.report_count) == ("host-1", "pocketstack-compute", "compute", False, False, 0)
    clock.now += timedelta(seconds=10)
    assert await records.heartbeat("host-1", "pocketstack-compute")
    [record] = await records.list()
    assert record.report_count == 1
    assert record.last_seen_up.replace(tzinfo=UTC) == clock.now
    assert not await records.heartbeat("host-9", "pocketstack-compute")


async def test_heartbeat_many_registers_the_new_and_keeps_the_disabled(db):
    clock = Clock()
    records = ServiceRecords(db, Service, down_time=60, clock=clock)
    old = await records.register("host-1", "pocketstack-compute", "compute")
    await records.update(old.id, disabled=True, disabled_reason="maintenance")
    clock.now += timedelta(seconds=10)
    await records.heartbeat_many(["host-1", "host-2", "host-3", "host-2"],
                                 "pocketstack-compute", "compute")
    by_host = {r.host: r for r in await records.list(binary="pocketstack-compute")}
    assert sorted(by_host) == ["host-1", "host-2", "host-3"]
    assert (by_host["host-1"].id, by_host["host-1"].disabled) == (old.id, True)
    assert [by_host[h].report_count for h in sorted(by_host)] == [1, 1, 1]
    assert all(r.last_seen_up.replace(tzinfo=UTC) == clock.now for r in by_host.values())
    assert await records.up_hosts("pocketstack-compute") == {"host-2", "host-3"}


async def test_a_service_is_down_after_the_down_time_or_when_forced(db):
    clock = Clock()
    records = ServiceRecords(db, Service, down_time=60, clock=clock)
    await records.register("host-1", "pocketstack-compute", "compute")
    await records.register("host-2", "pocketstack-compute", "compute")
    clock.now += timedelta(seconds=45)
    await records.heartbeat("host-2", "pocketstack-compute")
    clock.now += timedelta(seconds=30)  # host-1 silent for 75 s, host-2 for 30 s
    by_host = {r.host: records.is_up(r) for r in await records.list()}
    assert by_host == {"host-1": False, "host-2": True}
    assert await records.up_hosts("pocketstack-compute") == {"host-2"}
    [host2] = await records.list(host="host-2")
    await records.update(host2.id, forced_down=True)
    assert await records.up_hosts("pocketstack-compute") == set()


async def test_disabled_hosts_are_not_offered_and_stay_disabled_across_restarts(db):
    records = ServiceRecords(db, Service)
    rec = await records.register("host-1", "pocketstack-compute", "compute")
    await records.update(rec.uuid, disabled=True, disabled_reason="maintenance")
    assert await records.up_hosts("pocketstack-compute") == set()
    again = await records.register("host-1", "pocketstack-compute", "compute")
    assert (again.id, again.disabled, again.disabled_reason) == (rec.id, True, "maintenance")
    with pytest.raises(ValueError):
        await records.update(rec.id, host="elsewhere")


async def test_get_update_delete_unknown_is_not_found(db):
    records = ServiceRecords(db, Service)
    rec = await records.register("h", "pocketstack-volume", "volume")
    assert (await records.get(rec.uuid)).id == rec.id
    await records.delete(rec.id)
    for op in (records.get(rec.id), records.update(rec.id, disabled=True),
               records.delete(rec.uuid)):
        with pytest.raises(NotFound):
            await op


async def test_runner_registers_heartbeats_serves_and_stops(db, rpc):
    records = ServiceRecords(db, Service)
    runner = ServiceRunner(rpc, binary="pocketstack-compute", host="host-1", topic="compute",
                           manager=Manager(), records=records, report_interval=0.05)
    await runner.start()
    assert await rpc.call(RequestContext.admin(), "compute.host-1", "ping") == "pong"
    assert await rpc.call(RequestContext.admin(), "compute", "ping") == "pong"

    async def reported() -> bool:
        return (await records.list())[0].report_count >= 3
    await eventually(reported)
    await runner.stop()
    count = (await records.list())[0].report_count
    await asyncio.sleep(0.2)
    assert (await records.list())[0].report_count == count  # no heartbeat after stop
    with pytest.raises(MessagingTimeout):
        await rpc.call(RequestContext.admin(), "compute.host-1", "ping", timeout=0.2)


async def test_runner_registers_again_when_its_record_was_deleted(db, rpc):
    records = ServiceRecords(db, Service)
    runner = ServiceRunner(rpc, binary="pocketstack-compute", host="host-1", topic="compute",
                           records=records, report_interval=0.05)
    await runner.start()
    await records.delete((await records.list())[0].id)

    async def back() -> bool:
        return len(await records.list()) == 1
    await eventually(back)
    await runner.stop()


async def test_graceful_stop_finishes_requests_in_flight(db, rpc):
    manager = Manager()
    runner = ServiceRunner(rpc, binary="pocketstack-scheduler", host="h", topic="scheduler",
                           manager=manager)
    await runner.start()
    call = asyncio.create_task(rpc.call(RequestContext.admin(), "scheduler", "hold"))
    await manager.started.wait()
    stopping = asyncio.create_task(runner.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()
    manager.release.set()
    await stopping
    assert await call == "held"


async def test_periodic_tasks_run_with_jitter_and_survive_failures(rpc):
    runs: list[float] = []
    began = time.monotonic()

    async def tick(ctxt: RequestContext) -> None:
        assert ctxt.is_admin
        runs.append(time.monotonic() - began)
        if len(runs) == 2:
            raise RuntimeError("a bad run")

    task = PeriodicTask("tick", tick, interval=0.1, jitter=0.5)
    runner = ServiceRunner(None, binary="pocketstack-compute", host="h", periodic=[task],
                           rng=random.Random(7))
    await runner.start()

    async def five_runs() -> bool:
        return len(runs) >= 5
    await eventually(five_runs)
    await runner.stop()
    gaps = [b - a for a, b in zip([0.0, *runs], runs, strict=False)]
    assert all(0.095 <= gap < 0.3 for gap in gaps), gaps  # interval + up to 50 %
    assert len({round(g, 3) for g in gaps}) > 1  # jittered, not fixed
    stopped_at = len(runs)
    await asyncio.sleep(0.3)
    assert len(runs) == stopped_at


def test_next_wait_stays_within_the_jitter():
    task = PeriodicTask("t", lambda c: asyncio.sleep(0), interval=60, jitter=0.2)
    rng = random.Random(1)
    waits = [task.next_wait(rng) for _ in range(200)]
    assert 60 <= min(waits) and max(waits) <= 72 and max(waits) - min(waits) > 5
