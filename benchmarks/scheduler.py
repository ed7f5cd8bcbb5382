"""Scheduler figures: placement decisions per second and decision latency at
100, 1,000 and 10,000 hosts, sequential and at concurrency 50.

A decision is what the scheduler does for one instance before it records the
host: select (filter and weigh, selection.py) on the in-memory host view,
then claim on the chosen host through the real Placement app (in-process
httpx, SQLite in a temporary directory) with the same RestPlacementAPI
compute uses; a refused claim tries the next host, as the scheduler does.
Hosts are loaded straight into placement (benchmarks/placement.py's `load`)
and the view gets one HostReport per provider. Each size runs the sampling
selection (`scheduler_hosts_to_weigh`=100, the default) and, for contrast,
the full walk (0: filter and weigh every host). CPU is the process's (all
threads) per decision; `select` is the selection alone, timed apart.

    python benchmarks/scheduler.py [--sizes 100,1000,10000] [--decisions 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.placement import load, validate  # noqa: E402
from pocketstack.compute.remote.placement import RestPlacementAPI  # noqa: E402
from pocketstack.compute.scheduler.filters import FILTERS  # noqa: E402
from pocketstack.compute.scheduler.host_state import HostStates  # noqa: E402
from pocketstack.compute.scheduler.messages import (  # noqa: E402
    FlavorSpec,
    HostReport,
    RequestSpec,
)
from pocketstack.compute.scheduler.selection import Selector  # noqa: E402
from pocketstack.compute.scheduler.weighers import WEIGHERS  # noqa: E402
from pocketstack.config import ComputeConfig  # noqa: E402
from pocketstack.core.db import Database  # noqa: E402
from pocketstack.core.policy import Enforcer  # noqa: E402
from pocketstack.placement import api, policy  # noqa: E402
from pocketstack.placement.service import Placement  # noqa: E402
from pocketstack.placement.unit import MIGRATIONS  # noqa: E402

SPEC = RequestSpec(project_id="p", user_id="u", flavor=FlavorSpec(
    id="1", name="m1.small", vcpus=1, ram=2048, disk=20))


def host_view(uuids: list[str], settings: ComputeConfig) -> HostStates:
    """What the scheduler knows: the providers as `benchmarks/placement.py` loaded them
    (VCPU 16 at 4.0, 64 GiB, 1 TB, one 2-VCPU instance on each)."""
    states = HostStates(cpu_ratio=4.0, ram_ratio=1.0, disk_ratio=1.0, down_after=3600)
    for i, rp in enumerate(uuids):
        states.update(HostReport(host=f"host-{i}", node=f"host-{i}", provider_id=rp,
                                 vcpus=16, memory_mb=65536, disk_gb=1000,
                                 hypervisor_type="fake"))
        states.placed(f"existing-{i}", f"host-{i}", {"VCPU": 2, "MEMORY_MB": 2048,
                                                     "DISK_GB": 20})
    return states


def selector(states: HostStates, settings: ComputeConfig, enough: int) -> Selector:
    return Selector(states, [FILTERS[n](states) for n in settings.scheduler_filters],
                    [(WEIGHERS[n](), settings.weigher_multipliers.get(n, 1.0))
                     for n in settings.scheduler_weighers], enough)


async def decide(sel: Selector, placement: RestPlacementAPI) -> tuple[float, float]:
    """One decision, as SchedulerManager._schedule_one makes it: (wall ms, select ms)."""
    began = time.perf_counter()
    ranked = sel.select(SPEC)
    chosen = time.perf_counter()
    consumer, resources = str(uuid.uuid4()), SPEC.resources()
    for host in ranked:
        sel.states.placed(consumer, host.host, resources)
        if await placement.claim(consumer, host.provider_id, resources, "p", "u"):
            break
        sel.states.removed(consumer)
    else:
        raise AssertionError("no claim succeeded")
    return (time.perf_counter() - began) * 1000, (chosen - began) * 1000


async def run(sel: Selector, placement: RestPlacementAPI, total: int,
              concurrency: int) -> dict[str, float]:
    times: list[float] = []
    selects: list[float] = []
    todo = iter(range(total))

    async def worker() -> None:
        for _ in todo:
            wall, select = await decide(sel, placement)
            times.append(wall)
            selects.append(select)

    t, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    times.sort()
    return {"rate": total / wall, "p50": statistics.median(times),
            "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            "cpu": cpu * 1000 / total, "select": statistics.mean(selects)}


def select_only(sel: Selector, n: int) -> float:
    """CPU microseconds of one selection alone (nothing claimed, the view unchanged)."""
    cpu = time.process_time()
    for _ in range(n):
        sel.select(SPEC)
    return (time.process_time() - cpu) * 1e6 / n


async def run_size(n: int, decisions: int) -> None:
    settings = ComputeConfig()
    with tempfile.TemporaryDirectory() as tmp:
        svc = Placement(Database(f"sqlite+aiosqlite:///{tmp}/placement.db", MIGRATIONS),
                        Enforcer(policy.DEFAULTS))
        await svc.start()
        uuids = await load(svc, n)
        transport = httpx.ASGITransport(app=api.build_app(svc, validate))
        async with httpx.AsyncClient(transport=transport) as http:
            placement = RestPlacementAPI(http, "http://placement", _token)
            for enough, label in ((100, "sample 100"), (0, "every host")):
                states = host_view(uuids, settings)
                sel = selector(states, settings, enough)
                us = select_only(sel, 200 if n <= 1000 else 20)
                for concurrency in (1, 50):
                    r = await run(sel, placement, decisions, concurrency)
                    print(f"hosts={n:>6}  {label:<10}  c={concurrency:<3} "
                          f"{r['rate']:6.0f} decisions/s  p50={r['p50']:7.1f} ms  "
                          f"p99={r['p99']:7.1f} ms  cpu={r['cpu']:5.2f} ms/decision  "
                          f"select alone={us / 1000:6.3f} ms cpu", flush=True)
        await svc.stop()


async def _token() -> str:
    return "bench"


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="100,1000,10000")
    p.add_argument("--decisions", type=int, default=300)
    args = p.parse_args()
    for n in (int(x) for x in args.sizes.split(",")):
        await run_size(n, args.decisions)


if __name__ == "__main__":
    asyncio.run(main())
