"""RPC figures: call round trips per second with p50/p99 latency at concurrency
1 and 64, and casts per second, on the local and the RabbitMQ transports, and
the same for OpenStack's oslo.messaging over the same (throwaway) RabbitMQ.

    python benchmarks/rpc.py [--duration 3] [--casts 5000] [--oslo-python /tmp/oslo-venv/bin/python]

The local transport runs client and server in this process (one core; its
calls per CPU-second of the process are printed too, as the machine is
shared and wall-clock rates swing with the other load). Over
RabbitMQ the server is a separate process, as in a real cloud, for both.
oslo.messaging runs from its own venv (`python -m venv /tmp/oslo-venv &&
/tmp/oslo-venv/bin/pip install oslo.messaging`); without it, its rows are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import RPC, LocalTransport, Target
from pocketstack.core.rpc.rabbit import RabbitTransport
from pocketstack.testing.rabbitmq import RabbitBroker

HERE = Path(__file__).resolve().parent
PAYLOAD = {"name": "instance-0001", "flavor": {"vcpus": 1, "ram": 512}, "tags": ["a", "b"]}
CTX = RequestContext(user_id="u", project_id="p", roles=["member", "reader"])


class Manager:
    def __init__(self) -> None:
        self.casts = 0

    async def echo(self, ctxt: RequestContext, value: dict) -> dict:
        return value

    async def note(self, ctxt: RequestContext, value: dict) -> None:
        self.casts += 1

    async def count(self, ctxt: RequestContext) -> int:
        return self.casts


async def measure_calls(rpc: RPC, topic: str, concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    deadline = time.monotonic() + duration

    async def worker() -> None:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            await rpc.call(CTX, topic, "echo", value=PAYLOAD)
            latencies.append(time.perf_counter() - began)

    began, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    latencies.sort()
    return {"rate": len(latencies) / elapsed, "per_cpu_second": len(latencies) / cpu,
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


async def measure_casts(rpc: RPC, topic: str, count: int) -> dict:
    start = await rpc.call(CTX, topic, "count")
    began = time.monotonic()
    sem = asyncio.Semaphore(64)

    async def one() -> None:
        async with sem:
            await rpc.cast(CTX, topic, "note", value=PAYLOAD)

    await asyncio.gather(*(one() for _ in range(count)))
    while await rpc.call(CTX, topic, "count") < start + count:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    return {"rate": count / (time.monotonic() - began)}


async def measure(rpc: RPC, topic: str, duration: float, casts: int) -> dict:
    await rpc.call(CTX, topic, "echo", value=PAYLOAD)  # warm up
    return {"call_c1": await measure_calls(rpc, topic, 1, duration),
            "call_c64": await measure_calls(rpc, topic, 64, duration),
            "cast": await measure_casts(rpc, topic, casts)}


async def bench_local(duration: float, casts: int) -> dict:
    rpc = RPC(LocalTransport(), timeout=30)
    server = await rpc.serve(Target("bench", server="bench"), Manager())
    try:
        return await measure(rpc, "bench", duration, casts)
    finally:
        await server.stop()
        await rpc.close()


async def bench_rabbit(url: str, duration: float, casts: int) -> dict:
    topic = f"bench-{uuid.uuid4().hex[:6]}"
    with Server([sys.executable, __file__, "serve", url, topic]):
        transport = RabbitTransport(url)
        await transport.connect()
        rpc = RPC(transport, timeout=30)
        try:
            return await measure(rpc, topic, duration, casts)
        finally:
            await rpc.close()


def bench_oslo(python: str, url: str, duration: float, casts: int) -> dict:
    topic = f"oslo-{uuid.uuid4().hex[:6]}"
    script = str(HERE / "rpc_oslo.py")
    with Server([python, script, "serve", url, topic]):
        out = subprocess.run([python, script, "client", url, topic, str(duration), str(casts)],
                             check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    """A server subprocess that says "ready", stopped by closing its stdin, then by PID."""

    def __init__(self, argv: list[str]):
        self.argv = argv

    def __enter__(self) -> Server:
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env, start_new_session=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.__exit__()
            raise RuntimeError(f"server {self.argv} did not start: {line!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def serve(url: str, topic: str) -> None:
    transport = RabbitTransport(url)
    await transport.connect()
    rpc = RPC(transport, timeout=30)
    server = await rpc.serve(Target(topic, server="bench"), Manager())
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()
    await rpc.close()


def run(coro):  # noqa: ANN001, ANN201
    """On uvloop, as `pocketstack up` (uvicorn) runs; plain asyncio without it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def table(results: dict[str, dict]) -> str:
    rows = ["| transport | calls/s c=1 | p50 / p99 ms c=1 | calls/s c=64 | p50 / p99 ms c=64 "
            "| casts/s |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        c1, c64 = r["call_c1"], r["call_c64"]
        rows.append(f"| {name} | {c1['rate']:,.0f} | {c1['p50_ms']:.2f} / {c1['p99_ms']:.2f} "
                    f"| {c64['rate']:,.0f} | {c64['p50_ms']:.2f} / {c64['p99_ms']:.2f} "
                    f"| {r['cast']['rate']:,.0f} |")
    return "\n".join(rows)


def ratios(ours: dict, oslo: dict) -> str:
    def ratio(key: str) -> str:
        return f"{ours[key]['rate'] / oslo[key]['rate']:.2f}x"
    return (f"rabbit / oslo.messaging: calls c=1 {ratio('call_c1')}, "
            f"calls c=64 {ratio('call_c64')}, casts {ratio('cast')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per call measure")
    parser.add_argument("--casts", type=int, default=5000)
    parser.add_argument("--oslo-python", default="/tmp/oslo-venv/bin/python")
    args = parser.parse_args()
    results: dict[str, dict] = {"local": run(bench_local(args.duration, args.casts))}
    broker = RabbitBroker.start()
    try:
        results["rabbit"] = run(bench_rabbit(broker.url, args.duration, args.casts))
        if Path(args.oslo_python).exists():
            results["oslo.messaging (rabbit)"] = bench_oslo(
                args.oslo_python, broker.url, args.duration, args.casts)
    finally:
        broker.stop()
    print(table(results))
    local = results["local"]
    print(f"\nlocal, per CPU-second of this one-threaded process (client and server): "
          f"{local['call_c1']['per_cpu_second']:,.0f} calls c=1, "
          f"{local['call_c64']['per_cpu_second']:,.0f} calls c=64")
    if "oslo.messaging (rabbit)" in results:
        print()
        print(ratios(results["rabbit"], results["oslo.messaging (rabbit)"]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        run(serve(sys.argv[2], sys.argv[3]))
    else:
        main()
