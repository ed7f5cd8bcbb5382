"""Placement on a real PostgreSQL (a throwaway cluster this module starts and
stops by PID): claims racing on row locks never overcommit, and the API
exchanges behave as on SQLite."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import httpx
import pytest

from pocketstack.core.db import Database
from pocketstack.core.policy import Enforcer
from pocketstack.placement import api, policy
from pocketstack.placement.client import PlacementClient
from pocketstack.placement.service import Placement
from pocketstack.placement.unit import MIGRATIONS

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    data = tempfile.mkdtemp(prefix="placement-pg-")
    shutil.chown(data, "postgres", "postgres")
    subprocess.run(["initdb", "-D", data, "-A", "trust", "-U", "postgres"], user="postgres",
                   check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen(
        ["postgres", "-D", data, "-p", str(port), "-k", data, "-c",
         "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"],
        user="postgres", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        time.sleep(0.3)
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/placement_{{n}}"
    finally:
        os.kill(proc.pid, signal.SIGINT)  # fast shutdown
        proc.wait(30)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
async def pg_app(postgres_url, test_validator):
    svc = Placement(Database(postgres_url.format(n=uuid.uuid4().hex[:8]), MIGRATIONS),
                    Enforcer(policy.DEFAULTS))
    await svc.start()
    yield api.build_app(svc, test_validator)
    await svc.stop()


async def test_200_concurrent_claims_into_room_for_100(pg_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=pg_app)) as http:
        client = PlacementClient(http, "http://placement.test", "service")
        hosts = [await client.ensure_provider(str(uuid.uuid4()), f"h{i}") for i in range(4)]
        for host in hosts:
            await client.set_inventories(host.uuid, {
                "VCPU": {"total": 10, "allocation_ratio": 2.5}, "MEMORY_MB": {"total": 1000}})

        async def claim(i: int) -> bool:
            # Two providers per claim, in both orders, to provoke lock-order trouble.
            a, b = hosts[i % 4], hosts[(i + 1 + i % 2) % 4]
            return await client.claim(str(uuid.uuid4()), {
                a.uuid: {"VCPU": 1}, b.uuid: {"MEMORY_MB": 1}}, "p", "u")

        results = await asyncio.gather(*(claim(i) for i in range(200)))
        assert sum(results) == 100
        for host in hosts:
            used = await client.provider_usages(host.uuid)
            assert used["VCPU"] == 25
            allocations = await client.provider_allocations(host.uuid)
            assert sum(a.get("VCPU", 0) for a in allocations.values()) == 25


@pytest.mark.parametrize("name", ["allocation", "allocation-candidate", "inventory", "reshaper"])
async def test_gabbit_on_postgres(pg_app, run_gabbit, name):
    await run_gabbit(pg_app, name)
