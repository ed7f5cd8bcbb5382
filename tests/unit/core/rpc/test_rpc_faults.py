"""Faults RPC survives: a broker restart while calls and casts flow, a server
killed in the middle of a call. (Malformed and oversized messages: the
contract suite.)"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from pocketstack.core.context import RequestContext
from pocketstack.core.rpc import RPC, MessagingTimeout, RPCError, Target
from pocketstack.core.rpc.rabbit import RabbitTransport

CTX = RequestContext.admin()


class Counter:
    def __init__(self) -> None:
        self.seen: list[int] = []
        self.started = asyncio.Event()

    async def add(self, ctxt: RequestContext, n: int) -> int:
        self.seen.append(n)
        return n * 2

    async def slow(self, ctxt: RequestContext, seconds: float) -> str:
        self.started.set()
        await asyncio.sleep(seconds)
        return "done"


async def eventually(check, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def rabbit_rpc(broker, **kw) -> RPC:
    transport = RabbitTransport(broker.url, heartbeat=5, max_backoff=0.5)
    await transport.connect()
    return RPC(transport, **kw)


async def test_a_server_aborted_mid_call_leaves_the_caller_to_time_out(rpc):
    name = f"faults-{uuid.uuid4().hex[:8]}"
    manager = Counter()
    server = await rpc.serve(name, manager)
    call = asyncio.create_task(rpc.call(CTX, name, "slow", seconds=30, timeout=1.0))
    await asyncio.wait_for(manager.started.wait(), 5)
    await server.abort()
    began = time.monotonic()
    with pytest.raises(MessagingTimeout, match="slow"):
        await call
    assert time.monotonic() - began < 2.0


SERVER_SCRIPT = """
import asyncio, sys
from pocketstack.core.rpc import RPC, Target
from pocketstack.core.rpc.rabbit import RabbitTransport

class Slow:
    async def slow(self, ctxt, seconds: float) -> str:
        print("started", flush=True)
        await asyncio.sleep(seconds)
        return "done"

async def main():
    transport = RabbitTransport(sys.argv[1], heartbeat=5)
    await transport.connect()
    await RPC(transport).serve(Target(sys.argv[2], server="doomed"), Slow())
    print("ready", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.mark.rabbit
async def test_a_server_killed_mid_call_leaves_the_caller_to_time_out(rabbit_broker):
    name = f"faults-{uuid.uuid4().hex[:8]}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER_SCRIPT, rabbit_broker.url, name,
        stdout=subprocess.PIPE, start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    rpc = await rabbit_rpc(rabbit_broker)
    try:
        assert await proc.stdout.readline() == b"ready\n"
        call = asyncio.create_task(rpc.call(CTX, name, "slow", seconds=60, timeout=3.0))
        assert await proc.stdout.readline() == b"started\n"
        os.killpg(proc.pid, signal.SIGKILL)
        began = time.monotonic()
        # another server of the topic gets the request back from the broker but never
        # runs it: a call runs at most once
        survivor = Counter()
        server = await rpc.serve(name, survivor)
        with pytest.raises(MessagingTimeout, match=f"slow on {name}"):
            await call
        assert time.monotonic() - began < 3.5
        assert not survivor.started.is_set()
        assert await rpc.call(CTX, name, "add", n=2) == 4
        await server.stop()
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        await rpc.close()


@pytest.mark.rabbit
async def test_broker_restart_while_calls_and_casts_flow(rabbit_broker):
    name = f"restart-{uuid.uuid4().hex[:8]}"
    server_side = await rabbit_rpc(rabbit_broker)
    client_side = await rabbit_rpc(rabbit_broker, timeout=30.0)
    manager = Counter()
    server = await server_side.serve(Target(name, server="h1"), manager)
    confirmed: list[int] = []
    outcomes: list[tuple[str, float]] = []
    stop = asyncio.Event()

    async def casts() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                await client_side.cast(CTX, name, "add", n=n)
                confirmed.append(n)
            except RPCError:
                pass
            await asyncio.sleep(0.01)

    async def calls() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            began = time.monotonic()
            try:
                assert await client_side.call(CTX, name, "add", n=-n, timeout=2.0) == -2 * n
                outcomes.append(("ok", time.monotonic() - began))
            except RPCError as exc:  # MessagingTimeout, or TransportError
                outcomes.append((type(exc).__name__, time.monotonic() - began))

    flows = [asyncio.create_task(casts()), asyncio.create_task(calls())]
    try:
        await asyncio.sleep(1.0)
        before = len(confirmed)
        await asyncio.to_thread(rabbit_broker.kill)  # the flows go on meanwhile
        await asyncio.sleep(1.0)
        rabbit_broker.spawn()  # from the main thread, so it dies with this process
        await asyncio.to_thread(rabbit_broker.wait_ready)
        await asyncio.sleep(2.0)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*flows), 35)

        # every confirmed cast arrives (some twice: at least once), none lost
        await eventually(lambda: set(confirmed) <= set(manager.seen), within=20)
        assert len(confirmed) > before  # casts went on during and after the restart
        # every call got its answer or a clear error within its timeout
        assert all(took < 3.0 for _, took in outcomes), outcomes  # timeout 2 s
        assert outcomes[0][0] == "ok" and outcomes[-1][0] == "ok"
        assert {kind for kind, _ in outcomes} <= {"ok", "MessagingTimeout"}
        # and the server consumes again by itself
        assert await client_side.call(CTX, name, "add", n=21, timeout=5) == 42
        assert await client_side.call(CTX, f"{name}.h1", "add", n=1, timeout=5) == 2
    finally:
        stop.set()
        for flow in flows:
            flow.cancel()
        await server.stop()
        await server_side.close()
        await client_side.close()


@pytest.mark.rabbit
async def test_a_dropped_connection_comes_back_with_its_consumers(rabbit_broker):
    name = f"drop-{uuid.uuid4().hex[:8]}"
    server_side = await rabbit_rpc(rabbit_broker)
    client_side = await rabbit_rpc(rabbit_broker)
    server = await server_side.serve(Target(name, server="h1"), Counter())
    try:
        assert await client_side.call(CTX, name, "add", n=1) == 2
        for side in (server_side, client_side):  # as a network cut or the broker would
            await side.transport._conn.close()
        assert await client_side.call(CTX, name, "add", n=2, timeout=10) == 4
        assert await client_side.call(CTX, f"{name}.h1", "add", n=3, timeout=10) == 6
    finally:
        await server.stop()
        await server_side.close()
        await client_side.close()


@pytest.mark.rabbit
async def test_heartbeats_notice_a_broker_that_stopped_answering(rabbit_broker):
    """A frozen broker keeps its TCP connections open; only heartbeats tell."""
    name = f"frozen-{uuid.uuid4().hex[:8]}"
    transport = RabbitTransport(rabbit_broker.url, heartbeat=1, max_backoff=0.5)
    await transport.connect()
    rpc = RPC(transport, timeout=5.0)
    server = await rpc.serve(name, Counter())
    assert await rpc.call(CTX, name, "add", n=1) == 2
    os.killpg(rabbit_broker.server.pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        with pytest.raises(MessagingTimeout):
            await rpc.call(CTX, name, "add", n=2, timeout=1.0)
        assert time.monotonic() - began < 2.0
        await eventually(lambda: not transport._ready.is_set(), within=10)  # noticed
    finally:
        os.killpg(rabbit_broker.server.pid, signal.SIGCONT)
    try:
        assert await rpc.call(CTX, name, "add", n=3, timeout=15) == 6  # and back by itself
    finally:
        await server.stop()
        await rpc.close()
