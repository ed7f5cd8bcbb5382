"""Metadata requests per second, and the server's CPU per request.

Starts its own `pocketstack up` (fake driver) twice: with the lookup cache
(metadata.cache_ttl 15 s, the default) and without it (0: every request
resolves network + address -> port -> server -> key, subnets, floating IPs
through the network and compute APIs). Boots one server, then times GET
/metadata/openstack/latest/meta_data.json as the proxy sends it (signed
headers) at concurrency 1 and 16. Then the proxy hop: `/` (answered without
a lookup) directly and through a MetadataProxy on a loopback socket in this
process.

    PYTHONPATH=. python benchmarks/metadata.py [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from benchmarks.boot import boot_all, cpu_seconds, prepare, start_cloud, token
from pocketstack.metadata import signature
from pocketstack.metadata.proxy import MetadataProxy


async def timed(n: int, concurrency: int, pid: int,
                one: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    """(requests per second, server CPU ms per request)."""
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    began, cpu = time.perf_counter(), cpu_seconds(pid)
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return n / (time.perf_counter() - began), (cpu_seconds(pid) - cpu) * 1000 / n


async def measure(base: str, pid: int, headers: dict[str, str], n: int,
                  proxy_too: bool) -> dict[str, tuple[float, float]]:
    out = {}
    async with httpx.AsyncClient(base_url=base + "/metadata", headers=headers,
                                 limits=httpx.Limits(max_connections=32)) as c:
        async def md() -> None:
            (await c.get("/openstack/latest/meta_data.json")).raise_for_status()

        async def root() -> None:
            (await c.get("/")).raise_for_status()

        await md()  # warm the cache (or not)
        out["meta_data.json c=1"] = await timed(n, 1, pid, md)
        out["meta_data.json c=16"] = await timed(n, 16, pid, md)
        if proxy_too:
            out["/ direct c=1"] = await timed(n, 1, pid, root)
            out["/ via proxy c=1"] = await via_proxy(base, pid, headers, n)
    return out


async def via_proxy(base: str, pid: int, headers: dict[str, str],
                    n: int) -> tuple[float, float]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    async with httpx.AsyncClient() as upstream:
        proxy = MetadataProxy(upstream, base + "/metadata", "bench")
        await proxy.serve(sock, "net")
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        async with httpx.AsyncClient() as guest:
            async def one() -> None:
                (await guest.get(url)).raise_for_status()

            try:
                return await timed(n, 1, pid, one)
            finally:
                await proxy.stop("net")


def run(ttl: str, n: int, proxy_too: bool) -> dict[str, tuple[float, float]]:
    os.environ["POCKETSTACK_METADATA_CACHE_TTL"] = ttl
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        proc, base, clouds = start_cloud(state, 1)
        try:
            tok, image, net = prepare(base, clouds)
            _, (server,) = asyncio.run(boot_all(base, tok, image, net, 1, 1))
            admin, _ = token(base, clouds["pocketstack-admin"])
            (port,) = httpx.get(f"{base}/networking/v2.0/ports", params={"device_id": server},
                                headers={"X-Auth-Token": admin}).json()["ports"]
            secret = (state / "metadata" / "shared_secret").read_text().strip()
            headers = signature.headers(secret, net, port["fixed_ips"][0]["ip_address"])
            return asyncio.run(measure(base, proc.pid, headers, n, proxy_too))
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=500)
    args = ap.parse_args()
    rows = {"cache 15 s": run("15", args.requests, True),
            "no cache": run("0", args.requests, False)}
    print(f"{args.requests} requests each; server CPU from /proc/<pid>/stat")
    print("| cache | request | req/s | server CPU ms/req |")
    print("|---|---|---:|---:|")
    for cache, results in rows.items():
        for what, (rate, cpu) in results.items():
            print(f"| {cache} | {what} | {rate:,.0f} | {cpu:.2f} |")
    hit, miss = rows["cache 15 s"], rows["no cache"]
    key = "meta_data.json c=1"
    print(f"a lookup costs x{miss[key][1] / hit[key][1]:.1f} the server CPU of a cached "
          f"answer; the proxy hop: x{hit['/ direct c=1'][0] / hit['/ via proxy c=1'][0]:.2f} "
          "the wall time of a direct `/`")


if __name__ == "__main__":
    main()
