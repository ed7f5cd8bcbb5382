"""Ports created per second with automatic IP allocation, as the subnet fills.

The network service's real app and database, in process (httpx over ASGI, a
test token validator): one /16 subnet; at each fill level (ports already on
the subnet) it times POST /v2.0/ports with no fixed_ips at concurrency 1 and
32, then tops the subnet up to the next level with the bulk API
(POST {"ports": [...]}, 500 per request, one transaction each) and deletes
nothing. The project's port quota is unlimited (-1), so the figures are the
API + IPAM cost, not the quota count.

    PYTHONPATH=. python benchmarks/ports.py                  # SQLite in a temp dir
    PYTHONPATH=. python benchmarks/ports.py --postgres       # a throwaway PostgreSQL
    PYTHONPATH=. python benchmarks/ports.py --fills 0,10000,60000 --ports 300
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable

import httpx

from pocketstack.config import NetworkConfig
from pocketstack.core.auth import AuthMiddleware
from pocketstack.core.context import RequestContext
from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.core.web import neutron_errors
from pocketstack.network import api, policies
from pocketstack.network.agent.noop import NoopAgent
from pocketstack.network.service import NetworkService
from pocketstack.network.unit import MIGRATIONS

ADMIN = RequestContext(user_id="bench", project_id="bench", roles=["admin", "member", "reader"])
BULK = 500


async def validate(token: str) -> RequestContext:
    return ADMIN


async def timed(n: int, concurrency: int,
                make: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """Ports per second and per CPU-second of this process (the database thread
    included) for `n` creations, `concurrency` at a time."""
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await make()

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return n / (time.perf_counter() - began), n / (time.process_time() - cpu)


async def run(url: str, fills: list[int], n: int) -> list[tuple[int, tuple, tuple]]:
    db = Database(url, MIGRATIONS)
    await db.start()
    svc = NetworkService(db, NetworkConfig(), Enforcer(policies.DEFAULTS))
    svc.notifier = NoopAgent(svc)
    app = AuthMiddleware(api.build_app(svc), validate, neutron_errors, public=api.is_public)
    rows = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://bench/v2.0",
                                 headers={"X-Auth-Token": "t"}, timeout=600) as http:
        await http.put("/quotas/bench", json={"quota": {"port": -1}})
        net = (await http.post("/networks", json={"network": {"name": "b"}})).json()["network"]
        await http.post("/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.0.0.0/16"}})
        body = {"port": {"network_id": net["id"]}}

        async def one() -> None:
            r = await http.post("/ports", json=body)
            assert r.status_code == 201, r.text

        held = 0
        for fill in fills:
            began = time.perf_counter()
            while held < fill:
                batch = min(BULK, fill - held)
                r = await http.post("/ports", json={"ports": [{"network_id": net["id"]}]
                                                     * batch})
                assert r.status_code == 201, r.text
                held += batch
            if fill:
                print(f"  (bulk fill to {held}: {time.perf_counter() - began:.0f}s)", flush=True)
            c1 = await timed(n, 1, one)
            c32 = await timed(n, 32, one)
            rows.append((held, c1, c32))
            print(f"  {held:>6} held: c=1 {c1[0]:6.1f}/s ({c1[1]:6.1f}/CPU-s), "
                  f"c=32 {c32[0]:6.1f}/s ({c32[1]:6.1f}/CPU-s)", flush=True)
            held += 2 * n
    await db.close()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fills", default="0,10000,50000",
                   help="ports already on the subnet before each measurement")
    p.add_argument("--ports", type=int, default=300, help="ports timed per measurement")
    p.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    args = p.parse_args()
    fills = [int(x) for x in args.fills.split(",")]
    cluster = None
    if args.postgres:
        from pocketstack.testing.postgres import PostgresCluster

        cluster = PostgresCluster.start()
        url = cluster.database_url("bench").replace("{service}", "network")
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='ports-bench-')}/network.db"
    print(f"ports/s with automatic IPv4 allocation on a /16 ({url.split(':')[0]}):")
    try:
        rows = asyncio.run(run(url, fills, args.ports))
    finally:
        if cluster is not None:
            cluster.stop()
    base = rows[0]
    for held, c1, c32 in rows[1:]:
        print(f"  {held} held vs {base[0]}: per CPU-s c=1 x{c1[1] / base[1][1]:.2f}, "
              f"c=32 x{c32[1] / base[2][1]:.2f}; per s c=1 x{c1[0] / base[1][0]:.2f}, "
              f"c=32 x{c32[0] / base[2][0]:.2f}")


if __name__ == "__main__":
    main()
