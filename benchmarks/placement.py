"""Placement figures: GET /allocation_candidates latency at 100, 1,000 and 10,000
providers, and claims per second at concurrency 1 and 50.

The real app and a SQLite database in a temporary directory, reached in-process
through httpx (no network). Providers are loaded straight into the tables (as
10,000 compute agents would have reported them): each has VCPU 16 (ratio 4.0),
MEMORY_MB 65536 and DISK_GB 1000, two traits, and one existing allocation.

    python benchmarks/placement.py [--sizes 100,1000,10000] [--requests 50]
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
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pocketstack.core.context import RequestContext  # noqa: E402
from pocketstack.core.db import Database  # noqa: E402
from pocketstack.core.policy import Enforcer  # noqa: E402
from pocketstack.placement import api, models, policy  # noqa: E402
from pocketstack.placement.client import PlacementClient  # noqa: E402
from pocketstack.placement.service import Placement  # noqa: E402
from pocketstack.placement.unit import MIGRATIONS  # noqa: E402

QUERY = "resources=VCPU:2,MEMORY_MB:2048,DISK_GB:20&required=COMPUTE_NODE,!COMPUTE_STATUS_DISABLED"


async def validate(token: str) -> RequestContext:
    return RequestContext(user_id="bench", project_id="bench", roles=["admin", "service"])


async def load(svc: Placement, n: int) -> list[str]:
    """n providers with inventory, traits and one allocation each; their uuids."""
    async with svc.write() as s:
        classes = dict((await s.execute(select(models.ResourceClass.name,
                                                models.ResourceClass.id))).all())
        traits = dict((await s.execute(select(models.Trait.name, models.Trait.id))).all())
        uuids = [str(uuid.uuid4()) for _ in range(n)]
        await s.execute(insert(models.ResourceProvider), [
            {"uuid": u, "name": f"host-{u}", "generation": 1} for u in uuids])
        ids = dict((await s.execute(select(models.ResourceProvider.uuid,
                                           models.ResourceProvider.id))).all())
        await s.execute(models.ResourceProvider.__table__.update().values(
            root_provider_id=models.ResourceProvider.__table__.c.id))
        inv = []
        for u in uuids:
            for rc, total, ratio, used in (("VCPU", 16, 4.0, 2), ("MEMORY_MB", 65536, 1.0, 2048),
                                           ("DISK_GB", 1000, 1.0, 20)):
                inv.append({"resource_provider_id": ids[u], "resource_class_id": classes[rc],
                            "total": total, "reserved": 0, "min_unit": 1, "max_unit": total,
                            "step_size": 1, "allocation_ratio": ratio, "used": used})
        await s.execute(insert(models.Inventory), inv)
        await s.execute(insert(models.ProviderTrait), [
            {"resource_provider_id": ids[u], "trait_id": traits[t]}
            for u in uuids for t in ("COMPUTE_NODE", "HW_CPU_X86_AVX2")])
        await s.execute(insert(models.Consumer), [
            {"uuid": str(uuid.uuid4()), "project_id": "p", "user_id": "u", "generation": 1,
             "consumer_type": "INSTANCE"} for _ in uuids])
        consumers = (await s.scalars(select(models.Consumer.id))).all()
        await s.execute(insert(models.Allocation), [
            {"consumer_id": c, "resource_provider_id": ids[u], "resource_class_id": classes[rc],
             "used": used}
            for c, u in zip(consumers, uuids, strict=True)
            for rc, used in (("VCPU", 2), ("MEMORY_MB", 2048), ("DISK_GB", 20))])
    return uuids


async def latency(http: httpx.AsyncClient, url: str, requests: int) -> tuple[float, float, int]:
    times, found = [], 0
    for _ in range(requests):
        t = time.perf_counter()
        r = await http.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
        found = len(r.json()["allocation_requests"])
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))], found


async def claims_per_second(client: PlacementClient, uuids: list[str], concurrency: int,
                            total: int) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for i in queue:
            ok = await client.claim(str(uuid.uuid4()), {uuids[i % len(uuids)]: {"VCPU": 1}},
                                    "p", "u")
            assert ok

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - t)


async def run_size(n: int, requests: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        svc = Placement(Database(f"sqlite+aiosqlite:///{tmp}/placement.db", MIGRATIONS),
                        Enforcer(policy.DEFAULTS))
        await svc.start()
        uuids = await load(svc, n)
        headers = {"X-Auth-Token": "bench", "OpenStack-API-Version": "placement 1.39"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.build_app(
                svc, validate)), base_url="http://placement", headers=headers) as http:
            for label, url in (("limit=1000", f"/allocation_candidates?{QUERY}&limit=1000"),
                               ("limit=50", f"/allocation_candidates?{QUERY}&limit=50"),
                               ("no limit", f"/allocation_candidates?{QUERY}")):
                await http.get(url)  # warm up
                p50, p99, found = await latency(http, url, requests)
                print(f"candidates  providers={n:>6}  {label:<10}  p50={p50:7.1f} ms  "
                      f"p99={p99:7.1f} ms  candidates={found}")
            client = PlacementClient(http, "http://placement", "bench")
            for concurrency in (1, 50):
                rate = await claims_per_second(client, uuids, concurrency, 300)
                print(f"claims      providers={n:>6}  concurrency={concurrency:<3} "
                      f"{rate:7.0f} claims/s")
        await svc.stop()


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="100,1000,10000")
    p.add_argument("--requests", type=int, default=50)
    args = p.parse_args()
    for n in (int(x) for x in args.sizes.split(",")):
        await run_size(n, args.requests)


if __name__ == "__main__":
    asyncio.run(main())
